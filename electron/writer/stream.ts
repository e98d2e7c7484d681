// Streams a compressed image to the cards while it decompresses: xz -T0 writes the cache file, we follow it, compose the boot partition once it is complete, and hand out mapped chunks.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { AllocationOptions } from '../../shared/drives/allocation';
import type { BootEditOutcome, BootEditRequest, WriteMode } from '../../shared/drives/flash';
import { looksLikeFatBootSector, readPartitionTable } from '../../shared/drives/partition-table';
import { ImagerError } from '../../shared/errors';
import type { ImageOverlay } from '../node/fat/overlay';
import { mapOf, type Block } from './block-map';
import { composeOverlay } from './compose-overlay';
import { ComposedImage } from './composed-image';
import { CHUNK, type BufferPool, type ChunkPlan, type FilledChunk } from './engine';

const MiB = 1024 * 1024;
/** Re-read the file systems' allocation after this much more of the image arrived (bitmaps further in become known). */
const REMAP_EVERY = 64 * MiB;
const POLL_MS = 4;

export interface StreamOptions {
  /** The compressed image (.img.xz). */
  source: string;
  format: 'xz' | 'gz';
  /** The raw image is written here (the caller renames it into the cache once the job succeeded). */
  cacheAs: string;
  imageBytes: number;
  mode: WriteMode;
  /** Whether some target takes every byte (image files, or "full" mode): then chunks outside the map are handed out too. */
  everything?: boolean;
  bootEdit?: BootEditRequest;
  pool: BufferPool;
  isCancelled: () => boolean;
  onComposing: () => void;
  log: (level: 'info' | 'warn', message: string) => void;
}

export interface StreamDone {
  image: ComposedImage;
  plan: ChunkPlan[];
  mappedBytes: number;
  bootEdit?: BootEditOutcome;
  /** Hashed once xz is done (xz keeps both cores busy before), while the cards are flushed and read back. */
  sourceSha256: Promise<string>;
  cachedAs: string;
}

/** SHA-256 of the source on another thread, while xz reads the same file (from the page cache). */
function hashInWorker(file: string): { digest: Promise<string>; stop: () => void } {
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const fs = require('node:fs');
     const hash = require('node:crypto').createHash('sha256');
     const fd = fs.openSync(workerData, 'r');
     const buffer = Buffer.allocUnsafe(4 << 20);
     for (let at = 0, got; (got = fs.readSync(fd, buffer, 0, buffer.length, at)) > 0; at += got) hash.update(buffer.subarray(0, got));
     fs.closeSync(fd);
     parentPort.postMessage(hash.digest('hex'));`,
    { eval: true, workerData: file },
  );
  const digest = new Promise<string>((resolve, reject) => {
    worker.once('message', (hex: string) => resolve(hex));
    worker.once('error', reject);
  });
  digest.catch(() => undefined);
  return { digest, stop: () => void worker.terminate() };
}

function corrupt(source: string, detail: string): ImagerError {
  return new ImagerError({
    code: 'SOURCE_CORRUPT',
    subject: source,
    message: `${path.basename(source)} could not be decompressed: ${detail}; the cards hold part of it and will not boot.`,
    hint: 'The file is damaged or incomplete: download it again, check its SHA-256, and write the cards again.',
    details: { phase: 'decompressing' },
  });
}

/** Runs the decompressor with its output going straight into `fd` (xz makes it sparse: free space costs nothing). */
function decompressInto(options: StreamOptions, fd: number): { child: ChildProcess; exited: Promise<void> } {
  const [command, args] = options.format === 'xz' ? ['xz', ['-T0', '-dc', options.source]] : ['gzip', ['-dc', options.source]];
  const child = spawn(command as string, args as string[], { stdio: ['ignore', fd, 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const exited = new Promise<void>((resolve, reject) => {
    child.once('error', (error) => reject(corrupt(options.source, error.message)));
    child.once('close', (code, signal) =>
      code === 0 ? resolve() : reject(corrupt(options.source, stderr.trim().split('\n').pop() || `${command} ${signal ?? `exit ${code}`}`)),
    );
  });
  exited.catch(() => undefined);
  return { child, exited };
}

/** The end of the first FAT partition (compose needs all of it), once the partition table is readable. */
function fatEnd(image: ComposedImage, source: string): number {
  const table = readPartitionTable(image.readAt);
  const fat = table?.partitions.find((p) => looksLikeFatBootSector(image.readAt(p.offset, 512)));
  if (!fat) {
    throw new ImagerError({
      code: 'NO_FAT_PARTITION',
      subject: source,
      message: `${path.basename(source)} has no FAT boot partition to put the boot files in.`,
      hint: 'Choose a Raspberry Pi OS image (its first partition is the FAT boot partition), or flash the image as it is.',
      details: { phase: 'composing' },
    });
  }
  return fat.offset + fat.size;
}

/** Pieces of [start, end) inside and outside the map, in order. */
function split(start: number, end: number, blocks: Block[]): ChunkPlan[] {
  const pieces: ChunkPlan[] = [];
  let at = start;
  for (const b of blocks) {
    if (b.offset + b.length <= at) continue;
    if (b.offset >= end) break;
    if (b.offset > at) pieces.push({ offset: at, length: b.offset - at, used: false });
    const to = Math.min(end, b.offset + b.length);
    pieces.push({ offset: Math.max(at, b.offset), length: to - Math.max(at, b.offset), used: true });
    at = to;
  }
  if (at < end) pieces.push({ offset: at, length: end - at, used: false });
  return pieces;
}

export function streamImage(options: StreamOptions): { chunks: AsyncGenerator<FilledChunk>; done: Promise<StreamDone> } {
  let finish!: (done: StreamDone) => void;
  let abort!: (error: unknown) => void;
  const done = new Promise<StreamDone>((resolve, reject) => {
    finish = resolve;
    abort = reject;
  });
  done.catch(() => undefined);
  const chunks = run(options, finish, abort);
  return { chunks, done };
}

async function* run(
  options: StreamOptions,
  finish: (done: StreamDone) => void,
  abort: (error: unknown) => void,
): AsyncGenerator<FilledChunk> {
  const fd = fs.openSync(options.cacheAs, 'w');
  const owner = fs.statSync(path.dirname(options.cacheAs));
  // The writer may run as root: leave the cache file to the user whose cache it is.
  if (process.getuid?.() === 0 && owner.uid !== 0) fs.fchownSync(fd, owner.uid, owner.gid);
  let hash: ReturnType<typeof hashInWorker> | undefined;
  const decompress = decompressInto(options, fd);
  let finished = false;
  decompress.exited.then(
    () => (finished = true),
    () => (finished = true),
  );
  let available = 0;
  let overlay: ImageOverlay | undefined;
  const image = new ComposedImage(options.cacheAs, options.imageBytes, undefined, () => available);
  let composed = new ComposedImage(options.cacheAs, options.imageBytes, undefined, () => available);
  let bootEdit: BootEditOutcome | undefined;
  const plan: ChunkPlan[] = [];
  let mappedBytes = 0;
  let settled = false;
  let succeeded = false;
  try {
    // Head: nothing is handed out until the boot partition is complete and composed.
    let head = options.bootEdit ? Infinity : 0;
    let cursor = 0;
    let map: Block[] = [];
    let mappedAt = -1;
    const memo: NonNullable<AllocationOptions['memo']> = new Map();
    for (;;) {
      if (options.isCancelled()) return;
      const wasFinished = finished;
      const size = fs.fstatSync(fd).size;
      if (wasFinished) {
        await decompress.exited;
        hash ??= hashInWorker(options.source);
        // A sparse output that ends in zeros may stop short of the image's size.
        if (size < options.imageBytes) fs.ftruncateSync(fd, options.imageBytes);
      }
      available = wasFinished ? options.imageBytes : Math.min(size, options.imageBytes);
      const complete = wasFinished;
      if (head === Infinity && (available >= MiB || complete)) head = fatEnd(image, options.source);
      if (options.bootEdit && !overlay && head !== Infinity && (available >= head || complete)) {
        options.onComposing();
        ({ overlay, outcome: bootEdit } = await composeOverlay(options.cacheAs, options.bootEdit));
        composed = new ComposedImage(options.cacheAs, options.imageBytes, overlay, () => available);
      }
      const ready = overlay || !options.bootEdit ? Math.floor(available / CHUNK) * CHUNK : 0;
      const until = complete ? options.imageBytes : ready;
      if (until > cursor) {
        if (mappedAt < 0 || available - mappedAt >= REMAP_EVERY || complete) {
          // Composed (or nothing to compose) by now: a partition that has wholly arrived is mapped once.
          map = mapOf(composed, options.mode, { available, memo }).blocks;
          mappedAt = available;
        }
        for (const piece of split(cursor, until, map)) {
          if (piece.used) mappedBytes += piece.length;
          if (!piece.used && !options.everything) continue;
          for (let at = piece.offset; at < piece.offset + piece.length; at += CHUNK) {
            const chunk = { offset: at, length: Math.min(CHUNK, piece.offset + piece.length - at), used: piece.used };
            plan.push(chunk);
            const buffer = await options.pool.take();
            await composed.read(buffer, chunk.offset, chunk.length).catch((error: unknown) => {
              options.pool.give(buffer);
              throw error;
            });
            yield { ...chunk, buffer, release: () => options.pool.give(buffer) };
          }
        }
        cursor = until;
      }
      if (complete) break;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    const sourceSha256 = (hash ?? hashInWorker(options.source)).digest;
    options.log('info', `streamed ${options.imageBytes} bytes from ${options.source}; ${mappedBytes} mapped`);
    settled = true;
    succeeded = true;
    finish({ image: composed, plan, mappedBytes, ...(bootEdit && { bootEdit }), sourceSha256, cachedAs: options.cacheAs });
  } catch (error) {
    settled = true;
    abort(error);
    throw error;
  } finally {
    if (!finished) decompress.child.kill('SIGKILL');
    if (!succeeded) hash?.stop();
    fs.closeSync(fd);
    image.close();
    // Stopped early (cancelled, or every target failed): the partial image is of no use to anyone.
    if (!settled)
      abort(new ImagerError({ code: 'CANCELLED', message: 'The write stopped before the image was complete.', hint: 'Write it again.' }));
    if (!succeeded) {
      composed.close();
      fs.rmSync(options.cacheAs, { force: true });
    }
  }
}
