// Writes image chunks to every target at once (aligned buffers, reads overlapped with writes), then flushes each target.
import { createRequire } from 'node:module';
import type { Block } from './block-map';

const require = createRequire(import.meta.url);
const directIo = require('@ronomon/direct-io') as { getAlignedBuffer(size: number, alignment: number): Buffer };

/** dd's bs=4M: large enough for an SD card's erase blocks, small enough to keep several in flight. */
export const CHUNK = 4 * 1024 * 1024;
/** Chunks in flight: while these are being written, the next one is read. */
export const DEPTH = 4;
const ALIGNMENT = 4096;

/** One piece of the image: wholly inside the drive map ("used") or wholly outside it. */
export interface ChunkPlan {
  offset: number;
  length: number;
  used: boolean;
}

export interface FilledChunk extends ChunkPlan {
  buffer: Buffer;
  release(): void;
}

/** Cuts the image into chunks along the map; `everything` also lists what lies outside the map (image-file targets want it). */
export function planChunks(imageBytes: number, blocks: Block[], everything: boolean, chunk = CHUNK): ChunkPlan[] {
  const plan: ChunkPlan[] = [];
  const cut = (offset: number, end: number, used: boolean) => {
    for (let at = offset; at < end; at += chunk) plan.push({ offset: at, length: Math.min(chunk, end - at), used });
  };
  let cursor = 0;
  for (const block of blocks) {
    if (everything && block.offset > cursor) cut(cursor, block.offset, false);
    cut(block.offset, block.offset + block.length, true);
    cursor = block.offset + block.length;
  }
  if (everything && cursor < imageBytes) cut(cursor, imageBytes, false);
  return plan;
}

/** Aligned buffers of finished pools, handed to the next pool: allocating (and first touching) them costs more than the copies. */
const spares: Buffer[] = [];
const MAX_SPARES = 32;

/** A few aligned buffers (O_DIRECT needs them) reused for the whole job; `dispose()` passes them on. */
export class BufferPool {
  private free: Buffer[] = [];
  private waiting: ((buffer: Buffer) => void)[] = [];

  constructor(count: number) {
    for (let i = 0; i < count; i++) this.free.push(spares.pop() ?? directIo.getAlignedBuffer(CHUNK, ALIGNMENT));
  }

  take(): Promise<Buffer> {
    const buffer = this.free.pop();
    return buffer ? Promise.resolve(buffer) : new Promise((resolve) => this.waiting.push(resolve));
  }

  give(buffer: Buffer): void {
    const waiter = this.waiting.shift();
    if (waiter) waiter(buffer);
    else this.free.push(buffer);
  }

  /** Once every buffer is back: keeps them for the next pool. */
  dispose(): void {
    spares.push(...this.free.splice(0, Math.max(0, MAX_SPARES - spares.length)));
    this.free = [];
  }
}

const ZERO = Buffer.alloc(CHUNK);

export function isZero(buffer: Buffer, length: number): boolean {
  for (let at = 0; at < length; at += ZERO.length) {
    const n = Math.min(ZERO.length, length - at);
    if (buffer.compare(ZERO, 0, n, at, at + n) !== 0) return false;
  }
  return true;
}

export interface EngineTarget {
  name: string;
  /** Image files start empty (all zeros): chunks of zeros are skipped. Drives get every chunk in their plan. */
  kind: 'drive' | 'file';
  /** Drives in "used" mode get only chunks inside the map. */
  onlyUsed: boolean;
  write(buffer: Buffer, length: number, offset: number): Promise<unknown>;
  failed?: boolean;
}

export interface WriteHooks {
  isCancelled(): boolean;
  /** Bytes handed to the targets so far, and how far into the image they reach. */
  onProgress(bytes: number, position: number): void;
  onFail(target: EngineTarget, error: unknown): void;
}

export class Cancelled extends Error {
  readonly code = 'ECANCELED';
}

/** What a write got done: bytes of the chunks some target holds, and how far into the image they reach. */
export interface WriteOutcome {
  bytes: number;
  position: number;
}

/** Writes every chunk to the targets that want it, keeping DEPTH chunks in flight; a failed target drops out, the others go on. */
export async function writeChunks(chunks: AsyncIterable<FilledChunk>, targets: EngineTarget[], hooks: WriteHooks): Promise<WriteOutcome> {
  const inflight: Promise<void>[] = [];
  const anyFile = targets.some((t) => t.kind === 'file');
  let done = 0;
  let position = 0;
  const fail = (target: EngineTarget, error: unknown) => {
    if (target.failed) return;
    target.failed = true;
    hooks.onFail(target, error);
  };
  try {
    for await (const chunk of chunks) {
      if (hooks.isCancelled()) {
        chunk.release();
        throw new Cancelled('cancelled');
      }
      const zero = anyFile && isZero(chunk.buffer, chunk.length);
      const wanting = targets.filter((t) => !t.failed && (chunk.used || !t.onlyUsed) && !(zero && t.kind === 'file'));
      const writes = wanting.map((t) =>
        t.write(chunk.buffer, chunk.length, chunk.offset).then(
          () => true,
          (error: unknown) => {
            fail(t, error);
            return false;
          },
        ),
      );
      inflight.push(
        Promise.all(writes).then((wrote) => {
          chunk.release();
          // A chunk counts once a target holds it (image files skip zeros: they read as zeros already), never when every write failed.
          const held = wrote.some(Boolean) || (wrote.length === 0 && targets.some((t) => !t.failed));
          if (!held) return;
          done += chunk.length;
          position = Math.max(position, chunk.offset + chunk.length);
          hooks.onProgress(done, position);
        }),
      );
      if (inflight.length >= DEPTH) await inflight.shift();
      if (targets.every((t) => t.failed)) break;
    }
  } finally {
    // Never close a target under a pending write.
    await Promise.allSettled(inflight);
  }
  return { bytes: done, position };
}
