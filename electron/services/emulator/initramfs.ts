// Builds the tiny Dom0 initramfs for emulated boots: busybox, the two Xen modules, and an /init that reports and powers off.
import { gzipSync } from 'node:zlib';
import { dom0MarkerLines } from '../../../shared/emulator/markers';
import { writeCpio, type CpioEntry } from './cpio';

export interface Dom0InitramfsInputs {
  /** A statically linked arm64 busybox (Debian's busybox-static). */
  busybox: Uint8Array;
  /** Uncompressed kernel modules to load in this order, e.g. xen-privcmd.ko then xenfs.ko (xenfs uses privcmd). */
  modules: Array<{ name: string; data: Uint8Array }>;
}

/** The /init shell script: every step prints a marker line; it always ends in a power-off so QEMU exits. */
export function dom0InitScript(moduleNames: string[]): string {
  const m = dom0MarkerLines;
  return [
    '#!/bin/sh',
    '# Xen Pi Imager test Dom0: report what Xen gave us, then power off.',
    'export PATH=/bin',
    '/bin/busybox --install -s /bin',
    'mount -t proc proc /proc',
    'mount -t sysfs sysfs /sys',
    'mount -t devtmpfs devtmpfs /dev 2>/dev/null',
    `echo "${m.userspace}"`,
    ...moduleNames.map((name) => `insmod /lib/modules/${name} || echo "${m.failed} insmod ${name}"`),
    `mount -t xenfs xenfs /proc/xen || echo "${m.failed} mount xenfs"`,
    'v=/sys/hypervisor/version',
    `echo "${m.xenVersion} $(cat $v/major).$(cat $v/minor)$(cat $v/extra)"`,
    `echo "${m.capabilities} $(cat /proc/xen/capabilities)"`,
    `echo "${m.powerOff}"`,
    'poweroff -f',
    '',
  ].join('\n');
}

/** The gzip-compressed newc cpio archive the kernel unpacks as its initramfs. */
export function buildDom0Initramfs(inputs: Dom0InitramfsInputs): Uint8Array {
  const encoder = new TextEncoder();
  const entries: CpioEntry[] = [
    { kind: 'directory', path: 'bin' },
    { kind: 'directory', path: 'dev' },
    { kind: 'char-device', path: 'dev/console', major: 5, minor: 1 },
    { kind: 'directory', path: 'lib' },
    { kind: 'directory', path: 'lib/modules' },
    { kind: 'directory', path: 'proc' },
    { kind: 'directory', path: 'sys' },
    { kind: 'directory', path: 'tmp', mode: 0o1777 },
    { kind: 'file', path: 'bin/busybox', data: inputs.busybox, mode: 0o755 },
    { kind: 'symlink', path: 'bin/sh', target: 'busybox' },
    ...inputs.modules.map((module): CpioEntry => ({ kind: 'file', path: `lib/modules/${module.name}`, data: module.data })),
    { kind: 'file', path: 'init', data: encoder.encode(dom0InitScript(inputs.modules.map((module) => module.name))), mode: 0o755 },
  ];
  return new Uint8Array(gzipSync(writeCpio(entries), { level: 9 }));
}
