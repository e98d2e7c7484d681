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

/** What every Dom0 /init of ours does first: mount, say userspace runs, load the modules, mount xenfs, report Xen. */
function reportLines(moduleNames: string[], afterMounts: string[] = []): string[] {
  const m = dom0MarkerLines;
  return [
    '/bin/busybox --install -s /bin',
    'mount -t proc proc /proc',
    'mount -t sysfs sysfs /sys',
    'mount -t devtmpfs devtmpfs /dev 2>/dev/null',
    ...afterMounts,
    `echo "${m.userspace}"`,
    ...moduleNames.map((name) => `insmod /lib/modules/${name} || echo "${m.failed} insmod ${name}"`),
    `mount -t xenfs xenfs /proc/xen || echo "${m.failed} mount xenfs"`,
    'v=/sys/hypervisor/version',
    `echo "${m.xenVersion} $(cat $v/major).$(cat $v/minor)$(cat $v/extra)"`,
    `echo "${m.capabilities} $(cat /proc/xen/capabilities)"`,
  ];
}

/** The /init shell script: every step prints a marker line; it always ends in a power-off so QEMU exits. */
export function dom0InitScript(moduleNames: string[]): string {
  const m = dom0MarkerLines;
  return [
    '#!/bin/sh',
    '# Xen Pi Imager test Dom0: report what Xen gave us, then power off.',
    'export PATH=/bin',
    ...reportLines(moduleNames),
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

export interface BoardDom0Inputs {
  busybox: Uint8Array;
  /** Plain .ko files, in load order (dependencies first). */
  modules: Array<{ name: string; data: Uint8Array }>;
  /** Xen's major.minor: the toolstack lives in /usr/lib/xen-<ver>/bin as Debian lays it out. */
  xenVersion: string;
  /** xl, xenstored, xen-init-dom0 (by name) from xen-utils-<ver>. */
  programs: Array<{ name: string; data: Uint8Array }>;
  /** Shared libraries by soname, the dynamic loader among them. */
  libraries: Array<{ soname: string; data: Uint8Array }>;
  /** The loader the programs name (PT_INTERP), e.g. /lib/ld-linux-aarch64.so.1. */
  interpreter: string;
}

const LIB_DIR = 'lib/aarch64-linux-gnu';

/** /init of the board's Dom0: report, load the Xen and network modules, start the toolstack, then a shell on hvc0. */
export function boardDom0InitScript(moduleNames: string[], xenVersion: string): string {
  const m = dom0MarkerLines;
  const bin = `/usr/lib/xen-${xenVersion}/bin`;
  return [
    '#!/bin/sh',
    "# Xen Pi Imager Dom0: busybox, the Xen modules and Xen's toolstack (xl), then a shell on the console.",
    `export PATH=/bin:/sbin:/usr/bin:/usr/sbin:${bin}`,
    `export LD_LIBRARY_PATH=/${LIB_DIR}`,
    ...reportLines(moduleNames, [
      'mkdir -p /dev/pts /run /var/run/xenstored /var/lib/xenstored /var/lib/xen /var/log/xen /var/lock /tmp',
      'mount -t devpts devpts /dev/pts',
    ]),
    `if xenstored --pid-file=/run/xenstored.pid && xen-init-dom0; then echo "${m.toolstack}"; else echo "${m.failed} xenstored"; fi`,
    'for n in /sys/class/net/eth*; do [ -e "$n" ] && ip link set "${n##*/}" up; done',
    'hostname dom0',
    `echo "${m.shell}: try xl list, xl info; poweroff -f halts the board"`,
    'while true; do setsid cttyhack sh -l || sh; done',
    '',
  ].join('\n');
}

/** The board's Dom0 initramfs (gzip'd newc cpio): useful on a real Pi 4, and what the emulated Pi 4 boots. */
export function buildBoardDom0Initramfs(inputs: BoardDom0Inputs): Uint8Array {
  const encoder = new TextEncoder();
  const bin = `usr/lib/xen-${inputs.xenVersion}/bin`;
  const folders = [
    'bin',
    'sbin',
    'dev',
    'etc',
    'lib',
    'lib/modules',
    LIB_DIR,
    'proc',
    'sys',
    'run',
    'root',
    'var',
    'usr',
    'usr/bin',
    'usr/sbin',
    'usr/lib',
    `usr/lib/xen-${inputs.xenVersion}`,
    bin,
  ];
  const entries: CpioEntry[] = [
    ...folders.map((path): CpioEntry => ({ kind: 'directory', path })),
    { kind: 'directory', path: 'tmp', mode: 0o1777 },
    { kind: 'char-device', path: 'dev/console', major: 5, minor: 1 },
    { kind: 'file', path: 'bin/busybox', data: inputs.busybox, mode: 0o755 },
    { kind: 'symlink', path: 'bin/sh', target: 'busybox' },
    ...inputs.modules.map((module): CpioEntry => ({ kind: 'file', path: `lib/modules/${module.name}`, data: module.data })),
    ...inputs.libraries.map((lib): CpioEntry => ({ kind: 'file', path: `${LIB_DIR}/${lib.soname}`, data: lib.data, mode: 0o755 })),
    ...inputs.programs.map((program): CpioEntry => ({ kind: 'file', path: `${bin}/${program.name}`, data: program.data, mode: 0o755 })),
    ...inputs.programs.map((program): CpioEntry => ({
      kind: 'symlink',
      path: `usr/sbin/${program.name}`,
      target: `../lib/xen-${inputs.xenVersion}/bin/${program.name}`,
    })),
    { kind: 'directory', path: 'etc/xen' },
    {
      kind: 'file',
      path: 'etc/xen/xl.conf',
      data: encoder.encode('# xl defaults (see xl.conf(5)); none are needed to list and inspect domains\n'),
    },
    { kind: 'file', path: 'etc/passwd', data: encoder.encode('root:x:0:0:root:/root:/bin/sh\n') },
    { kind: 'file', path: 'etc/group', data: encoder.encode('root:x:0:\n') },
    {
      kind: 'file',
      path: 'etc/profile',
      data: encoder.encode(`export PATH=/bin:/sbin:/usr/bin:/usr/sbin:/${bin}\nexport LD_LIBRARY_PATH=/${LIB_DIR}\nexport PS1='dom0# '\n`),
    },
    {
      kind: 'file',
      path: 'init',
      data: encoder.encode(
        boardDom0InitScript(
          inputs.modules.map((module) => module.name),
          inputs.xenVersion,
        ),
      ),
      mode: 0o755,
    },
  ];
  const interpreter = inputs.interpreter.replace(/^\//, '');
  const loaderName = interpreter.slice(interpreter.lastIndexOf('/') + 1);
  if (interpreter !== `${LIB_DIR}/${loaderName}`)
    entries.push({ kind: 'symlink', path: interpreter, target: `aarch64-linux-gnu/${loaderName}` });
  return new Uint8Array(gzipSync(writeCpio(entries), { level: 9 }));
}
