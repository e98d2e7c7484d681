// The wizard's profile edits as pure functions: RAM and board changes fit Dom0's memory, fetched parts replace only files.
import { describe, expect, it } from 'vitest';
import { defaultProfile, validateProfile } from '../../../shared/profile';
import { defaultDom0MemoryMb, dom0MemoryLimitMb, fitDom0Memory, ramOnBoard, withBoardRam } from '../../../shared/profile/fit-memory';
import type { Profile } from '../../../shared/profile/schema';
import { takeFetchedParts } from '../../../shared/profile/take-parts';
import { xenOfferMeaning } from '../../../shared/xen-versions';

const dom0Errors = (profile: Profile) =>
  validateProfile(profile).problems.filter((p) => p.severity === 'error' && p.path === '$.dom0.memoryMb');

describe('choosing the board’s RAM', () => {
  it('lowers a chosen Dom0 memory to the largest 128 MB step that fits a 1 GB Pi 4, and the check then passes', () => {
    const base = { ...defaultProfile('rpi4'), ramMb: 4096 };
    const profile = { ...base, dom0: { ...base.dom0!, memoryMb: 1536 } };
    const small = withBoardRam(profile, 1024);
    expect(small.ramMb).toBe(1024);
    expect(dom0MemoryLimitMb(small)).toBe(864);
    expect(small.dom0!.memoryMb).toBe(768);
    expect(dom0Errors(small)).toEqual([]);
    expect(dom0Errors({ ...profile, ramMb: 1024 })).toHaveLength(1); // what it would have been without fitting
  });

  it('gives Dom0 a quarter of the board’s RAM by default (512 MiB to 2 GiB), following the RAM while the user has not chosen', () => {
    expect([1024, 2048, 4096, 8192].map((ram) => defaultDom0MemoryMb('rpi4', ram))).toEqual([512, 512, 1024, 2048]);
    const profile = defaultProfile('rpi4');
    expect(profile.dom0!.memoryMb).toBe(1024); // the 4 GB Pi 4 a profile names by default
    expect(withBoardRam(profile, 8192).dom0!.memoryMb).toBe(2048);
    expect(withBoardRam(profile, 1024).dom0!.memoryMb).toBe(512);
    expect(withBoardRam(withBoardRam(profile, 1024), 4096).dom0!.memoryMb).toBe(1024);
    expect(validateProfile(withBoardRam(profile, 1024)).ok).toBe(true);
  });

  it('never raises a Dom0 memory the user chose, and leaves a fitting or dom0less profile as it is', () => {
    const base = defaultProfile('rpi4');
    const chosen = { ...base, dom0: { ...base.dom0!, memoryMb: 768 } };
    expect(withBoardRam(chosen, 8192).dom0!.memoryMb).toBe(768);
    const fits = { ...base, ramMb: 1024, dom0: { ...base.dom0!, memoryMb: 512 } };
    expect(fitDom0Memory(fits)).toBe(fits);
    const dom0less: Profile = { ...base, ramMb: 1024, dom0: undefined, domUs: [{ kernel: 'Image', memoryMb: 512, vcpus: 1 }] };
    expect(fitDom0Memory(dom0less)).toBe(dom0less);
  });

  it('leaves room for the DomUs that boot', () => {
    const base = defaultProfile('rpi4');
    const profile: Profile = { ...base, dom0: { ...base.dom0!, memoryMb: 768 }, domUs: [{ kernel: 'Image', memoryMb: 256, vcpus: 1 }] };
    expect(withBoardRam(profile, 1024).dom0!.memoryMb).toBe(512); // 864 - 256 = 608 → 512
    const noRoom: Profile = { ...profile, domUs: [{ kernel: 'Image', memoryMb: 800, vcpus: 1 }] };
    expect(withBoardRam(noRoom, 1024).dom0!.memoryMb).toBe(768); // nothing fits: the check's error says so
  });

  it('keeps the RAM size on a board that is sold with it, else takes the board’s default', () => {
    const profile = { ...defaultProfile('rpi4'), ramMb: 8192 };
    expect(ramOnBoard(profile, 'rpi4')).toBe(8192);
    expect(ramOnBoard(profile, 'qemu-virt')).toBe(2048);
  });
});

describe('taking the parts fetched from Debian', () => {
  const fetched = (): Profile => {
    const profile = defaultProfile('rpi4');
    profile.xen = { ...profile.xen, version: '4.17', binary: 'xen/xen-4.17-arm64' };
    profile.boot = { ...profile.boot, mode: 'sd' };
    delete profile.boot.network;
    profile.dom0 = { ...profile.dom0!, kernel: 'xen/vmlinuz-6.1.0-40-arm64.gz', ramdisk: 'xen/dom0-initramfs.cpio.gz', memoryMb: 512 };
    profile.deviceTree = 'xen/bcm2711-rpi-4-b.dtb';
    profile.ubootBinary = 'u-boot.bin';
    profile.firmware = ['firmware/start4.elf', 'firmware/fixup4.dat', 'firmware/bcm2711-rpi-4-b.dtb'];
    profile.provenance = { 'u-boot.bin': { package: 'u-boot-rpi', version: '2023.01', sha256: 'a'.repeat(64) } };
    return profile;
  };

  it('takes every file, the firmware and where they came from', () => {
    const taken = takeFetchedParts(defaultProfile('rpi4'), fetched());
    expect(taken.xen.binary).toBe('xen/xen-4.17-arm64');
    expect(taken.dom0).toMatchObject({ kernel: 'xen/vmlinuz-6.1.0-40-arm64.gz', ramdisk: 'xen/dom0-initramfs.cpio.gz' });
    expect(taken.deviceTree).toBe('xen/bcm2711-rpi-4-b.dtb');
    expect(taken.ubootBinary).toBe('u-boot.bin');
    expect(taken.firmware).toEqual(['firmware/start4.elf', 'firmware/fixup4.dat', 'firmware/bcm2711-rpi-4-b.dtb']);
    expect(taken.provenance?.['u-boot.bin']?.package).toBe('u-boot-rpi');
  });

  it('keeps the user’s name, console, boot mode and network, RAM, Dom0 memory and base image', () => {
    const draft: Profile = {
      ...defaultProfile('rpi4'),
      name: 'Lab Pi',
      ramMb: 8192,
      console: { ...defaultProfile('rpi4').console, baud: 921600, syncConsole: true },
      baseImage: 'raspios.img.xz',
    };
    draft.dom0 = { ...draft.dom0!, memoryMb: 2048, vcpus: 2, commandLine: 'console=hvc0 quiet', rootOnCard: true };
    const taken = takeFetchedParts(draft, fetched());
    expect(taken.name).toBe('Lab Pi');
    expect(taken.console).toEqual(draft.console);
    expect(taken.boot).toEqual(draft.boot);
    expect(taken.ramMb).toBe(8192);
    expect(taken.baseImage).toBe('raspios.img.xz');
    expect(taken.dom0).toMatchObject({ memoryMb: 2048, vcpus: 2, commandLine: 'console=hvc0 quiet', rootOnCard: false });
  });

  it('leaves a dom0less profile without Dom0', () => {
    const draft: Profile = { ...defaultProfile('rpi4'), dom0: undefined, domUs: [{ kernel: 'Image', memoryMb: 256, vcpus: 1 }] };
    expect(takeFetchedParts(draft, fetched()).dom0).toBeUndefined();
  });
});

describe('what a Xen version in Debian means on a Pi 4', () => {
  it('refuses one older than 4.14, explains a known one, and names the Dom0 kernel it needs', () => {
    expect(xenOfferMeaning('4.11', 'rpi4')).toMatchObject({
      severity: 'error',
      message: expect.stringMatching(/cannot boot a Raspberry Pi 4/),
    });
    const bookworm = xenOfferMeaning('4.17', 'rpi4');
    expect(bookworm.severity).toBe('ok');
    expect(bookworm.message).toMatch(/Xen 4\.17 runs on the Raspberry Pi 4 Model B\. .*Debian 12 ships\. Dom0 needs Linux 5\.9 or newer/);
    expect(xenOfferMeaning('4.99', 'rpi4').severity).toBe('warning');
  });
});
