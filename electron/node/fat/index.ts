// The FAT boot partition toolkit: create a disk image, or open the first FAT partition of an image or card to read and edit it.
import { byteSizeOf, findFatPartition, type FindFatOptions } from './region';
import type { ImageOverlay } from './overlay';
import { FatVolume, type FatEntry, type FatRegion } from './volume';

export { createFatDiskImage, type FatImage, type FatImageFile, type FatImageOptions } from './image';
export { FatVolume, fatResultText, type FatEntry, type FatRegion } from './volume';
export { byteSizeOf, findFatPartition, readPartitionTableOf, readerFor } from './region';
export { ImageOverlay, type OverlayExtent } from './overlay';

export interface OpenFatOptions extends FindFatOptions {
  /** Open read-only (the default is read-write). */
  readOnly?: boolean;
  /** Skip the partition table: the FAT volume starts at this byte offset (size: to the end, or `size`). */
  offset?: number;
  size?: number;
  /** Edit without touching `target`: writes go to (and reads see) this overlay. */
  overlay?: ImageOverlay;
}

/** Mounts the first FAT partition of an image file or block device. Call `close()` when done. */
export async function openFatPartition(target: string, options: OpenFatOptions = {}): Promise<FatVolume> {
  let region: FatRegion;
  if (options.offset !== undefined) {
    region = { path: target, offset: options.offset, size: options.size ?? byteSizeOf(target) - options.offset };
  } else {
    region = findFatPartition(target, options);
  }
  return FatVolume.mount(options.overlay ? { ...region, overlay: options.overlay } : region, !options.readOnly);
}

/** Runs `edit` on the mounted partition and always unmounts, flushing what was written. */
export async function withFatPartition<T>(
  target: string,
  options: OpenFatOptions,
  edit: (volume: FatVolume) => T | Promise<T>,
): Promise<T> {
  const volume = await openFatPartition(target, options);
  try {
    return await edit(volume);
  } finally {
    volume.close();
  }
}

export interface FatFileWrite {
  name: string;
  bytes: Uint8Array;
}

/** Writes (creates or replaces) files in the first FAT partition of `target`. */
export async function writeFatFiles(target: string, files: FatFileWrite[], options: OpenFatOptions = {}): Promise<void> {
  await withFatPartition(target, options, (volume) => {
    for (const file of files) volume.writeFile(file.name, file.bytes);
  });
}

/** Reads files back from the first FAT partition; missing files map to undefined. */
export async function readFatFiles(
  target: string,
  names: string[],
  options: OpenFatOptions = {},
): Promise<Map<string, Uint8Array | undefined>> {
  return withFatPartition(target, { ...options, readOnly: true }, (volume) => new Map(names.map((name) => [name, volume.readFile(name)])));
}

/** Every file and folder of the first FAT partition. */
export async function listFatFiles(target: string, options: OpenFatOptions = {}): Promise<FatEntry[]> {
  return withFatPartition(target, { ...options, readOnly: true }, (volume) => volume.list('', true));
}
