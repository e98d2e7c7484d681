// `profile init|check` and `generate`: a default profile, its problems by JSON path, and a complete boot partition + TFTP root.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../electron/cli/command';
import { runCli } from '../../electron/cli/main';
import { readScriptImage } from '../../shared/boot/script-image';
import { arm64Head } from '../shared/boot/fixtures';

const work = mkdtempSync(path.join(tmpdir(), 'boot-files-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function cli(args: string[], env: Record<string, string> = { SOURCE_DATE_EPOCH: '1700000000' }) {
  const io: CliIO & { out: string; err: string } = {
    out: '',
    err: '',
    stdout: (t) => void (io.out += t),
    stderr: (t) => void (io.err += t),
    isTTY: false,
    env,
    cwd: work,
    signal: new AbortController().signal,
  };
  const status = await runCli(args, io);
  return { status, out: io.out, err: io.err };
}

function componentsIn(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const kernel = new Uint8Array(3_000_000);
  kernel.set(arm64Head(3_500_000));
  kernel.set(new TextEncoder().encode('Linux version 6.1.0-13-arm64 (debian-kernel@lists.debian.org)'), 2_000_000);
  writeFileSync(path.join(dir, 'vmlinuz'), kernel);
  writeFileSync(path.join(dir, 'xen-4.17-arm64'), kernel.subarray(0, 900_000));
  writeFileSync(path.join(dir, 'hello'), 'hi\n');
  execFileSync('sh', ['-c', `cd ${dir} && echo hello | cpio -o -H newc 2>/dev/null | gzip > initrd.cpio.gz`]);
  writeFileSync(path.join(dir, 't.dts'), '/dts-v1/;\n/ { chosen { }; };\n');
  execFileSync('dtc', ['-I', 'dts', '-O', 'dtb', '-o', path.join(dir, 'bcm2711-rpi-4-b.dtb'), path.join(dir, 't.dts')], { stdio: 'pipe' });
}

describe('profile and generate commands', () => {
  it('writes a default profile that checks clean once its files exist', async () => {
    const dir = path.join(work, 'clean');
    componentsIn(dir);
    expect((await cli(['profile', 'init', '--board', 'rpi4', '--out', 'clean/profile.json'])).status).toBe(0);
    const profile = JSON.parse(readFileSync(path.join(dir, 'profile.json'), 'utf8'));
    delete profile.ubootBinary;
    writeFileSync(path.join(dir, 'profile.json'), JSON.stringify(profile));
    const checked = await cli(['profile', 'check', 'clean/profile.json']);
    expect(checked).toMatchObject({ status: 0, out: 'clean/profile.json: valid\n' });
    expect((await cli(['profile', 'init', '--board', 'rpi4', '--out', 'clean/profile.json'])).status).toBe(1);
    expect((await cli(['profile', 'init', '--board', 'pi5', '--out', 'x.json'])).status).toBe(2);
  });

  it('lists every problem with its JSON path and exits 1', async () => {
    const file = path.join(work, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({
        schemaVersion: 2,
        board: 'rpi4',
        xen: { version: '4.13', binary: 'xen' },
        console: { uart: 'mini' },
        boot: {
          mode: 'tftp',
          memoryStart: '0x0',
          memoryEnd: '0x3C000000',
          stage2Address: '0x2400000',
          network: { method: 'static', serverIp: '10.0.0.300', boardIp: '10.0.0.2' },
        },
        deviceTree: 'b.dtb',
      }),
    );
    const result = await cli(['profile', 'check', 'bad.json']);
    expect(result.status).toBe(1);
    expect(result.out).toContain('error: $.boot.network.serverIp: The TFTP server address must be an IPv4 address');
    const json = await cli(['profile', 'check', '--json', 'bad.json']);
    expect(JSON.parse(json.out)).toMatchObject({ ok: false, problems: [{ path: '$.boot.network.serverIp', severity: 'error' }] });
    writeFileSync(
      file,
      JSON.stringify({
        ...JSON.parse(readFileSync(file, 'utf8')),
        boot: { mode: 'sd', memoryStart: '0x0', memoryEnd: '0x3C000000', stage2Address: '0x2400000' },
      }),
    );
    const cross = await cli(['profile', 'check', 'bad.json']);
    expect(cross.out).toContain('error: $.boot.stage2Address:');
    expect(cross.out).toContain('error: $.xen.version: Xen 4.13 cannot boot a Raspberry Pi 4');
    expect(cross.out).toContain('error: $.dom0:');
  });

  it('generates the boot partition and the TFTP root, and prints the memory map', async () => {
    const dir = path.join(work, 'gen');
    componentsIn(dir);
    await cli(['profile', 'init', '--board', 'rpi4', '--out', 'gen/profile.json']);
    const profile = JSON.parse(readFileSync(path.join(dir, 'profile.json'), 'utf8'));
    profile.ubootBinary = 'hello';
    writeFileSync(path.join(dir, 'profile.json'), JSON.stringify(profile));
    const result = await cli(['generate', '--profile', 'gen/profile.json', '--out', 'out']);
    expect(result.err).toBe('');
    expect(result.status).toBe(0);
    const out = path.join(work, 'out');
    for (const file of [
      'boot/boot.scr',
      'boot/boot.source',
      'boot/config.txt',
      'boot/u-boot.bin',
      'tftp/boot2.scr',
      'tftp/boot2.source',
      'tftp/vmlinuz',
      'tftp/initrd.cpio.gz',
      'tftp/xen-4.17-arm64',
      'tftp/bcm2711-rpi-4-b.dtb',
    ]) {
      expect(existsSync(path.join(out, file)), file).toBe(true);
    }
    const stage2 = readScriptImage(readFileSync(path.join(out, 'tftp/boot2.scr')));
    expect(stage2.timestamp).toBe(1700000000);
    // image_size (3.5 MB) > file size: the ramdisk goes 4 MiB above the kernel
    expect(stage2.source.split('\n').slice(0, 2)).toEqual(['tftpb 0xE00000 vmlinuz', 'tftpb 0x1200000 initrd.cpio.gz']);
    expect(result.out).toMatch(/Memory map:\nwhat +address +end +bytes +file\nstage2-script +0xC00000 +0xE00000/);
    expect(result.out).toMatch(/dom0-kernel +0xE00000 +0x11567E0 +3000000 \(\+BSS to 3500000\) +vmlinuz/);
  });

  it('refuses to generate a profile whose files are missing, writing nothing', async () => {
    await cli(['profile', 'init', '--board', 'qemu-virt', '--out', 'missing.json']);
    const result = await cli(['generate', '--profile', 'missing.json', '--out', 'nothing']);
    expect(result.status).toBe(1);
    expect(result.err).toMatch(/error: \$\.dom0\.kernel: There is no file at .*vmlinuz/);
    expect(existsSync(path.join(work, 'nothing'))).toBe(false);
  });
});
