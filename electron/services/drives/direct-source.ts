// Prepares a base image for the writer to compose and write directly: no working copy; an .img.xz not yet cached streams straight to the cards.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FlashRequest } from '../../../shared/drives/flash';
import { ImagerError } from '../../../shared/errors';
import { findExecutable } from '../../node/host-tools';
import { cachePaths, checkFreeSpace, decompressedBase, localSource, ownedName, type ComposeProgress } from './compose';
import { decompressedSize, formatOf, isUrl, sha256File, sourceFormat } from './source';

export interface DirectSourceOptions {
  source: string;
  sha256?: string;
  cacheDir: string;
  onProgress?: (progress: ComposeProgress) => void;
  signal?: AbortSignal;
}

export interface DirectSource {
  /** What the writer reads: a raw image, or (with `stream`) the compressed source. */
  image: string;
  imageBytes: number;
  stream?: NonNullable<FlashRequest['stream']>;
  /** The decompressed base came from the cache. */
  reusedBase: boolean;
  /** After the writer finished: the source's SHA-256 (checked against the expected one), the stream's image kept in the cache. */
  finish(writerSha256: string | undefined, succeeded: boolean): Promise<string>;
  /** The user-facing name of the source (its file name or URL), for the drive-holding-the-source check. */
  sourcePath?: string;
}

interface HashMemo {
  [file: string]: { size: number; mtimeMs: number; sha256: string };
}

/** SHA-256 of sources hashed before, by path, size and modification time: flashing card after card hashes an image once. */
function memoFile(cacheDir: string): string {
  return path.join(cachePaths(cacheDir).bases, 'source-hashes.json');
}

function readMemo(cacheDir: string): HashMemo {
  try {
    return JSON.parse(fs.readFileSync(memoFile(cacheDir), 'utf8')) as HashMemo;
  } catch {
    return {};
  }
}

function rememberedHash(cacheDir: string, file: string): string | undefined {
  const entry = readMemo(cacheDir)[path.resolve(file)];
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  return entry && stat && entry.size === stat.size && entry.mtimeMs === stat.mtimeMs ? entry.sha256 : undefined;
}

function rememberHash(cacheDir: string, file: string, sha256: string): void {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat) return;
  const memo = readMemo(cacheDir);
  memo[path.resolve(file)] = { size: stat.size, mtimeMs: stat.mtimeMs, sha256 };
  const kept = Object.fromEntries(Object.entries(memo).slice(-32));
  const partial = `${memoFile(cacheDir)}.${process.pid}.partial`;
  fs.writeFileSync(partial, JSON.stringify(kept));
  fs.renameSync(partial, memoFile(cacheDir));
}

export function checksumMismatch(source: string, actual: string, expected: string, written: boolean): ImagerError {
  return new ImagerError({
    code: 'CHECKSUM_MISMATCH',
    subject: source,
    message: `The SHA-256 of ${path.basename(source)} is ${actual}, not the expected ${expected.toLowerCase()}${written ? '; the cards hold this image, not the one you meant' : ''}.`,
    hint: written
      ? 'Download the image again (or check the checksum you entered) and write the cards again.'
      : 'The file is damaged or not the one you meant: download it again, or check the checksum you entered.',
    details: { phase: written ? 'verifying' : 'preparing', actual, expected: expected.toLowerCase() },
  });
}

/**
 * The source ready for the writer. A raw image is written as it is (its hash computed alongside);
 * a cached base is reused; an .img.xz not cached yet is streamed (xz -T0 in the writer, hashed as it
 * is read, kept in the cache afterwards). Other formats are decompressed into the cache first.
 */
export async function prepareDirectSource(options: DirectSourceOptions): Promise<DirectSource> {
  const paths = cachePaths(options.cacheDir);
  for (const dir of Object.values(paths)) fs.mkdirSync(dir, { recursive: true });
  const downloading = isUrl(options.source);
  const local = await localSource({ ...options, hash: false }, paths);
  const downloaded = local.file !== options.source;
  const knownHash = downloading ? local.sha256 : rememberedHash(options.cacheDir, local.file);
  const expected = options.sha256?.toLowerCase();
  if (knownHash && expected && knownHash !== expected) throw checksumMismatch(local.displayName, knownHash, expected, false);
  const cleanup = () => downloaded && fs.rmSync(local.file, { force: true });
  const format = downloading ? sourceFormat(local.displayName) : formatOf(local.file, local.displayName);
  const sourcePath = downloading ? undefined : options.source;
  const checked = (actual: string, written: boolean) => {
    if (expected && actual !== expected) throw checksumMismatch(local.displayName, actual, expected, written);
    return actual;
  };

  if (format === 'raw') {
    // Hashed alongside the write (another process): shown to the user, and checked when a sum was given.
    const hashing = knownHash ? Promise.resolve(knownHash) : sha256File(local.file, undefined, options.signal);
    hashing.catch(() => undefined);
    return {
      image: local.file,
      imageBytes: fs.statSync(local.file).size,
      reusedBase: false,
      ...(sourcePath && { sourcePath }),
      async finish() {
        const sha256 = await hashing;
        if (!downloading) rememberHash(options.cacheDir, local.file, sha256);
        return checked(sha256, true);
      },
    };
  }

  const cached = knownHash ? path.join(paths.bases, `${knownHash}.img`) : undefined;
  if (cached && fs.existsSync(cached)) {
    cleanup();
    return {
      image: cached,
      imageBytes: fs.statSync(cached).size,
      reusedBase: true,
      ...(sourcePath && { sourcePath }),
      finish: async () => knownHash as string,
    };
  }

  const imageBytes = format === 'xz' && findExecutable('xz') ? await decompressedSize(local.file, format) : undefined;
  if (format === 'xz' && imageBytes) {
    checkFreeSpace(paths.bases, imageBytes, `decompress ${path.basename(local.displayName)}`);
    const partial = path.join(paths.bases, ownedName(randomUUID(), '.partial'));
    return {
      image: local.file,
      imageBytes,
      stream: { format: 'xz', cacheAs: partial, imageBytes },
      reusedBase: false,
      ...(sourcePath && { sourcePath }),
      async finish(writerSha256, succeeded) {
        try {
          const sha256 = knownHash ?? writerSha256;
          if (!sha256)
            throw new ImagerError({
              code: 'INTERNAL',
              message: 'The writer did not report the SHA-256 of the image it streamed.',
              hint: 'Report a bug.',
            });
          if (!downloading) rememberHash(options.cacheDir, local.file, sha256);
          // A complete, correct image is worth keeping: the next card needs no decompression.
          if (succeeded && fs.existsSync(partial) && (!expected || sha256 === expected))
            fs.renameSync(partial, path.join(paths.bases, `${sha256}.img`));
          return checked(sha256, true);
        } finally {
          fs.rmSync(partial, { force: true });
          cleanup();
        }
      },
    };
  }

  // No streaming decoder for this format (or no xz here): decompress into the cache first.
  try {
    const sha256 = knownHash ?? (await sha256File(local.file, (p) => options.onProgress?.(p), options.signal));
    checked(sha256, false);
    if (!downloading) rememberHash(options.cacheDir, local.file, sha256);
    const { base, reused } = await decompressedBase(local.file, local.displayName, sha256, options, paths);
    return {
      image: base,
      imageBytes: fs.statSync(base).size,
      reusedBase: reused,
      ...(sourcePath && { sourcePath }),
      finish: async () => sha256,
    };
  } finally {
    cleanup();
  }
}
