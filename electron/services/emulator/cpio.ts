// Writes a cpio archive in the "newc" format, the one the Linux kernel unpacks as an initramfs.

export type CpioEntry =
  | { kind: 'file'; path: string; data: Uint8Array; mode?: number }
  | { kind: 'directory'; path: string; mode?: number }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'char-device'; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const TRAILER = 'TRAILER!!!';

const encoder = new TextEncoder();

function hex8(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}

function padTo4(length: number): number {
  return (4 - (length % 4)) % 4;
}

interface RawEntry {
  name: string;
  mode: number;
  data: Uint8Array;
  rdevMajor: number;
  rdevMinor: number;
  nlink: number;
}

function toRaw(entry: CpioEntry): RawEntry {
  const name = entry.path.replace(/^\/+/, '');
  const base = { name, rdevMajor: 0, rdevMinor: 0, nlink: 1 };
  switch (entry.kind) {
    case 'file':
      return { ...base, mode: S_IFREG | (entry.mode ?? 0o644), data: entry.data };
    case 'directory':
      return { ...base, mode: S_IFDIR | (entry.mode ?? 0o755), data: new Uint8Array(0), nlink: 2 };
    case 'symlink':
      return { ...base, mode: S_IFLNK | 0o777, data: encoder.encode(entry.target) };
    case 'char-device':
      return { ...base, mode: S_IFCHR | (entry.mode ?? 0o600), data: new Uint8Array(0), rdevMajor: entry.major, rdevMinor: entry.minor };
  }
}

function encodeEntry(raw: RawEntry, inode: number, mtime: number): Uint8Array[] {
  const nameBytes = encoder.encode(raw.name + '\0');
  const header =
    '070701' +
    [inode, raw.mode, 0, 0, raw.nlink, mtime, raw.data.length, 0, 0, raw.rdevMajor, raw.rdevMinor, nameBytes.length, 0].map(hex8).join('');
  const headerBytes = encoder.encode(header);
  return [
    headerBytes,
    nameBytes,
    new Uint8Array(padTo4(headerBytes.length + nameBytes.length)),
    raw.data,
    new Uint8Array(padTo4(raw.data.length)),
  ];
}

/** The archive bytes: entries in the given order (parents first), owned by root, then the trailer. */
export function writeCpio(entries: CpioEntry[], mtimeSeconds = 0): Uint8Array {
  const parts: Uint8Array[] = [];
  entries.forEach((entry, index) => parts.push(...encodeEntry(toRaw(entry), index + 1, mtimeSeconds)));
  parts.push(...encodeEntry({ name: TRAILER, mode: 0, data: new Uint8Array(0), rdevMajor: 0, rdevMinor: 0, nlink: 1 }, 0, 0));
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
