// `xen-pi-imager try` and `fetch-parts`: usage, failures as exit statuses, and a real QEMU run as a child process.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../electron/cli/main';
import { checkQemu, findExecutable } from '../../electron/node/host-tools';
import { writeFakeParts } from '../services/emulator/fake-parts';
import { captureIO } from '../helpers/cli';

const appRoot = path.resolve(import.meta.dirname, '../..');
let dir: string;
let profileFile: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xpi-try-'));
  profileFile = writeFakeParts(dir);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const tryIO = (env: NodeJS.ProcessEnv = {}) =>
  captureIO({ env: { ...process.env, XEN_PI_IMAGER_HOME: path.join(dir, 'home'), ...env }, cwd: dir });

describe('xen-pi-imager try', () => {
  it('lists try and fetch-parts among the commands', async () => {
    const io = tryIO();
    expect(await runCli(['--help'], io)).toBe(0);
    expect(io.out).toMatch(/try\s+Boot a profile in QEMU/);
    expect(io.out).toMatch(/fetch-parts\s+Download Debian’s arm64 Xen/);
  });

  it('needs --profile and a sensible timeout (exit 2)', async () => {
    let io = tryIO();
    expect(await runCli(['try'], io)).toBe(2);
    expect(io.err).toContain('--profile FILE is required.');
    io = tryIO();
    expect(await runCli(['try', '--profile', 'p.json', '--timeout', '2'], io)).toBe(2);
    expect(io.err).toContain('--timeout must be a whole number of seconds from 5 to 3600');
  });

  it('says which packages to install when QEMU is missing (exit 1)', async () => {
    const io = tryIO({ XEN_PI_IMAGER_QEMU: '/nonexistent/qemu' });
    expect(await runCli(['try', '--profile', profileFile], io)).toBe(1);
    expect(io.err).toMatch(/not installed.*\n\s+Install the qemu-system-arm package/);
  });

  it('rejects a bad Xen version for fetch-parts (exit 2)', async () => {
    const io = tryIO();
    expect(await runCli(['fetch-parts', '--xen', 'latest'], io)).toBe(2);
    expect(io.err).toContain('--xen must be a version like 4.17');
  });

  it('takes the Dom0 kernel gzip’d or as the plain Image, nothing else (exit 2)', async () => {
    let io = tryIO();
    expect(await runCli(['fetch-parts', '--kernel', 'zstd'], io)).toBe(2);
    expect(io.err).toContain('--kernel must be gzip or image, not "zstd".');
    io = tryIO();
    expect(await runCli(['try', '--profile', profileFile, '--debian-parts', '--kernel', 'bz2'], io)).toBe(2);
    expect(io.err).toContain('--kernel must be gzip or image, not "bz2".');
  });

  it.skipIf(!checkQemu().available)(
    'runs QEMU as a child process and exits 1 with the milestone where time ran out',
    () => {
      const command = [
        process.execPath,
        '--import',
        'tsx',
        path.join(appRoot, 'electron/cli/index.ts'),
        'try',
        '--profile',
        profileFile,
        '--external-tftp',
        '--timeout',
        '5',
        '--json',
      ];
      // as root, a private network namespace guarantees no other test's TFTP server answers on port 69
      const isolated = process.getuid?.() === 0 && findExecutable('unshare') ? ['unshare', '-n', ...command] : command;
      const child = spawnSync(isolated[0]!, isolated.slice(1), {
        cwd: appRoot,
        env: { ...process.env, XEN_PI_IMAGER_HOME: path.join(dir, 'home') },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(child.status).toBe(1);
      const result = JSON.parse(child.stdout) as { ok: boolean; diagnosis: { kind: string; after: string; message: string } };
      expect(result.ok).toBe(false);
      expect(result.diagnosis).toMatchObject({ kind: 'timeout', after: 'stage1' });
      expect(result.diagnosis.message).toMatch(/within 5 s: it got stuck after “Stage 1/);
    },
    60_000,
  );
});
