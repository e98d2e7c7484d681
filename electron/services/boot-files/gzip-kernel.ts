// Stores a Dom0 kernel gzip'd (Xen decompresses it when it builds Dom0): about a third of the bytes to load over TFTP or from the card.
import { createReadStream, createWriteStream } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import type { GzippedKernel } from '../../../shared/api/boot';
import { detectFile } from '../../../shared/boot/detect';
import { ImagerError } from '../../../shared/errors';
import { TEMP_SUFFIX } from '../../node/atomic-file';
import { readComponentFacts } from './facts';

/** How a Dom0 kernel is stored: gzip'd (the default wherever parts are fetched) or as the plain arm64 Image. */
export type KernelFormat = 'gzip' | 'image';

/** Streams `source` through `transform` into `target`, atomically (a temp file renamed over it). */
async function rewrite(source: string, target: string, transform: NodeJS.ReadWriteStream): Promise<number> {
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}${TEMP_SUFFIX}`);
  try {
    await pipeline(createReadStream(source), transform, createWriteStream(temp, { mode: 0o644 }));
    await fsp.rename(temp, target);
  } catch (error) {
    await fsp.rm(temp, { force: true });
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      throw new ImagerError({
        code: 'PERMISSION_DENIED',
        subject: target,
        message: `${target} cannot be written here (${code}).`,
        hint: 'Copy the kernel into a folder you can write to (the app’s components folder, for instance) and choose it there.',
      });
    }
    throw error;
  }
  return (await fsp.stat(target)).size;
}

/** Writes `target` as the gzip'd `source`, which must be a plain arm64 Image; returns both sizes. */
export async function gzipKernelFile(source: string, target: string): Promise<{ size: number; originalSize: number }> {
  const facts = readComponentFacts(source);
  const detected = detectFile(facts.head, facts.size);
  if (detected.kind !== 'arm64-image') {
    throw new ImagerError({
      code: 'WRONG_FILE_TYPE',
      subject: source,
      message: `${source} is ${detected.description}, not a plain arm64 kernel Image, so there is nothing to gzip.`,
      hint:
        detected.kind === 'gzip'
          ? 'It is gzip’d already: use it as it is.'
          : 'Choose the Dom0 kernel’s Image (Debian: /boot/vmlinuz-*-arm64).',
    });
  }
  const size = await rewrite(source, target, createGzip({ level: 9 }));
  return { size, originalSize: facts.size };
}

/** Writes `target` as the plain Image inside the gzip'd `source`. */
export async function gunzipKernelFile(source: string, target: string): Promise<number> {
  return rewrite(source, target, createGunzip());
}

/** The wizard's "store it gzip'd": `<kernel>.gz` beside the chosen kernel (`resolvedPath`), named the way the profile names `file`. */
export async function gzipComponent(file: string, resolvedPath: string): Promise<GzippedKernel> {
  const { size, originalSize } = await gzipKernelFile(resolvedPath, `${resolvedPath}.gz`);
  return { path: `${file}.gz`, resolvedPath: `${resolvedPath}.gz`, size, originalSize };
}

/**
 * A gzip'd copy of a cached kernel, made once beside it (`<kernel>.gz`) and reused while it is newer than the
 * kernel. A cache folder this process cannot write falls back to `spareDir`.
 */
export async function cachedGzipKernel(kernel: string, spareDir: string): Promise<string> {
  const beside = `${kernel}.gz`;
  const [original, copy] = await Promise.all([fsp.stat(kernel), fsp.stat(beside).catch(() => undefined)]);
  if (copy && copy.mtimeMs >= original.mtimeMs) return beside;
  try {
    await gzipKernelFile(kernel, beside);
    return beside;
  } catch (error) {
    if (!ImagerError.is(error) || error.code !== 'PERMISSION_DENIED') throw error;
    const spare = path.join(spareDir, `${path.basename(kernel)}.gz`);
    await gzipKernelFile(kernel, spare);
    return spare;
  }
}
