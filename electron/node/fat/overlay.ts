// Sectors written over a base image without touching it: the boot-partition edit of a card image, kept in memory and applied on the way to the card.

const SECTOR = 512;

export interface OverlayExtent {
  offset: number;
  length: number;
}

/**
 * Edits of a disk image as whole 512-byte sectors keyed by their byte offset. The base file
 * (the cached decompressed image) stays as downloaded; reads of the composed image are the
 * base bytes with these sectors laid over them.
 */
export class ImageOverlay {
  private readonly sectors = new Map<number, Uint8Array>();
  private sortedCache: number[] | undefined;

  get isEmpty(): boolean {
    return this.sectors.size === 0;
  }

  /** Bytes held (sectors × 512). */
  get bytes(): number {
    return this.sectors.size * SECTOR;
  }

  /** Stores `length` bytes of `source` (from `sourceOffset`) as the sectors at `offset`; both must be whole sectors. */
  write(source: Uint8Array, sourceOffset: number, length: number, offset: number): void {
    if (offset % SECTOR !== 0 || length % SECTOR !== 0)
      throw new Error(`overlay writes must be whole sectors (offset ${offset}, length ${length})`);
    for (let done = 0; done < length; done += SECTOR) {
      this.sectors.set(offset + done, source.slice(sourceOffset + done, sourceOffset + done + SECTOR));
    }
    this.sortedCache = undefined;
  }

  private sorted(): number[] {
    this.sortedCache ??= [...this.sectors.keys()].sort((a, b) => a - b);
    return this.sortedCache;
  }

  /** Lays the overlay over `buffer`, which holds the base bytes of [offset, offset + length). */
  apply(buffer: Uint8Array, offset: number, length: number, bufferOffset = 0): void {
    if (this.sectors.size === 0) return;
    const keys = this.sorted();
    let low = 0;
    let high = keys.length;
    // First sector that ends after `offset`.
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((keys[middle] as number) + SECTOR <= offset) low = middle + 1;
      else high = middle;
    }
    const end = offset + length;
    for (let i = low; i < keys.length; i++) {
      const at = keys[i] as number;
      if (at >= end) break;
      const sector = this.sectors.get(at) as Uint8Array;
      const from = Math.max(at, offset);
      const to = Math.min(at + SECTOR, end);
      buffer.set(sector.subarray(from - at, to - at), bufferOffset + from - offset);
    }
  }

  /** The edited byte ranges, merged. */
  extents(): OverlayExtent[] {
    const out: OverlayExtent[] = [];
    for (const at of this.sorted()) {
      const last = out[out.length - 1];
      if (last && last.offset + last.length === at) last.length += SECTOR;
      else out.push({ offset: at, length: SECTOR });
    }
    return out;
  }
}
