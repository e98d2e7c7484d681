// The image as the card should hold it: a raw base file (the cached, decompressed download) with the boot-partition edit laid over it.
import fs from 'node:fs';
import type { ReadAt } from '../../shared/drives/partition-table';
import type { ImageOverlay } from '../node/fat/overlay';

export class ComposedImage {
  private fd: number | undefined;

  constructor(
    readonly path: string,
    readonly size: number,
    readonly overlay?: ImageOverlay,
    /** While the base is still being written (streaming), how many of its first bytes are there; the rest reads as missing. */
    private readonly available: () => number = () => size,
  ) {}

  private descriptor(): number {
    this.fd ??= fs.openSync(this.path, 'r');
    return this.fd;
  }

  /** Fills buffer[0, length) with the composed bytes at `offset` (zeros past the base file's end). */
  async read(buffer: Buffer, offset: number, length: number): Promise<void> {
    const fd = this.descriptor();
    let done = 0;
    while (done < length) {
      const got = await new Promise<number>((resolve, reject) =>
        fs.read(fd, buffer, done, length - done, offset + done, (error, n) => (error ? reject(error) : resolve(n))),
      );
      if (got === 0) break;
      done += got;
    }
    if (done < length) buffer.fill(0, done, length);
    this.overlay?.apply(buffer, offset, length);
  }

  /** Synchronous reads for the partition-table and file-system parsers; short where the base has not arrived yet. */
  readAt: ReadAt = (offset, length) => {
    const end = Math.min(offset + length, this.available(), this.size);
    if (end <= offset) return new Uint8Array(0);
    const bytes = new Uint8Array(end - offset);
    const fd = this.descriptor();
    let done = 0;
    while (done < bytes.length) {
      const got = fs.readSync(fd, bytes, done, bytes.length - done, offset + done);
      if (got === 0) break;
      done += got;
    }
    this.overlay?.apply(bytes, offset, done);
    return done === bytes.length ? bytes : bytes.subarray(0, done);
  };

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
