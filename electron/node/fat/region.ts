// Finds the first FAT partition of an image file or block device, and measures files and devices alike.
import fs from 'node:fs';
import path from 'node:path';
import { ImagerError } from '../../../shared/errors';
import { looksLikeFatBootSector, readPartitionTable, type PartitionTable } from '../../../shared/drives/partition-table';
import type { FatRegion } from './volume';

/** Byte size of a regular file, or of a block device (whose stat size is 0 on Linux). */
export function byteSizeOf(target: string): number {
  const stat = fs.statSync(target);
  if (stat.isFile()) return stat.size;
  if (stat.isBlockDevice() && process.platform === 'linux') {
    const name = path.basename(fs.realpathSync(target));
    const sectors = Number(fs.readFileSync(`/sys/class/block/${name}/size`, 'utf8').trim());
    return sectors * 512;
  }
  // Elsewhere: find the end by probing reads (rare: only used when no table gives the size).
  const fd = fs.openSync(target, 'r');
  try {
    return probeEnd(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function probeEnd(fd: number): number {
  const one = new Uint8Array(1);
  const readable = (at: number) => {
    try {
      return fs.readSync(fd, one, 0, 1, at) === 1;
    } catch {
      return false;
    }
  };
  let high = 1;
  while (readable(high * 512)) high *= 2;
  let low = Math.floor(high / 2);
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (readable(middle * 512)) low = middle;
    else high = middle;
  }
  return high * 512;
}

/** Synchronous positional reads of a descriptor, for the pure partition-table parser. */
export function readerFor(fd: number) {
  return (offset: number, length: number): Uint8Array => {
    const bytes = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const got = fs.readSync(fd, bytes, done, length - done, offset + done);
      if (got === 0) break;
      done += got;
    }
    return done === length ? bytes : bytes.subarray(0, done);
  };
}

export function readPartitionTableOf(target: string): PartitionTable | undefined {
  const fd = fs.openSync(target, 'r');
  try {
    return readPartitionTable(readerFor(fd));
  } finally {
    fs.closeSync(fd);
  }
}

export interface FindFatOptions {
  /** Use this 1-based partition instead of the first FAT one. */
  partition?: number;
}

/**
 * The byte range of the first partition that holds a FAT file system (the Raspberry Pi boot
 * partition), or the whole target when it is a bare FAT volume without a partition table.
 */
export function findFatPartition(target: string, options: FindFatOptions = {}): FatRegion {
  const fd = fs.openSync(target, 'r');
  try {
    const read = readerFor(fd);
    const table = readPartitionTable(read);
    if (!table) {
      if (looksLikeFatBootSector(read(0, 512))) return { path: target, offset: 0, size: byteSizeOf(target) };
      throw new ImagerError({
        code: 'NO_PARTITION_TABLE',
        subject: target,
        message: `${target} has no partition table and no FAT file system.`,
        hint: 'Choose a Raspberry Pi OS image or card, or flash a base image first.',
      });
    }
    const candidates = options.partition === undefined ? table.partitions : table.partitions.filter((p) => p.index === options.partition);
    const fat = candidates.find((p) => looksLikeFatBootSector(read(p.offset, 512)));
    if (!fat) {
      throw new ImagerError({
        code: 'NO_FAT_PARTITION',
        subject: target,
        message:
          options.partition === undefined
            ? `${target} has no FAT partition (a Raspberry Pi boot partition).`
            : `Partition ${options.partition} of ${target} is not a FAT file system.`,
        hint: 'Choose a Raspberry Pi OS image or card; its first partition is the FAT boot partition.',
        details: { partitions: table.partitions },
      });
    }
    return { path: target, offset: fat.offset, size: fat.size };
  } finally {
    fs.closeSync(fd);
  }
}
