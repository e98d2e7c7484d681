// The boot-partition edit kept as an overlay of sectors over the untouched base image.
import { describe, expect, it } from 'vitest';
import { ImageOverlay } from '../../../electron/node/fat/overlay';

describe('the image overlay', () => {
  it('lays edited sectors over base bytes, also across a read that starts and ends mid-sector', () => {
    const overlay = new ImageOverlay();
    const sectors = new Uint8Array(1024).fill(0xaa);
    overlay.write(sectors, 0, 1024, 4096);
    overlay.write(new Uint8Array(512).fill(0xbb), 0, 512, 8192);
    const base = new Uint8Array(8000).fill(1);
    overlay.apply(base, 4000, 8000);
    expect(base[95]).toBe(1); // byte 4095
    expect(base[96]).toBe(0xaa); // byte 4096
    expect(base[96 + 1023]).toBe(0xaa);
    expect(base[96 + 1024]).toBe(1); // byte 5120
    expect(base[4192]).toBe(0xbb); // byte 8192
    expect(base[4192 + 512]).toBe(1);
    expect(overlay.extents()).toEqual([
      { offset: 4096, length: 1024 },
      { offset: 8192, length: 512 },
    ]);
    expect(() => overlay.write(sectors, 0, 100, 0)).toThrow(/whole sectors/);
  });
});
