import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { UsageError, type CliCommand } from '../../electron/cli/command';
import { runCli } from '../../electron/cli/main';
import { captureIO } from '../helpers/cli';

const root = path.resolve(__dirname, '../..');
const pkg = (await import('../../package.json', { with: { type: 'json' } })).default as { version: string };

describe('xen-pi-imager CLI', () => {
  it('prints its version', async () => {
    const io = captureIO({ cwd: root });
    expect(await runCli(['--version'], io)).toBe(0);
    expect(io.out.trim()).toBe(pkg.version);
  });

  it('lists every command in --help', async () => {
    const io = captureIO({ cwd: root });
    expect(await runCli(['--help'], io)).toBe(0);
    expect(io.out).toMatch(/^Usage: xen-pi-imager COMMAND/);
    expect(io.out).toMatch(/\bui\b.*browser mode/);
  });

  it('names an unknown command and exits 2', async () => {
    const io = captureIO({ cwd: root });
    expect(await runCli(['flahs'], io)).toBe(2);
    expect(io.err).toMatch(/unknown command "flahs"/);
  });

  it('shows a command usage for --help and for usage errors', async () => {
    const command: CliCommand = {
      name: 'demo',
      summary: 'demo',
      usage: 'Usage: xen-pi-imager demo --thing X',
      run: async () => {
        throw new UsageError('--thing is required.');
      },
    };
    const help = captureIO({ cwd: root });
    expect(await runCli(['demo', '--help'], help, [command])).toBe(0);
    expect(help.out).toContain('Usage: xen-pi-imager demo');
    const bad = captureIO({ cwd: root });
    expect(await runCli(['demo'], bad, [command])).toBe(2);
    expect(bad.err).toContain('--thing is required.');
    expect(bad.err).toContain('Usage: xen-pi-imager demo');
  });

  it('rejects an unknown option of a real command with exit 2', async () => {
    const io = captureIO({ cwd: root });
    expect(await runCli(['ui', '--prot', '80'], io)).toBe(2);
    expect(io.err).toMatch(/--prot/);
  });

  it('stops quietly when the reader of its output has gone (EPIPE), without a stack trace', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'electron/cli/index.ts'), 'help', 'flash'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy(); // as `xen-pi-imager help flash | true`: the pipe has no reader left
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    expect(err).not.toMatch(/EPIPE|^\s+at /m);
    expect(status).toBe(0);
  });

  it('takes a negative number as an option value and says it is out of range (exit 2)', async () => {
    for (const args of [
      ['ui', '--port', '-1'],
      ['ui', '--port=-1'],
    ]) {
      const io = captureIO({ cwd: root });
      expect(await runCli(args, io)).toBe(2);
      expect(io.err).toMatch(/^xen-pi-imager ui: --port must be a number from 0 to 65535, not "-1"\./);
    }
  });

  it('answers an unexpected failure with a sentence, and the stack only when asked for', async () => {
    const command: CliCommand = {
      name: 'demo',
      summary: 'demo',
      usage: 'Usage: xen-pi-imager demo',
      run: async () => JSON.parse('{') as number,
    };
    const io = captureIO({ cwd: root });
    expect(await runCli(['demo'], io, [command])).toBe(1);
    expect(io.err).toMatch(
      /unexpected error: .*JSON.*\n {2}This is a bug; please report it with the output of the same command run with XEN_PI_IMAGER_DEBUG=1\./,
    );
    expect(io.err).not.toMatch(/^\s+at /m);
    const debug = captureIO({ cwd: root, env: { XEN_PI_IMAGER_DEBUG: '1' } });
    expect(await runCli(['demo'], debug, [command])).toBe(1);
    expect(debug.err).toMatch(/^\s+at /m);
  });

  it('runs as the installed bin', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(root, 'bin', 'xen-pi-imager.cjs'), '--version']);
    expect(stdout.trim()).toBe(pkg.version);
  });
});
