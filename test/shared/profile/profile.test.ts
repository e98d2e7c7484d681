// Profiles: defaults per board are valid, v1 files migrate, every problem names its JSON path, the published schema is current.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultProfile, migrateProfile, validateProfile, type ProfileV1 } from '../../../shared/profile';
import { profileSchemaText, schemaFile } from '../../../scripts/export-profile-schema';
import { cpio, dtb, kernel } from '../boot/fixtures';
import type { ComponentFacts } from '../../../shared/boot/generate';

const facts = (c: { size: number; head: Uint8Array }): ComponentFacts => ({ size: c.size, head: c.head });

describe('profile', () => {
  it.each(['rpi4', 'qemu-virt'] as const)('has a valid default for %s', (board) => {
    const result = validateProfile(defaultProfile(board));
    expect(result.problems).toEqual([]);
    expect(result.profile?.board).toBe(board);
  });

  it('migrates a version-1 profile to the current shape', () => {
    const v1: ProfileV1 = {
      version: 1,
      board: 'rpi4',
      xenPath: '/boot/xen',
      kernelPath: 'Image',
      initrdPath: 'initrd.cpio',
      dtbPath: 'bcm2711-rpi-4-b.dtb',
      serverIp: '192.168.1.10',
      boardIp: '192.168.1.50',
      uart: 'serial0',
      syncConsole: true,
      dom0MemoryMb: 800,
      memoryEnd: 0x3b400000,
    };
    const { profile, migratedFrom } = migrateProfile(v1);
    expect(migratedFrom).toBe(1);
    const result = validateProfile(v1);
    expect(result.ok).toBe(true);
    expect(result.migratedFrom).toBe(1);
    expect(result.profile).toMatchObject({
      schemaVersion: 2,
      console: { uart: 'pl011', syncConsole: true },
      boot: { mode: 'tftp', network: { method: 'static', serverIp: '192.168.1.10', boardIp: '192.168.1.50' }, memoryEnd: '0x3B400000' },
      dom0: { kernel: 'Image', ramdisk: 'initrd.cpio', memoryMb: 800 },
      xen: { binary: '/boot/xen' },
    });
    expect(profile).not.toHaveProperty('version');
  });

  it('refuses files that are not profiles or come from a newer version', () => {
    expect(validateProfile({ hello: 1 }).problems[0]).toMatchObject({ path: '$.schemaVersion', severity: 'error' });
    expect(validateProfile({ schemaVersion: 99 }).problems[0]!.message).toMatch(/reads up to 2/);
  });

  it('reports every shape problem with its JSON path', () => {
    const bad = structuredClone(defaultProfile('rpi4')) as unknown as {
      boot: { network: { serverIp: string }; memoryEnd: string };
      domUs: unknown[];
      deviceTree?: string;
    };
    bad.boot.network.serverIp = '192.168.1.256';
    bad.boot.memoryEnd = '3C000000';
    bad.domUs = [{ kernel: '' }];
    delete bad.deviceTree;
    const paths = validateProfile(bad)
      .problems.map((p) => p.path)
      .sort();
    expect(paths).toEqual(['$.boot.memoryEnd', '$.boot.network.serverIp', '$.deviceTree', '$.domUs[0].kernel']);
  });

  it('reports cross-field problems: stage 2 over stage 1, memory order, same subnet, old Xen, nothing to boot', () => {
    const p = defaultProfile('rpi4');
    const problems = validateProfile({
      ...p,
      xen: { ...p.xen, version: '4.13' },
      boot: {
        ...p.boot,
        stage2Address: '0x2400000',
        network: { method: 'static', serverIp: '10.0.0.1', boardIp: '192.168.1.50', netmask: '255.255.255.0' },
      },
      dom0: undefined,
    }).problems;
    expect(problems.map((x) => [x.path, x.severity])).toEqual([
      ['$.boot.stage2Address', 'error'],
      ['$.boot.network.serverIp', 'warning'],
      ['$.dom0', 'error'],
      ['$.xen.version', 'error'],
    ]);
    const q = defaultProfile('qemu-virt');
    expect(validateProfile({ ...q, boot: { ...q.boot, stage2Address: '0x40200000' } }).problems[0]!.message).toMatch(/overwrite stage 1/);
    expect(validateProfile({ ...q, boot: { ...q.boot, memoryEnd: '0x30000000' } }).problems.map((x) => x.path)).toContain(
      '$.boot.memoryEnd',
    );
  });

  it('takes the TFTP windowsize and block size as a setting, warning where some U-Boots or servers would not follow it', () => {
    const p = defaultProfile('rpi4');
    const withTftp = (tftp: unknown) => validateProfile({ ...p, boot: { ...p.boot, tftp } });
    expect(withTftp({ server: 'built-in', windowsize: 32 }).problems).toEqual([]);
    expect(withTftp({ server: 'external', windowsize: 16 }).problems).toEqual([
      expect.objectContaining({ path: '$.boot.tftp.windowsize', severity: 'warning', message: expect.stringMatching(/2023\.01.*Keep 1/) }),
    ]);
    expect(withTftp({ blocksize: 8192 }).problems).toEqual([
      expect.objectContaining({ path: '$.boot.tftp.blocksize', severity: 'warning' }),
    ]);
    expect(withTftp({ windowsize: 0 }).problems).toEqual([
      expect.objectContaining({
        path: '$.boot.tftp.windowsize',
        severity: 'error',
        message: expect.stringMatching(/^The TFTP window size must be 1 or more/),
      }),
    ]);
    // the wizard's window and block size fields show these under the field: one sentence about that field, no repeated subject
    expect(withTftp({ windowsize: 65 }).problems.map((x) => x.message)).toEqual([
      'The TFTP window size must be at most 64 blocks (the built-in server answers no more).',
    ]);
    expect(withTftp({ blocksize: 65465 }).problems.map((x) => x.message)).toEqual([
      'The TFTP block size must be at most 65464 bytes (RFC 2348); 1468 fits one Ethernet frame.',
    ]);
    expect(withTftp({ blocksize: 511 }).problems.map((x) => x.message)).toEqual(['The TFTP block size must be 512 or more.']);
    expect(withTftp({ server: 'nearby' }).problems.map((x) => x.path)).toEqual(['$.boot.tftp.server']);
    expect(withTftp(undefined).profile!.boot.tftp).toBeUndefined(); // absent: the built-in server's defaults
  });

  it('checks that the files fit in memory and have the right types when their facts are known', () => {
    const p = defaultProfile('rpi4');
    const components = {
      'xen-4.17-arm64': facts(kernel('x', 1_000_000)),
      vmlinuz: facts(kernel('v', 30_000_000)),
      'initrd.cpio.gz': facts(cpio('i', 5_000_000)),
      'bcm2711-rpi-4-b.dtb': facts(dtb('d', 50_000)),
    };
    expect(validateProfile(p, components).ok).toBe(true);
    const small = validateProfile({ ...p, boot: { ...p.boot, memoryEnd: '0x3000000' } }, components);
    expect(small.problems).toEqual([expect.objectContaining({ path: '$.boot.memoryEnd', severity: 'error' })]);
    const wrong = validateProfile(p, { ...components, 'initrd.cpio.gz': facts(dtb('d', 10)) });
    expect(wrong.problems).toEqual([expect.objectContaining({ path: '$.dom0.ramdisk', severity: 'error' })]);
    const old = validateProfile(p, { ...components, vmlinuz: { ...facts(kernel('v', 1000)), linuxVersion: '5.4.0' } });
    expect(old.problems).toEqual([expect.objectContaining({ path: '$.dom0.kernel', severity: 'warning' })]);
  });

  it('publishes an up-to-date JSON Schema in resources/profile.schema.json', () => {
    expect(readFileSync(schemaFile, 'utf8')).toBe(profileSchemaText());
    const schema = JSON.parse(profileSchemaText());
    expect(schema.required).toEqual(expect.arrayContaining(['schemaVersion', 'board', 'xen', 'console', 'boot', 'deviceTree']));
  });
});
