// Fake boot components for tests: heads that carry the magic numbers real files have, and their sizes.
import type { BootComponent } from '../../../shared/boot/stage2';

/** The first 64 bytes of an arm64 Image whose header says image_size (defaults to the file size). */
export function arm64Head(imageSize: number): Uint8Array {
  const head = new Uint8Array(64);
  const view = new DataView(head.buffer);
  head[0] = 0x4d; // "MZ" as an EFI-stub kernel has
  head[1] = 0x5a;
  view.setUint32(16, imageSize % 0x1_0000_0000, true);
  view.setUint32(20, Math.floor(imageSize / 0x1_0000_0000), true);
  view.setUint32(24, 0b1010, true); // little-endian, 4K pages
  head.set([0x41, 0x52, 0x4d, 0x64], 56);
  return head;
}

export const kernel = (path: string, size: number, imageSize = size): BootComponent => ({ path, size, head: arm64Head(imageSize) });

export const cpioHead = () => new TextEncoder().encode('07070100000001000041ed');
export const cpio = (path: string, size: number): BootComponent => ({ path, size, head: cpioHead() });
export const gzipped = (path: string, size: number, inner: Uint8Array): BootComponent => ({
  path,
  size,
  head: Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]),
  gunzippedHead: inner,
});

export function dtbHead(size: number): Uint8Array {
  const head = new Uint8Array(40);
  const view = new DataView(head.buffer);
  view.setUint32(0, 0xd00dfeed);
  view.setUint32(4, size);
  view.setUint32(20, 17);
  return head;
}
export const dtb = (path: string, size: number): BootComponent => ({ path, size, head: dtbHead(size) });
export const data = (path: string, size: number): BootComponent => ({ path, size, head: Uint8Array.from([0x00, 0x01, 0x02, 0xff, 0x10]) });
export const text = (path: string, body: string): BootComponent => ({ path, size: body.length, head: new TextEncoder().encode(body) });
