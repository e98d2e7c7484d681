// Finds the real parts of a Pi 4 trial on this machine (QEMU ≥ 9, Debian's rpi_4 U-Boot, the upstream bcm2711 tree, dtc), or says which are missing.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { findExecutable } from '../../electron/node/host-tools';

/** The files matching a path whose folder names may hold `*` (newest-sorting first). */
function expand(pattern: string): string[] {
  const star = pattern.indexOf('*');
  if (star < 0) return fs.existsSync(pattern) ? [pattern] : [];
  const parent = pattern.slice(0, pattern.lastIndexOf('/', star));
  const segmentEnd = pattern.indexOf('/', star);
  const segment = pattern.slice(parent.length + 1, segmentEnd < 0 ? undefined : segmentEnd);
  const rest = segmentEnd < 0 ? '' : pattern.slice(segmentEnd);
  const matcher = new RegExp(
    `^${segment
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  const names = fs.existsSync(parent)
    ? fs
        .readdirSync(parent)
        .filter((name) => matcher.test(name))
        .sort()
        .reverse()
    : [];
  return names.flatMap((name) => expand(path.join(parent, name) + rest));
}

function firstExisting(candidates: readonly (string | undefined)[]): string | undefined {
  return candidates.flatMap((candidate) => (candidate ? expand(candidate) : []))[0];
}

const env = process.env;

/** QEMU with raspi4b: XEN_PI_IMAGER_QEMU_RASPI4B, else the QEMU 10 unpacked on the project's build machines. */
export const raspi4bQemu = firstExisting([env.XEN_PI_IMAGER_QEMU_RASPI4B, '/work/qemu10/root/usr/bin/qemu-system-aarch64']);
/** Debian's u-boot-rpi build for the Pi 4. */
export const rpi4Uboot = firstExisting([
  env.XEN_PI_IMAGER_RPI4_UBOOT,
  '/usr/lib/u-boot/rpi_4/u-boot.bin',
  '/work/arm64/ub/usr/lib/u-boot/rpi_4/u-boot.bin',
]);
/** The upstream tree as Debian's arm64 kernel package ships it. */
export const bcm2711Dtb = firstExisting([
  env.XEN_PI_IMAGER_BCM2711_DTB,
  '/usr/lib/linux-image-*/broadcom/bcm2711-rpi-4-b.dtb',
  '/work/arm64/k/usr/lib/linux-image-*/broadcom/bcm2711-rpi-4-b.dtb',
]);
export const dtc = findExecutable('dtc');

/** Why a test needing the named parts cannot run here, or undefined when it can. */
export function missingParts(parts: Record<string, string | undefined>): string | undefined {
  const missing = Object.entries(parts)
    .filter(([, file]) => !file)
    .map(([name]) => name);
  return missing.length ? `skipped: no ${missing.join(', ')} on this machine` : undefined;
}

/** The source dtc prints for a blob (warnings dropped): the judge of what a blob says. */
export function dtcSource(blobFile: string): string {
  return execFileSync(dtc ?? 'dtc', ['-I', 'dtb', '-O', 'dts', blobFile], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
}

/** Compiles device tree source with dtc. */
export function dtcCompile(sourceFile: string, blobFile: string): void {
  execFileSync(dtc ?? 'dtc', ['-I', 'dts', '-O', 'dtb', '-o', blobFile, sourceFile], { stdio: ['ignore', 'ignore', 'ignore'] });
}

/** What `dtc -I dtb -O dtb` makes of a blob: the same tree, packed. */
export function dtcRepack(blobFile: string): Uint8Array {
  return new Uint8Array(execFileSync(dtc ?? 'dtc', ['-I', 'dtb', '-O', 'dtb', blobFile], { stdio: ['ignore', 'pipe', 'ignore'] }));
}
