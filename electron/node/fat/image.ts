// Builds a disk image from nothing: an MBR with one bootable FAT16/FAT32 partition holding the given files.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { buildMbr } from '../../../shared/drives/partition-table';
import { ImagerError } from '../../../shared/errors';
import { FatVolume, type FatRegion } from './volume';

const SECTOR = 512;
const MiB = 1024 * 1024;
/** Partitions start at 1 MiB: aligned for every SD card's erase block, as fdisk does. */
const PARTITION_START = MiB;
/** Below this, FAT32 cannot reach its minimum of 65525 clusters with small clusters. */
const FAT32_FROM_MiB = 64;

export interface FatImageFile {
  /** Path inside the partition; folders are created ("overlays/disable-bt.dtbo"). */
  name: string;
  bytes: Uint8Array;
}

export interface FatImageOptions {
  /** Size of the whole image; the partition fills it from 1 MiB on. */
  sizeMiB: number;
  /** Volume label, up to 11 characters (upper-cased), e.g. "BOOTFS". */
  label?: string;
  files: FatImageFile[];
  /** FAT16 or FAT32; by default FAT32 from 64 MiB on, FAT16 below. */
  fatType?: 16 | 32;
}

export interface FatImage {
  path: string;
  /** Byte range of the FAT partition inside the image (for `mcopy -i IMG@@OFFSET`). */
  partitionOffset: number;
  partitionSize: number;
  fatType: 16 | 32;
}

function labelBytes(label: string): Uint8Array {
  const upper = label.toUpperCase();
  if (!/^[A-Z0-9 _\-!#$%&'()@^`{}~]{1,11}$/.test(upper)) {
    throw new ImagerError({
      code: 'INVALID_ARGUMENT',
      subject: 'label',
      message: `"${label}" is not a valid FAT volume label.`,
      hint: 'Use up to 11 letters, digits, spaces, or - _ characters.',
    });
  }
  return new TextEncoder().encode(upper.padEnd(11, ' '));
}

/**
 * FatFs leaves "hidden sectors" at 0 when formatting a region on its own; firmware and fsck
 * expect the partition's start there. It also has no label support in this build: write it in
 * the boot sector(s) and as the root folder's volume-label entry, which must agree for fsck.
 */
function patchBootSector(path: string, region: FatRegion, fatType: 16 | 32, label: Uint8Array | undefined): void {
  const fd = fs.openSync(path, 'r+');
  try {
    const boot = new Uint8Array(SECTOR);
    fs.readSync(fd, boot, 0, SECTOR, region.offset);
    const view = new DataView(boot.buffer);
    view.setUint32(28, region.offset / SECTOR, true);
    if (label) boot.set(label, fatType === 32 ? 71 : 43);
    // FatFs writes "FAT     " as the informational type of FAT16; mkfs.vfat and tools expect "FAT16   ".
    if (fatType === 16) boot.set(new TextEncoder().encode('FAT16   '), 54);
    fs.writeSync(fd, boot, 0, SECTOR, region.offset);
    if (fatType === 32) {
      const backup = view.getUint16(50, true);
      if (backup > 0) fs.writeSync(fd, boot, 0, SECTOR, region.offset + backup * SECTOR);
    }
    if (label) writeLabelEntry(fd, region, view, fatType, label);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function writeLabelEntry(fd: number, region: FatRegion, boot: DataView, fatType: 16 | 32, label: Uint8Array): void {
  const reserved = boot.getUint16(14, true);
  const fats = boot.getUint8(16);
  const clusterSectors = boot.getUint8(13);
  const rootSector =
    fatType === 16
      ? reserved + fats * boot.getUint16(22, true)
      : reserved + fats * boot.getUint32(36, true) + (boot.getUint32(44, true) - 2) * clusterSectors;
  const entry = new Uint8Array(32);
  entry.set(label, 0);
  entry[11] = 0x08; // ATTR_VOLUME_ID
  const now = new Date();
  const time = (now.getHours() << 11) | (now.getMinutes() << 5) | Math.floor(now.getSeconds() / 2);
  const date = ((now.getFullYear() - 1980) << 9) | ((now.getMonth() + 1) << 5) | now.getDate();
  new DataView(entry.buffer).setUint16(22, time, true);
  new DataView(entry.buffer).setUint16(24, date, true);
  fs.writeSync(fd, entry, 0, 32, region.offset + rootSector * SECTOR);
}

/** Creates (or replaces) `path` as an MBR disk image with one bootable FAT partition holding `files`. */
export async function createFatDiskImage(path: string, options: FatImageOptions): Promise<FatImage> {
  const fatType = options.fatType ?? (options.sizeMiB >= FAT32_FROM_MiB ? 32 : 16);
  if (!Number.isInteger(options.sizeMiB) || options.sizeMiB < (fatType === 32 ? 34 : 4)) {
    throw new ImagerError({
      code: 'INVALID_ARGUMENT',
      subject: 'sizeMiB',
      message: `A FAT${fatType} disk image needs a whole number of at least ${fatType === 32 ? 34 : 4} MiB, not ${options.sizeMiB}.`,
      hint: 'Choose a larger size.',
    });
  }
  const label = options.label === undefined ? undefined : labelBytes(options.label);
  const totalBytes = options.sizeMiB * MiB;
  const region: FatRegion = { path, offset: PARTITION_START, size: totalBytes - PARTITION_START };

  fs.rmSync(path, { force: true });
  fs.writeFileSync(path, new Uint8Array(0));
  fs.truncateSync(path, totalBytes);
  try {
    const mbr = buildMbr(
      [{ firstLba: region.offset / SECTOR, sectors: region.size / SECTOR, type: fatType === 32 ? 0x0c : 0x0e, bootable: true }],
      randomBytes(4).readUInt32LE(0),
    );
    const fd = fs.openSync(path, 'r+');
    try {
      fs.writeSync(fd, mbr, 0, SECTOR, 0);
    } finally {
      fs.closeSync(fd);
    }
    await FatVolume.format(region, fatType);
    patchBootSector(path, region, fatType, label);
    const volume = await FatVolume.mount(region, true);
    try {
      for (const file of options.files) volume.writeFile(file.name, file.bytes);
    } finally {
      volume.close();
    }
  } catch (error) {
    fs.rmSync(path, { force: true });
    throw error;
  }
  return { path, partitionOffset: region.offset, partitionSize: region.size, fatType };
}
