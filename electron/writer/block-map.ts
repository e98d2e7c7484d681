// The ranges of the image a flash writes and verifies: all of it, or only what partitions and file systems use.
import fs from 'node:fs';
import { usedRanges, type AllocationMap } from '../../shared/drives/allocation';
import type { WriteMode } from '../../shared/drives/flash';
import { readerFor } from '../services/fat/region';

export interface Block {
  offset: number;
  length: number;
}

export interface BlockMap {
  imageBytes: number;
  blocks: Block[];
  mappedBytes: number;
  partitions?: AllocationMap['partitions'];
}

export function blockMapOf(image: string, mode: WriteMode): BlockMap {
  const imageBytes = fs.statSync(image).size;
  if (mode === 'full') return { imageBytes, blocks: [{ offset: 0, length: imageBytes }], mappedBytes: imageBytes };
  const fd = fs.openSync(image, 'r');
  try {
    const map = usedRanges(readerFor(fd), imageBytes);
    return { imageBytes, blocks: map.ranges, mappedBytes: map.usedBytes, partitions: map.partitions };
  } finally {
    fs.closeSync(fd);
  }
}
