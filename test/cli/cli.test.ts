import { execFile } from 'node:child_process';
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

  it('runs as the installed bin', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(root, 'bin', 'xen-pi-imager.cjs'), '--version']);
    expect(stdout.trim()).toBe(pkg.version);
  });
});
