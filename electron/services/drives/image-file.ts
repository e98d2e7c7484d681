// Image files as targets: the folder must exist, an existing file is replaced only when the user said so, and the
// saved file is read back and compared with the image (decompressed first when it is .img.xz), as a card is.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ImagerError } from '../../../shared/errors';
import { kindOf } from '../../node/user-files';

/**
 * Refuses an image file target before anything is composed: a folder that does not exist (it is not created: a typo
 * would otherwise leave an image somewhere unexpected), something that is not a file, or an existing file the user
 * did not agree to replace (EXISTS: the UI asks, then starts again with `overwrite`).
 */
export function checkImageFileTarget(file: string, overwrite: boolean): void {
  const resolved = path.resolve(file);
  const folder = path.dirname(resolved);
  const folderStat = fs.statSync(folder, { throwIfNoEntry: false });
  if (!folderStat) {
    throw new ImagerError({
      code: 'NOT_FOUND',
      subject: folder,
      message: `The folder ${folder} does not exist, so ${path.basename(resolved)} cannot be saved there.`,
      hint: 'Check the folder’s name, or create the folder first; the app does not create it for you.',
    });
  }
  if (!folderStat.isDirectory()) {
    throw new ImagerError({
      code: 'NOT_FOUND',
      subject: folder,
      message: `${folder} is ${kindOf(folderStat)}, not a folder, so ${path.basename(resolved)} cannot be saved in it.`,
      hint: 'Choose a file name inside an existing folder.',
    });
  }
  const existing = fs.statSync(resolved, { throwIfNoEntry: false });
  if (!existing) return;
  if (!existing.isFile()) {
    throw new ImagerError({
      code: 'NOT_A_TARGET',
      subject: resolved,
      message: `${resolved} is ${kindOf(existing)}, not an image file.`,
      hint: 'Give a new .img or .img.xz file name.',
    });
  }
  if (!overwrite) {
    throw new ImagerError({
      code: 'EXISTS',
      subject: resolved,
      message: `${resolved} already exists (${(existing.size / 1024 ** 2).toFixed(0)} MiB).`,
      hint: 'Confirm to replace it, or choose another file name.',
      details: { path: resolved, size: existing.size },
    });
  }
}

const CHUNK = 4 * 1024 * 1024;

/** Reads `image` alongside `stream` and returns the first byte where they differ (or where one ends first), else undefined. */
async function firstDifference(image: string, stream: NodeJS.ReadableStream, signal?: AbortSignal): Promise<number | undefined> {
  const fd = fs.openSync(image, 'r');
  try {
    const expected = Buffer.alloc(CHUNK);
    let offset = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (signal?.aborted)
        throw new ImagerError({
          code: 'CANCELLED',
          message: 'Verifying the image file was cancelled.',
          hint: 'Write it again when you are ready.',
        });
      for (let done = 0; done < chunk.length;) {
        const length = Math.min(CHUNK, chunk.length - done);
        const read = fs.readSync(fd, expected, 0, length, offset);
        const got = chunk.subarray(done, done + length);
        if (read < length || !got.equals(expected.subarray(0, length))) {
          const at = got.findIndex((byte, i) => i >= read || byte !== expected[i]);
          return offset + Math.max(at, 0);
        }
        done += length;
        offset += length;
      }
    }
    return offset === fs.fstatSync(fd).size ? undefined : offset;
  } finally {
    fs.closeSync(fd);
  }
}

/** The saved file's bytes as a stream: the file itself, or `xz -dc` of it (xz checks its own integrity on the way). */
function savedBytes(saved: string): { stream: NodeJS.ReadableStream; done: Promise<void> } {
  if (!saved.toLowerCase().endsWith('.xz')) {
    const stream = fs.createReadStream(saved, { highWaterMark: CHUNK });
    return { stream, done: Promise.resolve() };
  }
  const child = spawn('xz', ['-dc', saved], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(
            new ImagerError({
              code: 'VERIFY_FAILED',
              subject: saved,
              message: `${saved} does not decompress: ${err.trim() || `xz exited with ${code}`}.`,
              hint: 'The disk may be failing: save the image again, or on another disk.',
              details: { phase: 'verifying' },
            }),
          ),
    );
  });
  return { stream: child.stdout, done };
}

/** Reads the saved image file back and compares it with the image byte for byte; throws VERIFY_FAILED naming where they differ. */
export async function verifySavedImage(image: string, saved: string, signal?: AbortSignal): Promise<void> {
  const { stream, done } = savedBytes(saved);
  let differs: number | undefined;
  try {
    differs = await firstDifference(image, stream, signal);
  } finally {
    (stream as fs.ReadStream).destroy?.();
  }
  if (differs === undefined) await done;
  else await done.catch(() => undefined);
  if (differs !== undefined) {
    throw new ImagerError({
      code: 'VERIFY_FAILED',
      subject: saved,
      message: `Verification failed: ${saved} holds different bytes than the image from byte ${differs} on.`,
      hint: 'The disk may be failing or full: save the image again, or on another disk.',
      details: { phase: 'verifying', device: saved, offset: differs },
    });
  }
}
