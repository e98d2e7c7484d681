// A card from nothing: an MBR and one bootable FAT32 partition sized to its files plus headroom, holding the firmware,
// config.txt (written whole), U-Boot, the scripts and, SD-only, every component. No base image to download.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { mergeConfigTxt } from '../../../shared/boot/config-txt';
import { ImagerError } from '../../../shared/errors';
import type { BootEdit } from '../../node/fat/boot-edit';
import { createFatDiskImage, type FatImageFile } from '../../node/fat';
import { cachePaths, checkFreeSpace, ownedName } from './compose';

const MiB = 1024 * 1024;
/** The smallest fresh card: FAT32 from 64 MiB on; 128 MiB leaves room for a bigger kernel later. */
const MIN_CARD_MiB = 128;

/** The image size for `bytes` of files: half again as much room, at least 128 MiB, a power of two (what SD cards and QEMU's SD model take). */
export function freshCardSizeMiB(bytes: number): number {
  const wanted = Math.max(MIN_CARD_MiB, Math.ceil((bytes * 1.5) / MiB) + 16);
  return 2 ** Math.ceil(Math.log2(wanted));
}

/** The files of a fresh card: the edit's files (read when given by path) and config.txt made from the rules. */
export function freshCardFiles(edit: BootEdit): FatImageFile[] {
  const files: FatImageFile[] = edit.files.map((file) => {
    if (file.bytes) return { name: file.name, bytes: file.bytes };
    try {
      return { name: file.name, bytes: new Uint8Array(fs.readFileSync(file.path!)) };
    } catch (error) {
      throw new ImagerError({
        code: 'SOURCE_NOT_FOUND',
        subject: file.path,
        message: `${file.name} for the card cannot be read from ${file.path}: ${(error as Error).message}.`,
        hint: 'Check that the file exists (fetch the parts again if it came from Debian).',
        details: { phase: 'preparing' },
      });
    }
  });
  if (edit.configTxt) {
    const text = typeof edit.configTxt === 'function' ? edit.configTxt(undefined) : mergeConfigTxt(undefined, edit.configTxt).text;
    files.push({ name: 'config.txt', bytes: new TextEncoder().encode(text) });
  }
  return files;
}

/** Builds the fresh card image in the cache's work folder; the caller writes it, then removes it. */
export async function composeFreshCard(edit: BootEdit, cacheDir: string): Promise<{ image: string; files: string[]; sizeMiB: number }> {
  const files = freshCardFiles(edit);
  const bytes = files.reduce((sum, file) => sum + file.bytes.length, 0);
  const sizeMiB = freshCardSizeMiB(bytes);
  const work = cachePaths(cacheDir).work;
  fs.mkdirSync(work, { recursive: true });
  checkFreeSpace(work, sizeMiB * MiB, 'build the fresh card image');
  const image = path.join(work, ownedName(randomUUID(), '.img'));
  try {
    await createFatDiskImage(image, { sizeMiB, label: 'BOOT', files, fatType: 32 });
  } catch (error) {
    fs.rmSync(image, { force: true });
    throw error;
  }
  return { image, files: files.map((file) => file.name), sizeMiB };
}
