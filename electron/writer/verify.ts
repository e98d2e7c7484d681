// Reads every written chunk back from each target (bypassing the page cache on drives) and compares it with the composed image.
import fs from 'node:fs';
import type { ComposedImage } from './composed-image';
import { BufferPool, Cancelled, DEPTH, type ChunkPlan } from './engine';

const ALIGNMENT = 4096;

export interface VerifyTarget {
  name: string;
  path: string;
  /** Block devices are read with O_DIRECT, so what we compare is what the card holds, not the cache. */
  direct: boolean;
  /** Only chunks inside the map were written (a drive in "used" mode). */
  onlyUsed: boolean;
}

export class VerifyMismatch extends Error {
  readonly code = 'EVALIDATION';
  constructor(
    readonly offset: number,
    readonly end: number,
  ) {
    super(`the card holds different bytes than the image at bytes ${offset}–${end}`);
  }
}

/** The first and one-past-last differing byte of two equal-length buffers, or undefined when equal. */
export function differingRange(expected: Buffer, actual: Buffer): { first: number; end: number } | undefined {
  if (expected.equals(actual)) return undefined;
  let first = 0;
  while (first < expected.length && expected[first] === actual[first]) first++;
  let end = expected.length;
  while (end > first && expected[end - 1] === actual[end - 1]) end--;
  return { first, end };
}

interface OpenTarget {
  target: VerifyTarget;
  fd: number;
  pool: BufferPool;
  failed?: Error;
}

function readFully(fd: number, buffer: Buffer, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let done = 0;
    const step = () =>
      fs.read(fd, buffer, done, length - done, position + done, (error, got) => {
        if (error) return reject(Object.assign(error, { offset: position + done, length: length - done }));
        done += got;
        if (got === 0 || done >= length) resolve(done);
        else step();
      });
    step();
  });
}

export interface VerifyOptions {
  image: ComposedImage;
  plan: ChunkPlan[];
  targets: VerifyTarget[];
  isCancelled: () => boolean;
  onProgress: (bytes: number) => void;
  /** Called once per failed target; the others go on. */
  onFail: (target: VerifyTarget, error: Error) => void;
}

/** Compares the planned chunks of the image with every target, DEPTH chunks at a time; the image is read once per chunk for all targets. */
export async function verifyTargets(options: VerifyOptions): Promise<void> {
  const open: OpenTarget[] = [];
  for (const target of options.targets) {
    try {
      const flags = fs.constants.O_RDONLY | (target.direct ? fs.constants.O_DIRECT : 0);
      open.push({ target, fd: fs.openSync(target.path, flags), pool: new BufferPool(DEPTH) });
    } catch (error) {
      options.onFail(target, error as Error);
    }
  }
  const expectedPool = new BufferPool(DEPTH);
  const fail = (t: OpenTarget, error: Error) => {
    if (t.failed) return;
    t.failed = error;
    options.onFail(t.target, error);
  };
  let done = 0;
  const check = async (chunk: ChunkPlan) => {
    const live = open.filter((t) => !t.failed && (chunk.used || !t.target.onlyUsed));
    if (live.length === 0) return;
    const expected = await expectedPool.take();
    const actuals = await Promise.all(live.map((t) => t.pool.take()));
    try {
      const [, ...got] = await Promise.all([
        options.image.read(expected, chunk.offset, chunk.length),
        ...live.map((t, i) => readBack(t, actuals[i] as Buffer, chunk)),
      ]);
      live.forEach((t, i) => {
        const outcome = got[i] as number | Error;
        if (outcome instanceof Error) return fail(t, outcome);
        const mismatch = compare(
          expected.subarray(0, chunk.length),
          (actuals[i] as Buffer).subarray(0, Math.min(outcome, chunk.length)),
          chunk.offset,
        );
        if (mismatch) fail(t, mismatch);
      });
    } finally {
      expectedPool.give(expected);
      live.forEach((t, i) => t.pool.give(actuals[i] as Buffer));
    }
    done += chunk.length;
    options.onProgress(done);
  };
  const inflight: Promise<void>[] = [];
  try {
    for (const chunk of options.plan) {
      if (options.isCancelled()) throw new Cancelled('cancelled');
      if (open.every((t) => t.failed)) break;
      inflight.push(check(chunk));
      if (inflight.length >= DEPTH) await inflight.shift();
    }
    await Promise.all(inflight);
  } finally {
    await Promise.allSettled(inflight);
    for (const t of open) {
      fs.closeSync(t.fd);
      t.pool.dispose();
    }
    expectedPool.dispose();
  }
}

/** Reads the chunk back from the target: the number of bytes read, or the error. */
async function readBack(t: OpenTarget, actual: Buffer, chunk: ChunkPlan): Promise<number | Error> {
  // O_DIRECT needs whole sectors: read up to the next 4 KiB and compare only the chunk's bytes.
  const length = t.target.direct ? Math.ceil(chunk.length / ALIGNMENT) * ALIGNMENT : chunk.length;
  try {
    return await readFully(t.fd, actual, length, chunk.offset);
  } catch (error) {
    return error as Error;
  }
}

function compare(expected: Buffer, actual: Buffer, at: number): VerifyMismatch | undefined {
  if (actual.length < expected.length) return new VerifyMismatch(at + actual.length, at + expected.length);
  const range = differingRange(expected, actual);
  return range ? new VerifyMismatch(at + range.first, at + range.end) : undefined;
}
