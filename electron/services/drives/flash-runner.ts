// The whole write, for the app and the CLI alike: compose the image, optionally save it, flash it with the (elevated) writer.
import fs from 'node:fs';
import type { BootEditRequest, FlashProgress, FlashRequest, FlashResult, FlashTarget, WriteMode } from '../../../shared/drives/flash';
import type { WriteConfirmations } from '../../../shared/drives/safety';
import type { EditedTarget } from '../../../shared/api/drives';
import { ImagerError, toErrorData } from '../../../shared/errors';
import type { BootEdit } from '../../node/fat/boot-edit';
import { cleanCache, composeImage, saveImage, type ComposeProgress, type ComposedImage } from './compose';
import { verifySavedImage } from './image-file';
import { prepareDirectSource } from './direct-source';
import { composeFreshCard } from './fresh-card';
import { WriterClient, type WriterOptions } from './writer-client';

export interface FlashRun {
  jobId: string;
  /** The base image; absent: a fresh card built from `edit` alone (firmware, config.txt written whole, boot files). */
  source?: string;
  sha256?: string;
  targets: FlashTarget[];
  edit: BootEdit;
  verify: boolean;
  eject: boolean;
  mode: WriteMode;
  confirmations: WriteConfirmations;
  saveAs?: string;
  cacheDir: string;
  signal?: AbortSignal;
  onProgress?: (progress: FlashProgress) => void;
  /** How to start the writer (tests pass a script; the app may elevate). */
  writer?: WriterOptions;
  /** A writer already running (benchmarks, several jobs in a row): used, not closed. */
  client?: WriterClient;
}

export interface FlashRunResult {
  composed: Pick<
    ComposedImage,
    'imageBytes' | 'sourceSha256' | 'sha256Checked' | 'reusedBase' | 'written' | 'configTxtDiff' | 'configTxtChanged' | 'replaced'
  > & {
    /** The card was built from nothing (no base image): its size. */
    freshCardMiB?: number;
  };
  flash?: FlashResult;
  savedAs?: string;
  /** The saved image file was read back (decompressed when .xz) and matched the image byte for byte. */
  savedVerified?: boolean;
}

function composeProgress(jobId: string, onProgress: FlashRun['onProgress']) {
  return (p: ComposeProgress) =>
    onProgress?.({
      jobId,
      phase: p.phase === 'composing' || p.phase === 'saving' ? 'composing' : p.phase === 'decompressing' ? 'decompressing' : 'preparing',
      percent: p.totalBytes ? Math.min(100, (p.bytes / p.totalBytes) * 100) : 0,
      bytes: p.bytes,
      totalBytes: p.totalBytes ?? 0,
      speed: 0,
      eta: null,
      activeTargets: 0,
      failedTargets: 0,
    });
}

/** The boot edit as the writer takes it; undefined when config.txt comes from a function (only the classic path can run it). */
export function bootEditRequest(edit: BootEdit): BootEditRequest | undefined {
  if (typeof edit.configTxt === 'function') return undefined;
  const files = edit.files.map((f) =>
    f.bytes ? { name: f.name, base64: Buffer.from(f.bytes).toString('base64') } : { name: f.name, ...(f.path && { path: f.path }) },
  );
  return { ...(edit.configTxt && { configTxt: edit.configTxt }), files, ...(edit.requiredFiles && { requiredFiles: edit.requiredFiles }) };
}

/** Runs one flash request on a writer (started for it, elevated for drives, unless the caller passed one), with progress and cancel. */
async function writeWith(run: FlashRun, request: FlashRequest): Promise<FlashResult> {
  const writer = run.client ?? (await WriterClient.start({ ...run.writer, elevate: run.targets.some((t) => t.kind === 'drive') }));
  const onProgress = (p: FlashProgress) => p.jobId === run.jobId && run.onProgress?.(p);
  writer.on('progress', onProgress);
  const onAbort = () => void writer.cancel(run.jobId).catch(() => undefined);
  run.signal?.addEventListener('abort', onAbort);
  try {
    if (run.signal?.aborted)
      throw new ImagerError({ code: 'CANCELLED', message: 'The write was cancelled.', hint: 'Start again when you are ready.' });
    return await writer.flash(run.jobId, request);
  } finally {
    run.signal?.removeEventListener('abort', onAbort);
    writer.off('progress', onProgress);
    if (!run.client) await writer.close();
  }
}

/**
 * The fast path, for cards and image files: the writer composes the boot partition in memory and
 * writes straight from the base image (no working copy); an .img.xz not cached yet is decompressed
 * while it is written.
 */
async function runDirect(run: FlashRun, edit: BootEditRequest | undefined): Promise<FlashRunResult> {
  const source = await prepareDirectSource({
    source: run.source!,
    ...(run.sha256 && { sha256: run.sha256 }),
    cacheDir: run.cacheDir,
    onProgress: composeProgress(run.jobId, run.onProgress),
    ...(run.signal && { signal: run.signal }),
  });
  let flash: FlashResult | undefined;
  try {
    flash = await writeWith(run, {
      image: source.image,
      ...(edit && { bootEdit: edit }),
      ...(source.stream && { stream: { ...source.stream, ...(run.sha256 && { sha256: run.sha256 }) } }),
      targets: run.targets,
      verify: run.verify,
      eject: run.eject,
      mode: run.mode,
      confirmations: run.confirmations,
      ...(source.sourcePath && { sourcePath: source.sourcePath }),
    });
  } finally {
    // Keeps a streamed image in the cache only when it is complete (and cleans the download): also after a failure.
    if (!flash) await source.finish(undefined, false).catch(() => undefined);
  }
  // A stream that completed is a correct image (xz checks it) even when a card failed: the next card reuses it.
  const sourceSha256 = await source.finish(flash.sourceSha256, Boolean(flash.cachedAs));
  const bootEdit = { replaced: [], ...(flash.bootEdit ?? { written: [], configTxtDiff: '', configTxtChanged: false }) };
  return {
    composed: {
      imageBytes: flash.imageBytes,
      sourceSha256,
      sha256Checked: Boolean(run.sha256),
      reusedBase: source.reusedBase,
      ...bootEdit,
    },
    flash,
  };
}

export async function runFlash(run: FlashRun): Promise<FlashRunResult> {
  cleanCache(run.cacheDir);
  if (run.source === undefined) return runFreshCard(run);
  const editing = Boolean(run.edit.configTxt) || run.edit.files.length > 0;
  const edit = editing ? bootEditRequest(run.edit) : undefined;
  if (run.targets.length > 0 && !run.saveAs && (!editing || edit)) return runDirect(run, edit);
  const composed = await composeImage({
    source: run.source!,
    ...(run.sha256 && { sha256: run.sha256 }),
    cacheDir: run.cacheDir,
    ...run.edit,
    onProgress: composeProgress(run.jobId, run.onProgress),
    ...(run.signal && { signal: run.signal }),
  });
  try {
    let savedVerified = false;
    if (run.saveAs) {
      await saveImage(composed.image, run.saveAs);
      if (run.verify) {
        run.onProgress?.({
          jobId: run.jobId,
          phase: 'verifying',
          percent: 0,
          bytes: 0,
          totalBytes: composed.imageBytes,
          speed: 0,
          eta: null,
          activeTargets: 1,
          failedTargets: 0,
        });
        await verifySavedImage(composed.image, run.saveAs, run.signal);
        savedVerified = true;
      }
    }
    let flash: FlashResult | undefined;
    if (run.targets.length > 0) {
      flash = await writeWith(run, {
        image: composed.image,
        targets: run.targets,
        verify: run.verify,
        eject: run.eject,
        mode: run.mode,
        confirmations: run.confirmations,
        ...(!/^https?:/i.test(run.source!) && { sourcePath: run.source! }),
      });
    }
    const { image: _image, discard: _discard, ...facts } = composed;
    return { composed: facts, ...(flash && { flash }), ...(run.saveAs && { savedAs: run.saveAs, savedVerified }) };
  } finally {
    composed.discard();
  }
}

/** A fresh card: the image is built in the cache from the boot files alone, then written and verified like any image. */
async function runFreshCard(run: FlashRun): Promise<FlashRunResult> {
  composeProgress(run.jobId, run.onProgress)({ phase: 'composing', bytes: 0 });
  const fresh = await composeFreshCard(run.edit, run.cacheDir);
  try {
    const result = await runFlash({ ...run, source: fresh.image, edit: { files: [] } });
    return {
      ...result,
      composed: {
        ...result.composed,
        written: fresh.files,
        configTxtChanged: fresh.files.includes('config.txt'),
        freshCardMiB: fresh.sizeMiB,
      },
    };
  } finally {
    fs.rmSync(fresh.image, { force: true });
  }
}

export interface EditInPlaceRun {
  jobId: string;
  targets: FlashTarget[];
  edit: BootEdit;
  confirmations: WriteConfirmations;
  signal?: AbortSignal;
  onProgress?: (progress: FlashProgress) => void;
  writer?: WriterOptions;
}

/** Edit in place: only the boot partition of each card (which already holds the OS) changes, then its files are read back and compared. */
export async function runEditInPlace(run: EditInPlaceRun): Promise<EditedTarget[]> {
  if (typeof run.edit.configTxt === 'function') {
    throw new ImagerError({
      code: 'INVALID_ARGUMENT',
      subject: 'configTxt',
      message: 'Editing in place takes config.txt rules, not a function.',
      hint: 'This is a bug in the app; please report it.',
    });
  }
  const configTxt = run.edit.configTxt;
  // Files cross the writer's JSON pipe: bytes as base64, local files by path (the writer reads them).
  const files = run.edit.files.map((f) =>
    f.bytes ? { name: f.name, base64: Buffer.from(f.bytes).toString('base64') } : { name: f.name, ...(f.path && { path: f.path }) },
  );
  const writer = await WriterClient.start({ ...run.writer, elevate: run.targets.some((t) => t.kind === 'drive') });
  const edited: EditedTarget[] = [];
  const progress = (done: number, failed: number) =>
    run.onProgress?.({
      jobId: run.jobId,
      phase: done < run.targets.length ? 'composing' : 'finishing',
      percent: (done / run.targets.length) * 100,
      bytes: done,
      totalBytes: run.targets.length,
      speed: 0,
      eta: null,
      activeTargets: run.targets.length - done - failed,
      failedTargets: failed,
    });
  try {
    for (const target of run.targets) {
      if (run.signal?.aborted)
        throw new ImagerError({ code: 'CANCELLED', message: 'Editing was cancelled.', hint: 'Start again when you are ready.' });
      progress(edited.length, edited.filter((e) => !e.ok).length);
      const name = target.kind === 'drive' ? target.device : target.path;
      try {
        const result = await writer.editBoot({
          target,
          ...(configTxt && { configTxt }),
          files,
          ...(run.edit.requiredFiles && { requiredFiles: run.edit.requiredFiles }),
          confirmations: run.confirmations,
        });
        edited.push({
          target: name,
          ok: true,
          written: result.written,
          ...(result.configTxtDiff && { configTxtDiff: result.configTxtDiff }),
        });
      } catch (error) {
        edited.push({ target: name, ok: false, written: [], error: toErrorData(error) });
      }
    }
    progress(edited.length, edited.filter((e) => !e.ok).length);
  } finally {
    await writer.close();
  }
  return edited;
}
