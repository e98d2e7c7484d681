// One flash job: safety checks, compose the boot partition in memory, write the mapped chunks of the image to every target, flush, read back and compare.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import type { BootEditOutcome, FlashPhase, FlashProgress, FlashRequest, FlashResult, FlashTargetResult } from '../../shared/drives/flash';
import { ImagerError, toErrorData } from '../../shared/errors';
import type { ImageOverlay } from '../node/fat/overlay';
import { findExecutable } from '../node/host-tools';
import { kindOf } from '../node/user-files';
import { mapOf } from './block-map';
import { composeOverlay } from './compose-overlay';
import { ComposedImage } from './composed-image';
import { BufferPool, Cancelled, DEPTH, planChunks, writeChunks, type ChunkPlan, type EngineTarget, type FilledChunk } from './engine';
import { streamImage } from './stream';
import { explainTargetError, resolveTargets, type ResolvedTarget } from './targets';
import { verifyTargets, VerifyMismatch } from './verify';

const PROGRESS_INTERVAL_MS = 250;

/** The chunks of the plan, read from the composed image into pooled buffers as the writer asks for them. */
async function* fileChunks(image: ComposedImage, plan: ChunkPlan[], pool: BufferPool): AsyncGenerator<FilledChunk> {
  for (const chunk of plan) {
    const buffer = await pool.take();
    try {
      await image.read(buffer, chunk.offset, chunk.length);
    } catch (error) {
      pool.give(buffer);
      throw error;
    }
    yield { ...chunk, buffer, release: () => pool.give(buffer) };
  }
}

function cancelledError(): ImagerError {
  return new ImagerError({
    code: 'CANCELLED',
    message: 'The write was cancelled; the card holds a partial image and will not boot.',
    hint: 'Write it again before using it.',
  });
}

/** Turns byte counts into throttled progress events with a speed over the last two seconds. */
class ProgressMeter {
  private samples: { time: number; bytes: number }[] = [];
  private lastEmit = 0;

  constructor(
    private readonly jobId: string,
    private readonly phase: FlashPhase,
    private readonly totalBytes: number,
    private readonly emit: (progress: FlashProgress) => void,
  ) {}

  update(bytes: number, activeTargets: number, failedTargets: number, force = false): void {
    const now = Date.now();
    this.samples.push({ time: now, bytes });
    while (this.samples.length > 2 && now - (this.samples[0]?.time ?? now) > 2000) this.samples.shift();
    if (!force && now - this.lastEmit < PROGRESS_INTERVAL_MS) return;
    this.lastEmit = now;
    const first = this.samples[0] ?? { time: now, bytes };
    const seconds = (now - first.time) / 1000;
    const speed = seconds > 0 ? (bytes - first.bytes) / seconds : 0;
    this.emit({
      jobId: this.jobId,
      phase: this.phase,
      percent: this.totalBytes > 0 ? Math.min(100, (bytes / this.totalBytes) * 100) : 100,
      bytes,
      totalBytes: this.totalBytes,
      speed,
      eta: speed > 0 ? Math.max(0, (this.totalBytes - bytes) / speed) : null,
      activeTargets,
      failedTargets,
    });
  }
}

export class FlashJob {
  private cancelled = false;
  private readonly failures = new Map<ResolvedTarget, ImagerError>();
  private resolved: ResolvedTarget[] = [];

  constructor(
    readonly jobId: string,
    private readonly request: FlashRequest,
    private readonly emit: (progress: FlashProgress) => void,
    private readonly log: (level: 'info' | 'warn', message: string) => void,
    /** write: false only reads the targets back and compares (the 'verify' request). */
    private readonly options: { write: boolean } = { write: true },
  ) {}

  cancel(): void {
    this.cancelled = true;
  }

  private checkSource(): number {
    const stat = fs.statSync(this.request.image, { throwIfNoEntry: false });
    if (stat && !stat.isFile()) {
      throw new ImagerError({
        code: 'SOURCE_NOT_A_FILE',
        subject: this.request.image,
        message: `The image ${this.request.image} is ${kindOf(stat)}, not an image file.`,
        hint: 'Choose the image file itself (.img, .raw, .img.xz, .img.gz or .zip).',
        details: { phase: 'preparing' },
      });
    }
    if (!stat) {
      throw new ImagerError({
        code: 'SOURCE_NOT_FOUND',
        subject: this.request.image,
        message: `The image ${this.request.image} does not exist.`,
        hint: 'Choose the image again; it may have been moved or deleted.',
        details: { phase: 'preparing' },
      });
    }
    return stat.size;
  }

  async run(): Promise<FlashResult> {
    const imageBytes = this.request.stream ? (this.request.stream.imageBytes ?? 0) : this.checkSource();
    if (this.request.stream) {
      this.checkSource();
      if (!this.options.write || !imageBytes) {
        throw new ImagerError({
          code: 'INVALID_ARGUMENT',
          subject: this.request.image,
          message: 'A compressed image can only be streamed to targets when its size is known.',
          hint: 'This is a bug in the app; please report it.',
        });
      }
    }
    this.emit({
      jobId: this.jobId,
      phase: 'preparing',
      percent: 0,
      bytes: 0,
      totalBytes: imageBytes,
      speed: 0,
      eta: null,
      activeTargets: this.request.targets.length,
      failedTargets: 0,
    });
    const jobStart = Date.now();
    const targets = await resolveTargets(this.request, imageBytes, { createFiles: this.options.write });
    this.resolved = targets;
    const failures = this.failures;
    const engineTargets = await this.open(targets, failures);
    const openedMs = Date.now() - jobStart;
    const onlyUsed = this.request.mode === 'used';
    let flashMs = 0;
    let written: {
      image: ComposedImage;
      plan: ChunkPlan[];
      mappedBytes: number;
      bootEdit?: BootEditOutcome;
      sourceSha256?: Promise<string>;
      cachedAs?: string;
      reached?: number;
    };
    const flashStart = Date.now();
    try {
      written = this.request.stream ? await this.writeStreamed(engineTargets, imageBytes) : await this.writeRaw(engineTargets, imageBytes);
    } catch (error) {
      await this.finishWrites(targets, engineTargets, failures);
      // The job failed as a whole (the image could not be composed, or the write was cancelled): no half-written image file stays.
      if (this.options.write) for (const target of targets) if (target.kind === 'file') fs.rmSync(target.name, { force: true });
      throw error;
    }
    flashMs = Date.now() - flashStart;
    // The flush (the card's write cache, or the loop file's pages) runs while the read-back starts: both must succeed.
    const finishing = this.finishWrites(targets, engineTargets, failures).then(() =>
      this.log('info', `opened the targets in ${openedMs} ms, wrote in ${flashMs} ms, flushed in ${Date.now() - flashStart - flashMs} ms`),
    );
    try {
      const verifyStart = Date.now();
      const verified = new Set<ResolvedTarget>();
      try {
        if (this.request.verify || !this.options.write) {
          const live = targets.filter((t) => !failures.has(t));
          await this.verify(live, written.image, written.plan, failures);
          await finishing;
          for (const t of live) if (!failures.has(t)) verified.add(t);
        }
      } finally {
        await finishing;
      }
      const verifyMs = Date.now() - verifyStart;

      const sourceSha256 = await written.sourceSha256;
      if (sourceSha256) this.checkStreamedSum(sourceSha256);
      if (this.request.eject) await this.eject(targets.filter((t) => t.kind === 'drive' && !failures.has(t)));
      if (this.options.write) for (const [target] of failures) if (target.kind === 'file') fs.rmSync(target.name, { force: true });

      const results: FlashTargetResult[] = targets.map((t) => {
        const error = failures.get(t);
        return { target: t.name, ok: !error, verified: verified.has(t), ...(error && { error: toErrorData(error) }) };
      });
      const everything = !onlyUsed || targets.some((t) => t.kind === 'file');
      // When no target took the whole image, only what got written before the failures counts.
      const allFailed = results.every((r) => !r.ok);
      const writtenBytes = !this.options.write
        ? 0
        : allFailed
          ? (this.stoppedAt() ?? written.reached ?? 0)
          : everything
            ? written.image.size
            : written.mappedBytes;
      return {
        jobId: this.jobId,
        imageBytes: written.image.size,
        writtenBytes,
        mode: this.request.mode,
        flashMs,
        verifyMs,
        targets: results,
        ...(written.bootEdit && { bootEdit: written.bootEdit }),
        ...(sourceSha256 && { sourceSha256 }),
        ...(written.cachedAs && { cachedAs: written.cachedAs }),
      };
    } finally {
      written.image.close();
    }
  }

  /** Opens every target (etcher-sdk unmounts drives first); one that cannot be opened fails alone. */
  private async open(targets: ResolvedTarget[], failures: Map<ResolvedTarget, ImagerError>): Promise<EngineTarget[]> {
    const onlyUsed = this.request.mode === 'used';
    const engineTargets: EngineTarget[] = [];
    for (const t of targets) {
      const engineTarget: EngineTarget = {
        name: t.name,
        kind: t.kind,
        onlyUsed: onlyUsed && t.kind === 'drive',
        write: (buffer, length, offset) => t.destination.write(buffer, 0, length, offset),
      };
      if (this.options.write) {
        try {
          await t.destination.open();
        } catch (error) {
          failures.set(t, explainTargetError(t, 'opening', error));
          engineTarget.failed = true;
        }
      } else engineTarget.failed = true;
      engineTargets.push(engineTarget);
    }
    return engineTargets;
  }

  /** Flushes what was written (so verify reads the card, not a cache) and closes the targets. */
  private async finishWrites(
    targets: ResolvedTarget[],
    engineTargets: EngineTarget[],
    failures: Map<ResolvedTarget, ImagerError>,
  ): Promise<void> {
    await Promise.all(
      targets.map(async (t, i) => {
        if (this.options.write && !failures.has(t) && !engineTargets[i]?.failed) {
          await t.destination.flush().catch((error: unknown) => failures.set(t, explainTargetError(t, 'finishing', error)));
        }
        await t.destination.close().catch(() => undefined);
      }),
    );
  }

  /** Progress and failures of the write; `byPosition` counts how far into the image the write got (a stream is measured by it). */
  private hooks(targets: EngineTarget[], total: number, byPosition = false) {
    const meter = new ProgressMeter(this.jobId, 'flashing', total, this.emit);
    const failed = () => targets.filter((t) => t.failed).length;
    return {
      meter,
      isCancelled: () => this.cancelled,
      onProgress: (bytes: number, position: number) => meter.update(byPosition ? position : bytes, targets.length - failed(), failed()),
      onFail: (target: EngineTarget, error: unknown) => {
        const r = this.resolved.find((x) => x.name === target.name);
        if (r && !this.failures.has(r)) this.failures.set(r, explainTargetError(r, 'flashing', error));
      },
    };
  }

  /** The boot partition is being composed: no bytes move yet. */
  private emitComposing(activeTargets: number): void {
    this.emit({
      jobId: this.jobId,
      phase: 'composing',
      percent: 0,
      bytes: 0,
      totalBytes: 0,
      speed: 0,
      eta: null,
      activeTargets,
      failedTargets: 0,
    });
  }

  /** A raw image: compose the boot partition into an overlay, map it, write the mapped chunks. */
  private async writeRaw(targets: EngineTarget[], imageBytes: number) {
    let bootEdit: BootEditOutcome | undefined;
    let overlay: ImageOverlay | undefined;
    if (this.request.bootEdit) {
      this.emitComposing(targets.length);
      ({ overlay, outcome: bootEdit } = await composeOverlay(this.request.image, this.request.bootEdit));
    }
    const image = new ComposedImage(this.request.image, imageBytes, overlay);
    const map = mapOf(image, this.request.mode);
    if (map.partitions) this.log('info', `writing ${map.mappedBytes} of ${imageBytes} bytes: ${JSON.stringify(map.partitions)}`);
    const plan = planChunks(
      imageBytes,
      map.blocks,
      targets.some((t) => !t.onlyUsed),
    );
    if (this.options.write && targets.some((t) => !t.failed)) {
      const total = plan.reduce((n, c) => n + c.length, 0);
      const { meter, ...hooks } = this.hooks(targets, total);
      const pool = new BufferPool(DEPTH + 2);
      const outcome = await this.guard(writeChunks(fileChunks(image, plan, pool), targets, hooks)).finally(() => pool.dispose());
      const allFailed = targets.every((t) => t.failed);
      meter.update(
        allFailed ? Math.min(outcome.bytes, this.stoppedAt() ?? outcome.bytes) : total,
        targets.filter((t) => !t.failed).length,
        targets.filter((t) => t.failed).length,
        true,
      );
      return { image, plan, mappedBytes: map.mappedBytes, reached: outcome.bytes, ...(bootEdit && { bootEdit }) };
    }
    return { image, plan, mappedBytes: map.mappedBytes, reached: 0, ...(bootEdit && { bootEdit }) };
  }

  /** A compressed image: decompress, keep it in the cache, compose and write as it arrives. */
  private async writeStreamed(targets: EngineTarget[], imageBytes: number) {
    const stream = this.request.stream!;
    if (targets.every((t) => t.failed)) return { image: new ComposedImage(stream.cacheAs, imageBytes), plan: [], mappedBytes: 0 };
    const { meter, ...hooks } = this.hooks(targets, imageBytes, true);
    const pool = new BufferPool(DEPTH + 2);
    const streamed = streamImage({
      source: this.request.image,
      format: stream.format,
      cacheAs: stream.cacheAs,
      imageBytes,
      mode: this.request.mode,
      ...(this.request.bootEdit && { bootEdit: this.request.bootEdit }),
      everything: targets.some((t) => !t.onlyUsed),
      pool,
      isCancelled: () => this.cancelled,
      onComposing: () => this.emitComposing(targets.length),
      log: this.log,
    });
    const outcome = await this.guard(writeChunks(streamed.chunks, targets, hooks)).finally(() => pool.dispose());
    // Every target failed, so the stream stopped early: nothing to verify, nothing cached.
    if (targets.every((t) => t.failed))
      return { image: new ComposedImage(stream.cacheAs, imageBytes), plan: [], mappedBytes: 0, reached: outcome.bytes };
    const done = await streamed.done;
    meter.update(done.image.size, targets.filter((t) => !t.failed).length, targets.filter((t) => t.failed).length, true);
    return { ...done, reached: outcome.bytes };
  }

  /** A streamed source is hashed as it goes: the expected sum can only be compared at the end. */
  private checkStreamedSum(actual: string): void {
    const expected = this.request.stream?.sha256?.toLowerCase();
    if (!expected || expected === actual) return;
    throw new ImagerError({
      code: 'CHECKSUM_MISMATCH',
      subject: this.request.image,
      message: `The SHA-256 of ${this.request.image} is ${actual}, not the expected ${expected}; the cards hold this image, which is not the one you meant.`,
      hint: 'Download the image again (or check the checksum you entered), then write the cards again.',
      details: { phase: 'verifying', actual, expected },
    });
  }

  /**
   * Where writing stopped when every target failed: the lowest byte a failure names (chunks are written several
   * at a time, and image files skip chunks of zeros, so bytes counted past it say nothing about the target).
   */
  private stoppedAt(): number | undefined {
    const offsets = [...this.failures.values()]
      .map((error) => error.details?.offset)
      .filter((offset): offset is number => typeof offset === 'number');
    return offsets.length ? Math.min(...offsets) : undefined;
  }

  /** Turns a cancel into the job's CANCELLED error. */
  private async guard<T>(work: Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await work;
    } catch (error) {
      if (this.cancelled || error instanceof Cancelled) throw cancelledError();
      throw error;
    }
    if (this.cancelled) throw cancelledError();
    return result;
  }

  private async verify(
    targets: ResolvedTarget[],
    image: ComposedImage,
    plan: ChunkPlan[],
    failures: Map<ResolvedTarget, ImagerError>,
  ): Promise<void> {
    if (targets.length === 0) return;
    const everything = this.request.mode === 'full' || targets.some((t) => t.kind === 'file');
    const total = plan.reduce((n, c) => n + (c.used || everything ? c.length : 0), 0);
    const meter = new ProgressMeter(this.jobId, 'verifying', total, this.emit);
    const byName = new Map(targets.map((t) => [t.name, t]));
    let failed = 0;
    await verifyTargets({
      image,
      plan,
      targets: targets.map((t) => ({
        name: t.name,
        path: t.name,
        direct: t.kind === 'drive',
        onlyUsed: this.request.mode === 'used' && t.kind === 'drive',
      })),
      isCancelled: () => this.cancelled,
      onProgress: (bytes) => meter.update(bytes, targets.length - failed, failed),
      onFail: (target, error) => {
        failed++;
        const resolved = byName.get(target.name);
        if (!resolved) return;
        failures.set(
          resolved,
          error instanceof VerifyMismatch ? mismatchError(resolved, error) : explainTargetError(resolved, 'verifying', error),
        );
      },
    }).catch((error: unknown) => {
      if (error instanceof Cancelled) throw cancelledError();
      throw error;
    });
    meter.update(total, targets.length - failed, failed, true);
  }

  private async eject(targets: ResolvedTarget[]): Promise<void> {
    // etcher-sdk already unmounted them on close (unmountOnSuccess); power off where the OS has a tool for it.
    const tool =
      process.platform === 'linux'
        ? findExecutable('udisksctl')
          ? 'udisksctl'
          : findExecutable('eject')
            ? 'eject'
            : undefined
        : undefined;
    for (const target of targets) {
      if (!tool) break;
      const args = tool === 'udisksctl' ? ['power-off', '-b', target.name] : [target.name];
      await new Promise<void>((resolve) =>
        execFile(tool, args, (error) => {
          if (error) this.log('warn', `could not eject ${target.name}: ${error.message.trim()}`);
          resolve();
        }),
      );
    }
  }
}

function mismatchError(target: ResolvedTarget, mismatch: VerifyMismatch): ImagerError {
  return new ImagerError({
    code: 'VERIFY_FAILED',
    subject: target.name,
    message: `Verification failed: ${target.name} holds different bytes than the image at bytes ${mismatch.offset}–${mismatch.end}.`,
    hint: 'The card may be counterfeit or worn out: write it again, or use another card.',
    details: { phase: 'verifying', device: target.name, offset: mismatch.offset, end: mismatch.end },
  });
}
