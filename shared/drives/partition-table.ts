// Reads MBR (with logical partitions) and GPT partition tables from raw sectors, through an injected reader.

/** Reads `length` bytes at byte `offset` of the disk or image; may return fewer bytes at its end. */
export type ReadAt = (offset: number, length: number) => Uint8Array;

export interface PartitionEntry {
  /** 1-based, as Linux numbers them (mmcblk0p1; logical MBR partitions start at 5). */
  index: number;
  /** Byte offset of the partition on the disk. */
  offset: number;
  /** Byte length of the partition. */
  size: number;
  /** MBR type byte as two hex digits ("0c"), or the GPT type GUID in lower case. */
  type: string;
  bootable: boolean;
}

export interface PartitionTable {
  scheme: 'mbr' | 'gpt';
  sectorSize: number;
  partitions: PartitionEntry[];
}

const SECTOR = 512;
const EXTENDED_TYPES = new Set([0x05, 0x0f, 0x85]);
const GPT_PROTECTIVE = 0xee;

function u32(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(at, true);
}

function u64(bytes: Uint8Array, at: number): number {
  return Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(at, true));
}

function hasBootSignature(sector: Uint8Array): boolean {
  return sector.length >= SECTOR && sector[510] === 0x55 && sector[511] === 0xaa;
}

interface RawMbrEntry {
  status: number;
  type: number;
  firstLba: number;
  sectors: number;
}

function mbrEntries(sector: Uint8Array): RawMbrEntry[] {
  const entries: RawMbrEntry[] = [];
  for (let i = 0; i < 4; i++) {
    const at = 446 + i * 16;
    entries.push({ status: sector[at] ?? 0, type: sector[at + 4] ?? 0, firstLba: u32(sector, at + 8), sectors: u32(sector, at + 12) });
  }
  return entries;
}

/** Whether a sector looks like a FAT boot sector (BPB) rather than an MBR. */
export function looksLikeFatBootSector(sector: Uint8Array): boolean {
  if (!hasBootSignature(sector)) return false;
  const jump = sector[0];
  if (jump !== 0xeb && jump !== 0xe9) return false;
  const bytesPerSector = (sector[11] ?? 0) | ((sector[12] ?? 0) << 8);
  const sectorsPerCluster = sector[13] ?? 0;
  return [512, 1024, 2048, 4096].includes(bytesPerSector) && sectorsPerCluster > 0 && (sectorsPerCluster & (sectorsPerCluster - 1)) === 0;
}

/** The partition table of a disk, or undefined when it has none (blank, or a bare file system). */
export function readPartitionTable(readAt: ReadAt): PartitionTable | undefined {
  const mbr = readAt(0, SECTOR);
  if (!hasBootSignature(mbr) || looksLikeFatBootSector(mbr)) return undefined;
  const primaries = mbrEntries(mbr);
  if (primaries.some((entry) => entry.type === GPT_PROTECTIVE)) {
    const gpt = readGpt(readAt);
    if (gpt) return gpt;
  }
  const partitions: PartitionEntry[] = [];
  primaries.forEach((entry, i) => {
    if (entry.type === 0 || entry.sectors === 0) return;
    if (EXTENDED_TYPES.has(entry.type)) {
      partitions.push(...readLogicalPartitions(readAt, entry.firstLba));
      return;
    }
    partitions.push(toEntry(i + 1, entry, 0));
  });
  partitions.sort((a, b) => a.index - b.index);
  return { scheme: 'mbr', sectorSize: SECTOR, partitions };
}

function toEntry(index: number, entry: RawMbrEntry, baseLba: number): PartitionEntry {
  return {
    index,
    offset: (baseLba + entry.firstLba) * SECTOR,
    size: entry.sectors * SECTOR,
    type: entry.type.toString(16).padStart(2, '0'),
    bootable: entry.status === 0x80,
  };
}

function readLogicalPartitions(readAt: ReadAt, extendedLba: number): PartitionEntry[] {
  const found: PartitionEntry[] = [];
  let ebrLba = extendedLba;
  // A corrupt chain could loop; 128 logical partitions is far beyond any real card.
  for (let index = 5; index < 5 + 128; index++) {
    const ebr = readAt(ebrLba * SECTOR, SECTOR);
    if (!hasBootSignature(ebr)) break;
    const [logical, next] = mbrEntries(ebr);
    if (logical && logical.type !== 0 && logical.sectors !== 0) found.push(toEntry(index, logical, ebrLba));
    if (!next || next.type === 0 || next.firstLba === 0) break;
    ebrLba = extendedLba + next.firstLba;
  }
  return found;
}

function guidText(bytes: Uint8Array): string {
  const hex = (from: number, to: number, reverse: boolean) => {
    const part = Array.from(bytes.subarray(from, to), (b) => b.toString(16).padStart(2, '0'));
    return (reverse ? part.reverse() : part).join('');
  };
  return [hex(0, 4, true), hex(4, 6, true), hex(6, 8, true), hex(8, 10, false), hex(10, 16, false)].join('-');
}

function readGpt(readAt: ReadAt): PartitionTable | undefined {
  const header = readAt(SECTOR, SECTOR);
  const signature = String.fromCharCode(...header.subarray(0, 8));
  if (signature !== 'EFI PART') return undefined;
  const entriesLba = u64(header, 72);
  const count = Math.min(u32(header, 80), 1024);
  const entrySize = u32(header, 84);
  if (entrySize < 128) return undefined;
  const table = readAt(entriesLba * SECTOR, count * entrySize);
  const partitions: PartitionEntry[] = [];
  for (let i = 0; i < count; i++) {
    const entry = table.subarray(i * entrySize, (i + 1) * entrySize);
    if (entry.length < 128 || entry.subarray(0, 16).every((b) => b === 0)) continue;
    const first = u64(entry, 32);
    const last = u64(entry, 40);
    const attributes = new DataView(entry.buffer, entry.byteOffset).getBigUint64(48, true);
    partitions.push({
      index: i + 1,
      offset: first * SECTOR,
      size: (last - first + 1) * SECTOR,
      type: guidText(entry.subarray(0, 16)),
      bootable: (attributes & 4n) !== 0n,
    });
  }
  return { scheme: 'gpt', sectorSize: SECTOR, partitions };
}

export interface MbrPartitionSpec {
  /** First sector (512 bytes) of the partition. */
  firstLba: number;
  sectors: number;
  /** MBR type byte: 0x0c FAT32 (LBA), 0x0e FAT16 (LBA), 0x83 Linux. */
  type: number;
  bootable?: boolean;
}

/** A 512-byte MBR sector holding up to four primary partitions (CHS fields set to the LBA marker). */
export function buildMbr(partitions: MbrPartitionSpec[], diskSignature: number): Uint8Array {
  if (partitions.length > 4) throw new RangeError('An MBR holds at most four primary partitions.');
  const sector = new Uint8Array(SECTOR);
  const view = new DataView(sector.buffer);
  view.setUint32(440, diskSignature >>> 0, true);
  partitions.forEach((partition, i) => {
    const at = 446 + i * 16;
    sector[at] = partition.bootable ? 0x80 : 0;
    // CHS 1023/254/63: "use the LBA fields", what every modern partitioner writes.
    sector.set([0xfe, 0xff, 0xff], at + 1);
    sector[at + 4] = partition.type;
    sector.set([0xfe, 0xff, 0xff], at + 5);
    view.setUint32(at + 8, partition.firstLba, true);
    view.setUint32(at + 12, partition.sectors, true);
  });
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}
