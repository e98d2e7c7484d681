// Recognises boot files by their content (arm64 Image, gzip, cpio, device tree, U-Boot image, ELF, text), as `file(1)` would.

export type FileKind =
  'arm64-image' | 'elf' | 'gzip' | 'xz' | 'zstd' | 'bzip2' | 'cpio' | 'dtb' | 'uimage' | 'selinux-policy' | 'text' | 'empty' | 'data';

export interface Arm64ImageHeader {
  /** Bytes the kernel occupies once loaded, BSS included: may exceed the file size. */
  imageSize: number;
  textOffset: number;
  flags: number;
  /** 4, 16 or 64 (KiB pages), from flags bits 1-2; 0 when unspecified. */
  pageSizeKiB: number;
  bigEndian: boolean;
}

export interface DetectedFile {
  kind: FileKind;
  /** What `file -L` prints for it (the part ImageBuilder greps). */
  description: string;
  arm64?: Arm64ImageHeader;
  dtb?: { totalSize: number; version: number };
  uimage?: { name: string; type: number };
}

const ascii = (bytes: Uint8Array, start: number, end: number) => String.fromCharCode(...bytes.subarray(start, end));

function be32(bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offset, false);
}

function le32(bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offset, true);
}

function le64(bytes: Uint8Array, offset: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view.getUint32(offset, true) + view.getUint32(offset + 4, true) * 0x1_0000_0000;
}

/** The arm64 Linux Image header (also carried by Xen's arm64 binary): magic "ARM\x64" at byte 56. */
export function readArm64Header(head: Uint8Array): Arm64ImageHeader | undefined {
  if (head.length < 64 || ascii(head, 56, 60) !== 'ARM\x64') return undefined;
  const flags = le64(head, 24);
  const pageBits = Math.floor(flags / 2) & 3;
  return {
    textOffset: le64(head, 8),
    imageSize: le64(head, 16),
    flags,
    pageSizeKiB: [0, 4, 16, 64][pageBits]!,
    bigEndian: (flags & 1) === 1,
  };
}

function isText(head: Uint8Array): 'ascii' | 'utf8' | false {
  let nonAscii = false;
  for (const byte of head) {
    if (byte === 0) return false;
    if (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d && byte !== 0x0c && byte !== 0x1b) return false;
    if (byte === 0x7f) return false;
    if (byte >= 0x80) nonAscii = true;
  }
  if (!nonAscii) return 'ascii';
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head);
    return 'utf8';
  } catch {
    return false;
  }
}

function detectCpio(head: Uint8Array): DetectedFile | undefined {
  const magic = ascii(head, 0, 6);
  if (magic === '070701') return { kind: 'cpio', description: 'ASCII cpio archive (SVR4 with no CRC)' };
  if (magic === '070702') return { kind: 'cpio', description: 'ASCII cpio archive (SVR4 with CRC)' };
  if (magic === '070707') return { kind: 'cpio', description: 'ASCII cpio archive (pre-SVR4 or odc)' };
  if (head.length >= 2 && ((head[0] === 0xc7 && head[1] === 0x71) || (head[0] === 0x71 && head[1] === 0xc7))) {
    return { kind: 'cpio', description: 'cpio archive' };
  }
  return undefined;
}

function detectUImage(head: Uint8Array): DetectedFile | undefined {
  if (head.length < 64 || be32(head, 0) !== 0x27051956) return undefined;
  const nameBytes = head.subarray(32, 64);
  const end = nameBytes.indexOf(0);
  const name = new TextDecoder().decode(end < 0 ? nameBytes : nameBytes.subarray(0, end));
  const type = head[30]!;
  const typeText = type === 6 ? 'Script File' : type === 2 ? 'OS Kernel Image' : type === 3 ? 'RAMDisk Image' : `type ${type}`;
  return { kind: 'uimage', description: `u-boot legacy uImage, ${name}, ${typeText}`, uimage: { name, type } };
}

/** An SELinux-format policy, such as Xen's XSM/FLASK policy binary: file(1)'s "SE Linux policy v30 8 symbols 7 ocons". */
function detectPolicy(head: Uint8Array): DetectedFile | undefined {
  if (head.length < 4 || le32(head, 0) !== 0xf97cff8c) return undefined;
  if (head.length < 32) return { kind: 'selinux-policy', description: 'SE Linux policy' };
  const mls = le32(head, 20) & 1 ? ' MLS' : '';
  return {
    kind: 'selinux-policy',
    description: `SE Linux policy v${le32(head, 16)}${mls} ${le32(head, 24)} symbols ${le32(head, 28)} ocons`,
  };
}

function detectElf(head: Uint8Array): DetectedFile | undefined {
  if (head.length < 20 || ascii(head, 0, 4) !== '\x7fELF') return undefined;
  const bits = head[4] === 2 ? '64' : '32';
  const little = head[5] !== 2;
  const type = little ? head[16]! | (head[17]! << 8) : (head[16]! << 8) | head[17]!;
  const what = type === 2 ? 'executable' : type === 3 ? 'pie executable' : type === 1 ? 'relocatable' : 'core file';
  return { kind: 'elf', description: `ELF ${bits}-bit ${little ? 'LSB' : 'MSB'} ${what}` };
}

/** Recognises a file from its first bytes (64 KiB is plenty) and its size. */
export function detectFile(head: Uint8Array, size: number): DetectedFile {
  if (size === 0) return { kind: 'empty', description: 'empty' };
  const arm64 = readArm64Header(head);
  if (arm64) {
    const pages = arm64.pageSizeKiB ? `, ${arm64.pageSizeKiB}K pages` : '';
    const endian = arm64.bigEndian ? 'big-endian' : 'little-endian';
    return { kind: 'arm64-image', description: `Linux kernel ARM64 boot executable Image, ${endian}${pages}`, arm64 };
  }
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return { kind: 'gzip', description: 'gzip compressed data' };
  if (head.length >= 6 && ascii(head, 0, 6) === '\xfd7zXZ\x00') return { kind: 'xz', description: 'XZ compressed data' };
  if (head.length >= 4 && be32(head, 0) === 0x28b52ffd) return { kind: 'zstd', description: 'Zstandard compressed data' };
  if (head.length >= 3 && ascii(head, 0, 3) === 'BZh') return { kind: 'bzip2', description: 'bzip2 compressed data' };
  if (head.length >= 8 && be32(head, 0) === 0xd00dfeed) {
    const totalSize = be32(head, 4);
    const version = be32(head, 20);
    return { kind: 'dtb', description: `Device Tree Blob version ${version}, size=${totalSize}`, dtb: { totalSize, version } };
  }
  const known = detectUImage(head) ?? detectElf(head) ?? detectCpio(head) ?? detectPolicy(head);
  if (known) return known;
  const text = isText(head);
  if (text === 'ascii') return { kind: 'text', description: 'ASCII text' };
  if (text === 'utf8') return { kind: 'text', description: 'Unicode text, UTF-8 text' };
  return { kind: 'data', description: 'data' };
}

/** The release from a kernel's "Linux version X.Y.Z-..." banner, when the bytes hold one. */
export function findLinuxVersion(bytes: Uint8Array): string | undefined {
  const needle = 'Linux version ';
  const first = needle.charCodeAt(0);
  outer: for (let i = bytes.indexOf(first); i >= 0 && i + needle.length < bytes.length; i = bytes.indexOf(first, i + 1)) {
    for (let k = 1; k < needle.length; k++) if (bytes[i + k] !== needle.charCodeAt(k)) continue outer;
    let end = i + needle.length;
    while (end < bytes.length && bytes[end]! > 0x20 && bytes[end]! < 0x7f && end - i < 200) end++;
    const release = ascii(bytes, i + needle.length, end);
    if (/^\d+\.\d+/.test(release)) return release;
  }
  return undefined;
}

/** [major, minor] of a kernel release such as "6.1.0-13-arm64". */
export function kernelMajorMinor(release: string): [number, number] | undefined {
  const match = /^(\d+)\.(\d+)/.exec(release);
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

/** What a Xen binary says about itself: its release series and the schedulers it was built with. */
export interface XenFacts {
  /** "4.17", from the hypervisor node's compatible "xen,xen-4.17" that Xen writes into Dom0's tree. */
  series?: string;
  /** The `sched=` names it knows (credit, credit2, null, rtds, arinc653); Debian's 4.17 has no null. */
  schedulers: string[];
}

/** Each scheduler's description as Xen's scheduler table spells it (xen/common/sched/*.c), and its `sched=` name. */
const SCHEDULER_NAMES: Array<[string, string]> = [
  ['SMP Credit Scheduler\0', 'credit'],
  ['SMP Credit Scheduler rev2\0', 'credit2'],
  ['null Scheduler\0', 'null'],
  ['SMP RTDS Scheduler\0', 'rtds'],
  ['ARINC 653 Scheduler\0', 'arinc653'],
];

const latin1 = (bytes: Uint8Array) => new TextDecoder('latin1').decode(bytes);

/** Xen's facts when the bytes are a Xen binary (its "Xen version %d.%d" banner format), else undefined. */
export function findXenFacts(bytes: Uint8Array): XenFacts | undefined {
  const text = latin1(bytes);
  if (!text.includes('Xen version %d.%d')) return undefined;
  const series = /xen,xen-(\d+\.\d+)\0/.exec(text)?.[1];
  const schedulers = SCHEDULER_NAMES.filter(([name]) => text.includes(name)).map(([, option]) => option);
  return { ...(series && { series }), schedulers };
}
