// The board's RAM: Dom0 and DomU memory must fit what U-Boot declares on that Pi 4 (or the emulator), vCPUs the cores.
import { describe, expect, it } from 'vitest';
import { boards, domainMemoryLimit } from '../../../shared/boards';
import { componentCopies, generateBootFiles, isFreshCard } from '../../../shared/boot/generate';
import { defaultProfile, validateProfile } from '../../../shared/profile';
import type { Profile } from '../../../shared/profile/schema';
import { cpio, dtb, kernel } from '../boot/fixtures';

const rpi4 = (edit: (p: Profile) => void): Profile => {
  const profile = defaultProfile('rpi4');
  edit(profile);
  return profile;
};
const errorsAt = (profile: Profile, path: string) =>
  validateProfile(profile).problems.filter((p) => p.severity === 'error' && p.path === path);

describe('board RAM', () => {
  it('knows what U-Boot declares on each Pi 4 (a 1 GB board and QEMU raspi4b: 960 MiB at 0x0)', () => {
    expect(domainMemoryLimit(boards.rpi4, 1024)).toEqual({ ramMiB: 1024, declaredMiB: 960, limitMiB: 864 });
    expect(domainMemoryLimit(boards.rpi4, 8192).declaredMiB).toBe(8128);
    expect(domainMemoryLimit(boards.rpi4, undefined).ramMiB).toBe(boards.rpi4.defaultRamMiB);
  });

  it('refuses Dom0 memory that a 1 GB Pi 4 cannot give, naming the most that fits', () => {
    const [problem] = errorsAt(
      rpi4((p) => Object.assign(p, { ramMb: 1024 }) && (p.dom0!.memoryMb = 1024)),
      '$.dom0.memoryMb',
    );
    expect(problem?.message).toMatch(/Dom0 needs 1024 MB, but U-Boot declares 960 MiB on a 1 GB Raspberry Pi 4/);
    expect(problem?.message).toMatch(/Lower Dom0's memory to 864 MB or less/);
    expect(
      errorsAt(
        rpi4((p) => Object.assign(p, { ramMb: 1024 }) && (p.dom0!.memoryMb = 512)),
        '$.dom0.memoryMb',
      ),
    ).toEqual([]);
    expect(
      errorsAt(
        rpi4((p) => Object.assign(p, { ramMb: 4096 }) && (p.dom0!.memoryMb = 1024)),
        '$.dom0.memoryMb',
      ),
    ).toEqual([]);
  });

  it('counts the DomUs that boot, not those marked noBoot', () => {
    const withDomU = (noBoot: boolean) =>
      rpi4((p) => {
        p.ramMb = 1024;
        p.dom0!.memoryMb = 512;
        p.domUs = [{ kernel: 'Image', memoryMb: 512, vcpus: 1, noBoot }];
      });
    expect(errorsAt(withDomU(false), '$.dom0.memoryMb')[0]?.message).toMatch(/Dom0 \(512 MB\) and the DomUs \(512 MB\) need 1024 MB/);
    expect(errorsAt(withDomU(true), '$.dom0.memoryMb')).toEqual([]);
  });

  it('refuses a RAM size the board is not sold with, and absurd memory and vCPU counts as errors', () => {
    expect(
      errorsAt(
        rpi4((p) => (p.ramMb = 3000)),
        '$.ramMb',
      )[0]?.message,
    ).toMatch(/1 GB, 2 GB, 4 GB, 8 GB of RAM, not 3000 MB/);
    expect(
      errorsAt(
        rpi4((p) => (p.dom0!.memoryMb = 1e12)),
        '$.dom0.memoryMb',
      )[0]?.message,
    ).toMatch(/no board has more than 1 TB/);
    expect(
      errorsAt(
        rpi4((p) => (p.dom0!.memoryMb = 100000)),
        '$.dom0.memoryMb',
      )[0]?.message,
    ).toMatch(/U-Boot declares 3968 MiB/);
    expect(
      errorsAt(
        rpi4((p) => (p.dom0!.vcpus = 100000)),
        '$.dom0.vcpus',
      )[0]?.message,
    ).toMatch(/1024 vCPUs/);
    expect(
      errorsAt(
        rpi4((p) => (p.dom0!.vcpus = 5)),
        '$.dom0.vcpus',
      )[0]?.message,
    ).toMatch(/has 4 cores: give it 4 or fewer/);
  });
});

describe('fresh card', () => {
  it('is what a Pi 4 profile without a base image means; its firmware goes to the card root, overlays into overlays/', () => {
    const profile = rpi4((p) => {
      p.boot.mode = 'sd';
      delete p.boot.network;
      p.firmware = ['firmware/start4.elf', 'firmware/fixup4.dat', 'firmware/bcm2711-rpi-4-b.dtb', 'rpi/overlays/disable-bt.dtbo'];
      p.deviceTree = 'xen/bcm2711-rpi-4-b.dtb';
    });
    expect(isFreshCard(profile)).toBe(true);
    const targets = componentCopies(profile).map((c) => c.target);
    expect(targets).toEqual(
      expect.arrayContaining(['start4.elf', 'fixup4.dat', 'bcm2711-rpi-4-b.dtb', 'overlays/disable-bt.dtbo', 'xen/bcm2711-rpi-4-b.dtb']),
    );
    // with a base image the card keeps its own firmware and its own (downstream) tree
    expect(componentCopies({ ...profile, baseImage: 'raspios.img.xz' }).map((c) => c.target)).not.toContain('start4.elf');
  });

  it('warns that a fresh card has no disable-bt overlay for the PL011 console', () => {
    const warnings = validateProfile(rpi4((p) => (p.console.uart = 'pl011'))).problems.filter((p) => p.path === '$.console.uart');
    expect(warnings[0]?.message).toMatch(/disable-bt\.dtbo, which a fresh card does not have/);
    expect(
      validateProfile(rpi4((p) => Object.assign(p, { baseImage: 'os.img' }) && (p.console.uart = 'pl011'))).problems.filter(
        (p) => p.path === '$.console.uart',
      ),
    ).toEqual([]);
  });

  it('writes config.txt whole on a fresh card with the three lines the firmware needs', () => {
    const profile = rpi4(() => undefined);
    const pick = { 'device-tree': dtb, 'dom0-ramdisk': cpio } as Record<string, typeof kernel>;
    const facts = Object.fromEntries(componentCopies(profile).map((c) => [c.source, (pick[c.role] ?? kernel)(c.source, 65536)]));
    const files = generateBootFiles(profile, facts, { timestamp: 0 }).files;
    const config = files.find((f) => f.name === 'config.txt')!;
    expect(config.description).toMatch(/whole config\.txt of the fresh card/);
    expect(config.preview).toMatch(/^arm_64bit=1$/m);
    expect(config.preview).toMatch(/^enable_uart=1$/m);
    expect(config.preview).toMatch(/^kernel=u-boot\.bin$/m);
  });
});
