// What of a card image must be written: the map from the partition table and the file systems, also while the image is still arriving.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usedRanges, type ByteRange } from '../../../shared/drives/allocation';
import type { ReadAt } from '../../../shared/drives/partition-table';
import { buildRpiLikeImage, MiB, tempDir, type TestImageLayout } from '../../helpers/disk-images';

const dir = tempDir('xpi-allocation-');
let layout: TestImageLayout;
let bytes: Buffer;

/** Reads the first `available` bytes of the image; beyond them, reads come back short (not there yet). */
function prefixReader(available: number): ReadAt {
  return (offset, length) => new Uint8Array(bytes.subarray(Math.min(offset, available), Math.min(offset + length, available)));
}

/** Whether every byte of `inner` lies in some range of `outer`. */
function covers(outer: ByteRange[], inner: ByteRange[]): boolean {
  return inner.every((r) => {
    let at = r.offset;
    for (const o of outer) if (o.offset <= at && o.offset + o.length > at) at = Math.max(at, o.offset + o.length);
    return at >= r.offset + r.length;
  });
}

beforeAll(() => {
  layout = buildRpiLikeImage(dir, 'map.img', { rootDataBytes: 5 * MiB, bootFiles: { 'kernel8.img': new Uint8Array(3 * MiB).fill(7) } });
  bytes = fs.readFileSync(layout.path);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the used-blocks map', () => {
  it('keeps the partition table gap, what FAT and ext4 use, and leaves out their free space', () => {
    const map = usedRanges(prefixReader(bytes.length), bytes.length);
    expect(map.partitions.map((p) => p.fileSystem)).toEqual(['fat', 'ext']);
    expect(covers(map.ranges, [{ offset: 0, length: layout.boot.offset }])).toBe(true);
    // The boot files (about 3.2 MiB) and the root's data (5 MiB) are in; most of 40 + 24 MiB is not.
    expect(map.partitions[0]?.usedBytes).toBeGreaterThan(3 * MiB);
    expect(map.partitions[0]?.usedBytes).toBeLessThan(6 * MiB);
    expect(map.partitions[1]?.usedBytes).toBeGreaterThan(5 * MiB);
    expect(map.usedBytes).toBeLessThan(bytes.length / 3);
    // A FAT32 volume's clusters come as a few runs, not one range per cluster.
    expect(map.ranges.length).toBeLessThan(40);
  });

  it('while the image arrives, maps at least everything the complete image needs', () => {
    const final = usedRanges(prefixReader(bytes.length), bytes.length).ranges;
    // Just before ext4's first block bitmap: the superblock and descriptors are there, the bitmap is not.
    const superblock = new DataView(bytes.buffer, bytes.byteOffset + layout.root.offset + 1024, 1024);
    const blockSize = 1024 << superblock.getUint32(0x18, true);
    const descriptors = layout.root.offset + (superblock.getUint32(0x14, true) + 1) * blockSize;
    const firstBitmap = layout.root.offset + new DataView(bytes.buffer, bytes.byteOffset + descriptors, 4).getUint32(0, true) * blockSize;
    const points = [
      MiB,
      firstBitmap,
      firstBitmap + 100,
      layout.boot.offset + 64 * 1024,
      layout.boot.offset + layout.boot.size / 2,
      layout.root.offset + 1024,
      layout.root.offset + 2 * MiB,
      bytes.length - MiB,
    ];
    for (const available of points) {
      const partial = usedRanges(prefixReader(available), bytes.length);
      expect({ available, covers: covers(partial.ranges, final) }).toEqual({ available, covers: true });
    }
    // Once the FAT partition is there, its free space is known to be free.
    const afterBoot = usedRanges(prefixReader(layout.boot.offset + layout.boot.size), bytes.length);
    expect(afterBoot.partitions[0]?.usedBytes).toBe(usedRanges(prefixReader(bytes.length), bytes.length).partitions[0]?.usedBytes);
  });
});
