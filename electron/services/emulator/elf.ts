// Reads what the dynamic loader reads of an ELF64 file: its DT_NEEDED libraries, its DT_SONAME and its interpreter.

export interface ElfDynamicInfo {
  /** Libraries the file needs, by soname (libc.so.6). */
  needed: string[];
  /** The library's own soname, when it is a shared library. */
  soname?: string;
  /** PT_INTERP: the program's dynamic loader (/lib/ld-linux-aarch64.so.1); absent for libraries and static programs. */
  interpreter?: string;
  machine: number;
}

const PT_INTERP = 3;
const PT_DYNAMIC = 2;
const PT_LOAD = 1;
const DT_NULL = 0;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_SONAME = 14;
export const EM_AARCH64 = 183;

export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 64 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

/** Parses a little-endian ELF64 file; undefined for anything else (a script, a 32-bit or big-endian file). */
export function readElfDynamic(bytes: Uint8Array): ElfDynamicInfo | undefined {
  if (!isElf(bytes) || bytes[4] !== 2 || bytes[5] !== 1) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u64 = (offset: number) => Number(view.getBigUint64(offset, true));
  const machine = view.getUint16(18, true);
  const phoff = u64(32);
  const phentsize = view.getUint16(54, true);
  const phnum = view.getUint16(56, true);
  const loads: Array<{ vaddr: number; offset: number; filesz: number }> = [];
  let dynamic: { offset: number; size: number } | undefined;
  let interpreter: string | undefined;
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 56 > bytes.length) return undefined;
    const type = view.getUint32(at, true);
    const offset = u64(at + 8);
    const vaddr = u64(at + 16);
    const filesz = u64(at + 32);
    if (type === PT_LOAD) loads.push({ vaddr, offset, filesz });
    if (type === PT_DYNAMIC) dynamic = { offset, size: filesz };
    if (type === PT_INTERP) interpreter = cString(bytes, offset, offset + filesz);
  }
  const info: ElfDynamicInfo = { needed: [], machine, ...(interpreter && { interpreter }) };
  if (!dynamic) return info;
  // DT_STRTAB is a virtual address: map it back to a file offset through the PT_LOAD segments
  const fileOffset = (vaddr: number) => {
    const segment = loads.find((l) => vaddr >= l.vaddr && vaddr < l.vaddr + l.filesz);
    return segment ? vaddr - segment.vaddr + segment.offset : undefined;
  };
  const entries: Array<[number, number]> = [];
  for (let at = dynamic.offset; at + 16 <= Math.min(bytes.length, dynamic.offset + dynamic.size); at += 16) {
    const tag = u64(at);
    if (tag === DT_NULL) break;
    entries.push([tag, u64(at + 8)]);
  }
  const strtab = fileOffset(entries.find(([tag]) => tag === DT_STRTAB)?.[1] ?? -1);
  if (strtab === undefined) return info;
  for (const [tag, value] of entries) {
    if (tag === DT_NEEDED) info.needed.push(cString(bytes, strtab + value));
    if (tag === DT_SONAME) info.soname = cString(bytes, strtab + value);
  }
  return info;
}

function cString(bytes: Uint8Array, start: number, end = bytes.length): string {
  let stop = start;
  while (stop < end && stop < bytes.length && bytes[stop] !== 0) stop++;
  return new TextDecoder('latin1').decode(bytes.subarray(start, stop));
}

export interface LibraryClosure {
  /** Every library the programs load, by soname, with the bytes to ship. */
  libraries: Map<string, { path: string; bytes: Uint8Array }>;
  /** Sonames no candidate provides. */
  missing: string[];
}

/** The libraries `programs` load, transitively, chosen among `candidates` (indexed by their DT_SONAME or file name). */
export function libraryClosure(programs: Uint8Array[], candidates: Map<string, Uint8Array>): LibraryClosure {
  const bySoname = new Map<string, { path: string; bytes: Uint8Array }>();
  for (const [path, bytes] of candidates) {
    const info = readElfDynamic(bytes);
    if (!info) continue;
    const name = info.soname ?? path.slice(path.lastIndexOf('/') + 1);
    if (!bySoname.has(name)) bySoname.set(name, { path, bytes });
  }
  const libraries = new Map<string, { path: string; bytes: Uint8Array }>();
  const missing = new Set<string>();
  const queue = programs.flatMap((program) => readElfDynamic(program)?.needed ?? []);
  while (queue.length > 0) {
    const soname = queue.shift()!;
    if (libraries.has(soname) || missing.has(soname)) continue;
    const found = bySoname.get(soname);
    if (!found) {
      missing.add(soname);
      continue;
    }
    libraries.set(soname, found);
    queue.push(...(readElfDynamic(found.bytes)?.needed ?? []));
  }
  return { libraries, missing: [...missing] };
}

/** `depends=` of a kernel module's .modinfo: the modules it needs loaded first. */
export function moduleDepends(ko: Uint8Array): string[] {
  const text = new TextDecoder('latin1').decode(ko);
  const match = /(?:^|\0)depends=([^\0]*)\0/.exec(text);
  return match && match[1] ? match[1].split(',').filter(Boolean) : [];
}
