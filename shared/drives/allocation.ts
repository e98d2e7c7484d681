// Which bytes of a disk image matter: the partition table's gaps, and what the FAT and ext4 file systems say they use.
import { readPartitionTable, type ReadAt } from './partition-table';

export interface ByteRange {
  offset: number;
  length: number;
}

export interface AllocationMap {
  ranges: ByteRange[];
  /** Sum of the ranges' lengths. */
  usedBytes: number;
  /** How each partition was mapped, for logs and tests. */
  partitions: { index: number; fileSystem: 'fat' | 'ext' | 'unknown'; usedBytes: number; size: number }[];
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Collects ranges in any order and returns them sorted and merged. */
class RangeSet {
  private list: ByteRange[] = [];

  add(offset: number, length: number): void {
    if (length > 0) this.list.push({ offset, length });
  }

  /** Sorted, merged, each end rounded out to `align` and gaps below `minGap` closed; clipped to [0, limit). */
  normalised(align: number, minGap: number, limit: number): ByteRange[] {
    const sorted = this.list
      .map((r) => ({ start: Math.floor(r.offset / align) * align, end: Math.min(limit, Math.ceil((r.offset + r.length) / align) * align) }))
      .filter((r) => r.end > r.start)
      .sort((a, b) => a.start - b.start);
    const merged: { start: number; end: number }[] = [];
    for (const r of sorted) {
      const last = merged[merged.length - 1];
      if (last && r.start <= last.end + minGap) last.end = Math.max(last.end, r.end);
      else merged.push({ ...r });
    }
    return merged.map((r) => ({ offset: r.start, length: r.end - r.start }));
  }
}

/** Ranges a FAT12/16/32 volume uses (boot, FATs, root folder, allocated clusters), relative to the volume; undefined if not FAT. */
export function fatUsedRanges(readAt: ReadAt, base: number, size: number): ByteRange[] | undefined {
  const boot = readAt(base, 512);
  if (boot.length < 512 || boot[510] !== 0x55 || boot[511] !== 0xaa) return undefined;
  const v = view(boot);
  const bytesPerSector = v.getUint16(11, true);
  const sectorsPerCluster = v.getUint8(13);
  const reserved = v.getUint16(14, true);
  const fats = v.getUint8(16);
  const rootEntries = v.getUint16(17, true);
  const totalSectors = v.getUint16(19, true) || v.getUint32(32, true);
  const fatSectors = v.getUint16(22, true) || v.getUint32(36, true);
  if (![512, 1024, 2048, 4096].includes(bytesPerSector) || sectorsPerCluster === 0 || fats === 0 || fatSectors === 0 || reserved === 0)
    return undefined;
  if (totalSectors * bytesPerSector > size) return undefined;
  const rootSectors = Math.ceil((rootEntries * 32) / bytesPerSector);
  const metaSectors = reserved + fats * fatSectors + rootSectors;
  const clusters = Math.floor((totalSectors - metaSectors) / sectorsPerCluster);
  const bits = clusters < 4085 ? 12 : clusters < 65525 ? 16 : 32;
  const ranges: ByteRange[] = [{ offset: 0, length: metaSectors * bytesPerSector }];
  const fat = readAt(base + reserved * bytesPerSector, fatSectors * bytesPerSector);
  const fv = view(fat);
  const clusterBytes = sectorsPerCluster * bytesPerSector;
  const dataStart = metaSectors * bytesPerSector;
  // Runs of used clusters become one range each (a FAT32 card has hundreds of thousands of clusters).
  let runStart = -1;
  for (let cluster = 2; cluster <= clusters + 2; cluster++) {
    let entry: number;
    if (cluster === clusters + 2) entry = 0;
    else if (bits === 32) entry = cluster * 4 + 4 <= fat.length ? fv.getUint32(cluster * 4, true) & 0x0fffffff : 1;
    else if (bits === 16) entry = cluster * 2 + 2 <= fat.length ? fv.getUint16(cluster * 2, true) : 1;
    else {
      const at = Math.floor(cluster * 1.5);
      const pair = at + 2 <= fat.length ? fv.getUint16(at, true) : 0xfff;
      entry = cluster & 1 ? pair >> 4 : pair & 0xfff;
    }
    // Anything but "free" (0) counts: allocated, end of chain, bad, reserved. A FAT not read (yet) counts as used.
    if (entry !== 0 && runStart < 0) runStart = cluster;
    if (entry === 0 && runStart >= 0) {
      ranges.push({ offset: dataStart + (runStart - 2) * clusterBytes, length: (cluster - runStart) * clusterBytes });
      runStart = -1;
    }
  }
  return ranges;
}

const EXT_MAGIC = 0xef53;
const INCOMPAT_64BIT = 0x80;
const INCOMPAT_META_BG = 0x10;
const RO_COMPAT_SPARSE_SUPER = 0x1;
const RO_COMPAT_GDT_CSUM = 0x10;
const RO_COMPAT_METADATA_CSUM = 0x400;
const COMPAT_SPARSE_SUPER2 = 0x200;
const BG_BLOCK_UNINIT = 0x2;

function isPowerOf(n: number, base: number): boolean {
  if (n < 1) return false;
  while (n % base === 0) n /= base;
  return n === 1;
}

/** Ranges an ext2/3/4 volume uses (per its block bitmaps and group metadata), relative to the volume; undefined if not ext or unusual. */
export function extUsedRanges(readAt: ReadAt, base: number, size: number): ByteRange[] | undefined {
  const sb = readAt(base + 1024, 1024);
  if (sb.length < 1024) return undefined;
  const v = view(sb);
  if (v.getUint16(0x38, true) !== EXT_MAGIC) return undefined;
  const incompat = v.getUint32(0x60, true);
  const roCompat = v.getUint32(0x64, true);
  const compat = v.getUint32(0x5c, true);
  if (incompat & INCOMPAT_META_BG) return undefined; // a different descriptor layout: write it all
  const blockSize = 1024 << v.getUint32(0x18, true);
  const is64 = (incompat & INCOMPAT_64BIT) !== 0;
  const blocks = v.getUint32(0x4, true) + (is64 ? v.getUint32(0x150, true) * 2 ** 32 : 0);
  const firstDataBlock = v.getUint32(0x14, true);
  const blocksPerGroup = v.getUint32(0x20, true);
  const inodesPerGroup = v.getUint32(0x28, true);
  const inodeSize = v.getUint16(0x58, true) || 128;
  const descSize = is64 ? v.getUint16(0xfe, true) || 64 : 32;
  const reservedGdt = v.getUint16(0xce, true);
  if (blockSize > 65536 || blocksPerGroup === 0 || blocks * blockSize > size) return undefined;
  const groups = Math.ceil((blocks - firstDataBlock) / blocksPerGroup);
  const gdtBlocks = Math.ceil((groups * descSize) / blockSize);
  const gdt = readAt(base + (firstDataBlock + 1) * blockSize, gdtBlocks * blockSize);
  if (gdt.length < groups * descSize) return undefined;
  const gv = view(gdt);
  const uninitMeaningful = (roCompat & (RO_COMPAT_GDT_CSUM | RO_COMPAT_METADATA_CSUM)) !== 0;
  const backupGroups = new Set<number>();
  if (compat & COMPAT_SPARSE_SUPER2) [v.getUint32(0x24c, true), v.getUint32(0x250, true)].forEach((g) => g && backupGroups.add(g));
  const hasBackup = (g: number) =>
    g === 0 ||
    (compat & COMPAT_SPARSE_SUPER2
      ? backupGroups.has(g)
      : !(roCompat & RO_COMPAT_SPARSE_SUPER) || g === 1 || isPowerOf(g, 3) || isPowerOf(g, 5) || isPowerOf(g, 7));
  const ranges: ByteRange[] = [{ offset: 0, length: (firstDataBlock + 1 + gdtBlocks + reservedGdt) * blockSize }];
  const addBlocks = (first: number, count: number) => ranges.push({ offset: first * blockSize, length: count * blockSize });
  const inodeTableBlocks = Math.ceil((inodesPerGroup * inodeSize) / blockSize);
  for (let g = 0; g < groups; g++) {
    const d = g * descSize;
    const hi = (at: number) => (is64 && descSize >= 64 ? gv.getUint32(d + at, true) * 2 ** 32 : 0);
    const blockBitmap = gv.getUint32(d, true) + hi(0x20);
    const inodeBitmap = gv.getUint32(d + 4, true) + hi(0x24);
    const inodeTable = gv.getUint32(d + 8, true) + hi(0x28);
    const flags = gv.getUint16(d + 0x12, true);
    addBlocks(blockBitmap, 1);
    addBlocks(inodeBitmap, 1);
    addBlocks(inodeTable, inodeTableBlocks);
    const groupStart = firstDataBlock + g * blocksPerGroup;
    const groupBlocks = Math.min(blocksPerGroup, blocks - groupStart);
    if (uninitMeaningful && flags & BG_BLOCK_UNINIT) {
      // No bitmap on disk: the group holds only its superblock backup and descriptor copies.
      if (hasBackup(g)) addBlocks(groupStart, 1 + gdtBlocks + reservedGdt);
      continue;
    }
    if (blockBitmap >= blocks) return undefined;
    const bitmap = readAt(base + blockBitmap * blockSize, blockSize);
    if (bitmap.length < Math.ceil(groupBlocks / 8)) {
      // The bitmap is not readable (yet, while an image streams in): the whole group counts as used.
      addBlocks(groupStart, groupBlocks);
      continue;
    }
    let runStart = -1;
    for (let i = 0; i <= groupBlocks; i++) {
      const used = i < groupBlocks && ((bitmap[i >> 3] ?? 0) & (1 << (i & 7))) !== 0;
      if (used && runStart < 0) runStart = i;
      if (!used && runStart >= 0) {
        addBlocks(groupStart + runStart, i - runStart);
        runStart = -1;
      }
    }
  }
  return ranges;
}

/** One partition's used ranges (relative to it) and its file system. */
function partitionRanges(
  readAt: ReadAt,
  base: number,
  size: number,
  align: number,
): { ranges: ByteRange[]; fileSystem: 'fat' | 'ext' | 'unknown' } {
  const fat = fatUsedRanges(readAt, base, size);
  const ext = fat ? undefined : extUsedRanges(readAt, base, size);
  const local = new RangeSet();
  for (const r of fat ?? ext ?? [{ offset: 0, length: size }]) local.add(r.offset, r.length);
  return { ranges: local.normalised(align, 0, size), fileSystem: fat ? 'fat' : ext ? 'ext' : 'unknown' };
}

export interface AllocationOptions {
  /** Round ranges out to this many bytes (O_DIRECT wants 4 KiB). */
  align?: number;
  /** Merge ranges separated by less than this: one longer write beats two seeks on an SD card. */
  minGap?: number;
  /**
   * While an image streams in: how many of its first bytes are final. A partition that lies wholly
   * below it is read once and remembered in `memo` (keyed by its offset) for the next call.
   */
  available?: number;
  memo?: Map<number, { ranges: ByteRange[]; fileSystem: 'fat' | 'ext' | 'unknown' }>;
}

/**
 * The byte ranges of a disk image that must be written for every partition to read back the
 * same: everything outside partitions (MBR, gaps, GPT copies), the used parts of FAT and ext
 * file systems, and all of any other partition.
 */
export function usedRanges(readAt: ReadAt, imageSize: number, options: AllocationOptions = {}): AllocationMap {
  const align = options.align ?? 4096;
  const minGap = options.minGap ?? 256 * 1024;
  const table = readPartitionTable(readAt);
  const set = new RangeSet();
  const partitions: AllocationMap['partitions'] = [];
  if (!table) {
    set.add(0, imageSize);
  } else {
    let cursor = 0;
    const sorted = [...table.partitions].sort((a, b) => a.offset - b.offset);
    for (const p of sorted) {
      if (p.offset > cursor) set.add(cursor, p.offset - cursor);
      cursor = Math.max(cursor, p.offset + p.size);
      const size = Math.min(p.size, imageSize - p.offset);
      const mapped = options.memo?.get(p.offset) ?? partitionRanges(readAt, p.offset, size, align);
      if (options.memo && p.offset + size <= (options.available ?? 0)) options.memo.set(p.offset, mapped);
      for (const r of mapped.ranges) set.add(p.offset + r.offset, r.length);
      partitions.push({ index: p.index, fileSystem: mapped.fileSystem, usedBytes: mapped.ranges.reduce((n, r) => n + r.length, 0), size });
    }
    // Everything after the last partition too (a GPT's backup table lives there).
    if (cursor < imageSize) set.add(cursor, imageSize - cursor);
  }
  const ranges = set.normalised(align, minGap, imageSize);
  return { ranges, usedBytes: ranges.reduce((n, r) => n + r.length, 0), partitions };
}
