// Small but real boot-chain components for tests (arm64 Image headers, a dtc-made device tree, a cpio ramdisk) and a profile naming them.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { defaultProfile } from '../../shared/profile/defaults';
import type { Profile } from '../../shared/profile/schema';

/** An arm64 Image of `size` bytes: image_size, flags (little-endian, 4K pages), magic "ARM\x64" at 56, and a Linux banner. */
export function arm64Image(size: number, banner = 'Linux version 6.1.0-test (test@test) #1 SMP'): Buffer {
  const image = Buffer.alloc(size);
  image.writeUInt32LE(size, 16);
  image.writeUInt32LE(0b1010, 24);
  image.set([0x41, 0x52, 0x4d, 0x64], 56);
  image.write(banner, 4096, 'latin1');
  return image;
}

/**
 * A Xen binary as far as the imager reads one: the arm64 Image header Xen carries, its banner format, the hypervisor
 * node's compatible "xen,xen-SERIES" and the scheduler table's names (Debian's 4.17: credit and credit2, no null).
 */
export function xenImage(size: number, series = '4.17', schedulers = ['SMP Credit Scheduler', 'SMP Credit Scheduler rev2']): Buffer {
  const image = arm64Image(size, 'Xen version %d.%d%s (%s %s) (%s@%s) (%s) %s %s\n');
  image.write(['', `xen,xen-${series}`, 'xen,xen', ...schedulers, ''].join('\0'), 8192, 'latin1');
  return image;
}

export interface TestComponents {
  dir: string;
  xen: string;
  kernel: string;
  ramdisk: string;
  dtb: string;
  uboot: string;
}

/** Writes xen, Image, initrd.cpio, board.dtb and u-boot.bin into `dir`, made by the tools a user's would come from. */
export function writeTestComponents(dir: string): TestComponents {
  fs.mkdirSync(dir, { recursive: true });
  const at = (name: string) => path.join(dir, name);
  fs.writeFileSync(at('xen'), arm64Image(256 * 1024, 'Xen'));
  fs.writeFileSync(at('Image'), arm64Image(512 * 1024));
  fs.writeFileSync(at('u-boot.bin'), randomBytes(150_000));
  fs.writeFileSync(
    at('board.dts'),
    '/dts-v1/;\n/ { compatible = "raspberrypi,4-model-b"; #address-cells = <2>; #size-cells = <1>; chosen { }; };\n',
  );
  execFileSync('dtc', ['-I', 'dts', '-O', 'dtb', '-o', at('board.dtb'), at('board.dts')], { stdio: 'pipe' });
  fs.writeFileSync(at('init'), '#!/bin/sh\necho hello from dom0\n');
  execFileSync('sh', ['-c', 'echo init | cpio -o -H newc > initrd.cpio 2>/dev/null'], { cwd: dir });
  return { dir, xen: at('xen'), kernel: at('Image'), ramdisk: at('initrd.cpio'), dtb: at('board.dtb'), uboot: at('u-boot.bin') };
}

/** A Raspberry Pi 4 profile naming the test components by full path, in TFTP mode with static addresses unless told otherwise. */
export function testProfile(components: TestComponents, mode: 'tftp' | 'sd' = 'tftp'): Profile {
  const profile = defaultProfile('rpi4');
  return {
    ...profile,
    name: 'Test profile',
    xen: { ...profile.xen, binary: components.xen },
    boot: { ...profile.boot, mode },
    dom0: { kernel: components.kernel, ramdisk: components.ramdisk, memoryMb: 512, vcpus: 1, rootOnCard: false },
    deviceTree: components.dtb,
    ubootBinary: components.uboot,
  };
}
