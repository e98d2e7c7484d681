// Reads the facts the pure boot-chain code needs from real files: size, first bytes, gunzipped first bytes, kernel version.
import { closeSync, readSync } from 'node:fs';
import { constants, gunzipSync } from 'node:zlib';
import type { ComponentFacts } from '../../../shared/boot/generate';
import { detectFile, findLinuxVersion, findXenFacts } from '../../../shared/boot/detect';
import { openUserFile } from '../../node/user-files';

export const HEAD_BYTES = 64 * 1024;
const BANNER_SCAN_LIMIT = 128 * 1024 * 1024;
/** Xen for arm64 is about 1 MiB; an Image larger than this without a Linux banner is not read whole. */
const XEN_SCAN_LIMIT = 32 * 1024 * 1024;

function readRange(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  const read = readSync(fd, buffer, 0, length, position);
  return buffer.subarray(0, read);
}

/** First bytes of a gzip stream's content: decompress a prefix and keep what came out (a cut stream is fine). */
function gunzippedHead(fd: number): Uint8Array | undefined {
  for (const length of [256 * 1024, 4 * 1024 * 1024]) {
    try {
      const out = gunzipSync(readRange(fd, 0, length), { finishFlush: constants.Z_SYNC_FLUSH });
      if (out.length > 0) return new Uint8Array(out.subarray(0, HEAD_BYTES));
    } catch {
      // a larger prefix may get past a long header; give up after the last try
    }
  }
  return undefined;
}

/** The "Linux version" banner, scanned in 8 MiB chunks (it sits in .rodata, a few MiB into an Image). */
function linuxVersion(fd: number, size: number): string | undefined {
  const chunk = 8 * 1024 * 1024;
  for (let position = 0; position < Math.min(size, BANNER_SCAN_LIMIT); position += chunk - 256) {
    const found = findLinuxVersion(readRange(fd, position, chunk));
    if (found) return found;
  }
  return undefined;
}

/** The banner of a gzip'd Image: decompress it whole (bounded) and scan. */
function gzippedLinuxVersion(fd: number, size: number): string | undefined {
  try {
    const image = gunzipSync(readRange(fd, 0, size), { maxOutputLength: BANNER_SCAN_LIMIT, finishFlush: constants.Z_SYNC_FLUSH });
    return findLinuxVersion(image);
  } catch {
    return undefined;
  }
}

const COMPONENT_FILE = {
  what: 'boot component',
  hint: 'Point the profile at the file itself (Xen, the kernel, the ramdisk, the device tree).',
};

/**
 * Facts of one file (following symlinks, like `stat -L`). Only regular files are read, opened without
 * blocking (a FIFO would wait for a writer); throws an ImagerError naming the file otherwise.
 */
export function readComponentFacts(file: string): ComponentFacts {
  const { fd, size } = openUserFile(file, COMPONENT_FILE);
  try {
    const head = new Uint8Array(readRange(fd, 0, HEAD_BYTES));
    const kind = detectFile(head, size).kind;
    const facts: ComponentFacts = { size, head };
    if (kind === 'gzip') {
      const inner = gunzippedHead(fd);
      if (inner) facts.gunzippedHead = inner;
      // a gzip'd Dom0 kernel (Xen decompresses it): its version banner is inside
      if (inner && detectFile(inner, HEAD_BYTES).kind === 'arm64-image' && size <= BANNER_SCAN_LIMIT / 2) {
        const release = gzippedLinuxVersion(fd, size);
        if (release) facts.linuxVersion = release;
      }
    }
    if (kind === 'arm64-image') {
      const release = linuxVersion(fd, size);
      if (release) facts.linuxVersion = release;
      // Xen carries the same Image header: read what it says about itself (its series, its schedulers)
      const xen = !release && size <= XEN_SCAN_LIMIT ? findXenFacts(readRange(fd, 0, size)) : undefined;
      if (xen) facts.xen = xen;
    }
    return facts;
  } finally {
    closeSync(fd);
  }
}
