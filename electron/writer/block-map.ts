// The ranges of the image a flash writes and verifies: all of it, or only what the partition table and file systems use.
import { usedRanges, type AllocationMap, type AllocationOptions, type ByteRange } from '../../shared/drives/allocation';
import type { WriteMode } from '../../shared/drives/flash';
import type { ComposedImage } from './composed-image';

export type Block = ByteRange;

export interface BlockMap {
  blocks: Block[];
  mappedBytes: number;
  partitions?: AllocationMap['partitions'];
}

/** The drive map of the composed image (while it streams in, a superset of the final one; pass `stream` to remember complete partitions). */
export function mapOf(image: ComposedImage, mode: WriteMode, stream?: Pick<AllocationOptions, 'available' | 'memo'>): BlockMap {
  if (mode === 'full') return { blocks: [{ offset: 0, length: image.size }], mappedBytes: image.size };
  const map = usedRanges(image.readAt, image.size, stream);
  return { blocks: map.ranges, mappedBytes: map.usedBytes, partitions: map.partitions };
}
