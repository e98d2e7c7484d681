// Composes the card's image: fetch and check the base image, decompress it once into the cache, then edit its boot partition.
import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ImagerError } from '../../../shared/errors';
import type { BootEditResult } from '../../../shared/drives/writer-protocol';
import { applyBootEdit, compareBootFiles, type BootEdit } from '../../node/fat/boot-edit';
import { findExecutable } from '../../node/host-tools';
import { kindOf } from '../../node/user-files';
import { decompressedSize, decompressTo, download, formatOf, isUrl, sha256File, sourceFormat, type SourceProgress } from './source';

export interface ComposeProgress {
  phase: SourceProgress['phase'] | 'composing' | 'saving';
  bytes: number;
  totalBytes?: number;
}

export interface ComposeOptions extends BootEdit {
  /** A local .img/.img.xz/.img.gz/.zip, or an http(s) URL. */
  source: string;
  /** Expected SHA-256 of the source file as given (compressed), hex. */
  sha256?: string;
  /** The cache folder (downloads, decompressed bases, working images). */
  cacheDir: string;
  onProgress?: (progress: ComposeProgress) => void;
  signal?: AbortSignal;
}

export interface ComposedImage extends BootEditResult {
  /** The working raw image, composed; the caller flashes or saves it, then calls `discard()`. */
  image: string;
  imageBytes: number;
  /** SHA-256 of the source as given, shown to the user either way. */
  sourceSha256: string;
  sha256Checked: boolean;
  /** The decompressed base came from the cache. */
  reusedBase: boolean;
  discard(): void;
}

const GiB = 1024 ** 3;

export function cachePaths(cacheDir: string) {
  return { downloads: path.join(cacheDir, 'downloads'), bases: path.join(cacheDir, 'bases'), work: path.join(cacheDir, 'work') };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Temporary names carry the owning process id, so a cleanup never removes a running job's files. */
export function ownedName(stem: string, suffix: string): string {
  return `${stem}.${process.pid}${suffix}`;
}

function ownerOf(name: string): number | undefined {
  const match = /\.(\d+)(\.partial|\.img)$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** Removes what an interrupted run left behind (partial downloads and decompressions, working images) whose process is gone. */
export function cleanCache(cacheDir: string): void {
  const dirs = cachePaths(cacheDir);
  for (const dir of [dirs.downloads, dirs.bases, dirs.work]) {
    for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
      const owner = ownerOf(name);
      const stale =
        dir === dirs.work
          ? owner === undefined || !pidAlive(owner)
          : name.endsWith('.partial') && (owner === undefined || !pidAlive(owner));
      if (stale) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
    }
  }
}

function formatBytes(bytes: number): string {
  return bytes >= GiB ? `${(bytes / GiB).toFixed(1)} GiB` : `${Math.ceil(bytes / 1024 ** 2)} MiB`;
}

/** Throws NO_SPACE when `dir`'s file system has less than `needed` bytes free. */
export function checkFreeSpace(dir: string, needed: number, what: string): void {
  const stats = fs.statfsSync(dir);
  const free = stats.bavail * stats.bsize;
  if (free < needed) {
    throw new ImagerError({
      code: 'NO_SPACE',
      subject: dir,
      message: `Not enough free space to ${what}: it needs ${formatBytes(needed)}, ${dir} has ${formatBytes(free)} free.`,
      hint: 'Free some space on that disk, or set XEN_PI_IMAGER_HOME to a folder on a larger disk.',
      details: { phase: 'decompressing', needed, free },
    });
  }
}

export async function localSource(
  options: Pick<ComposeOptions, 'source' | 'onProgress' | 'signal'> & { hash?: boolean },
  paths: ReturnType<typeof cachePaths>,
): Promise<{ file: string; sha256: string; displayName: string }> {
  const progress = (p: SourceProgress) => options.onProgress?.(p);
  if (isUrl(options.source)) {
    const name = path.basename(new URL(options.source).pathname) || 'image';
    const file = path.join(paths.downloads, `${randomUUID()}-${name}`);
    const sha256 = await download(options.source, file, progress, options.signal);
    return { file, sha256, displayName: name };
  }
  const stat = fs.statSync(options.source, { throwIfNoEntry: false });
  if (!stat) {
    throw new ImagerError({
      code: 'SOURCE_NOT_FOUND',
      subject: options.source,
      message: `The base image ${options.source} does not exist.`,
      hint: 'Check the path, or give an http(s) address.',
      details: { phase: 'preparing' },
    });
  }
  if (!stat.isFile()) {
    throw new ImagerError({
      code: 'SOURCE_NOT_A_FILE',
      subject: options.source,
      message: `The base image ${options.source} is ${kindOf(stat)}, not an image file.`,
      hint: 'Give the image file itself (.img, .img.xz, .img.gz or .zip), or an http(s) address.',
      details: { phase: 'preparing' },
    });
  }
  return {
    file: options.source,
    sha256: options.hash === false ? '' : await sha256File(options.source, progress, options.signal),
    displayName: options.source,
  };
}

/** Decompresses the base image once per source hash; later runs reuse it. */
export async function decompressedBase(
  file: string,
  displayName: string,
  sha256: string,
  options: Pick<ComposeOptions, 'onProgress' | 'signal'>,
  paths: ReturnType<typeof cachePaths>,
): Promise<{ base: string; reused: boolean }> {
  const format = isUrl(displayName) ? sourceFormat(displayName) : formatOf(file, displayName);
  if (format === 'raw') return { base: file, reused: false };
  const base = path.join(paths.bases, `${sha256}.img`);
  if (fs.existsSync(base)) return { base, reused: true };
  const needed = (await decompressedSize(file, format)) ?? fs.statSync(file).size * 4;
  checkFreeSpace(paths.bases, needed, `decompress ${path.basename(displayName)}`);
  const partial = path.join(paths.bases, ownedName(sha256, '.partial'));
  try {
    options.onProgress?.({ phase: 'decompressing', bytes: 0, totalBytes: needed });
    await decompressTo(file, format, partial, (p) => options.onProgress?.(p), options.signal);
    fs.renameSync(partial, base);
  } finally {
    fs.rmSync(partial, { force: true });
  }
  return { base, reused: false };
}

/** The whole compose step: source → checked → raw base (cached) → working copy → boot partition edited. */
export async function composeImage(options: ComposeOptions): Promise<ComposedImage> {
  const paths = cachePaths(options.cacheDir);
  for (const dir of Object.values(paths)) fs.mkdirSync(dir, { recursive: true });
  const source = await localSource(options, paths);
  const downloaded = source.file !== options.source;
  try {
    if (options.sha256 && options.sha256.toLowerCase() !== source.sha256) {
      throw new ImagerError({
        code: 'CHECKSUM_MISMATCH',
        subject: options.source,
        message: `The SHA-256 of ${path.basename(source.displayName)} is ${source.sha256}, not the expected ${options.sha256.toLowerCase()}.`,
        hint: 'The file is damaged or not the one you meant: download it again, or check the checksum you entered.',
        details: { phase: 'preparing', actual: source.sha256, expected: options.sha256.toLowerCase() },
      });
    }
    const { base, reused } = await decompressedBase(source.file, source.displayName, source.sha256, options, paths);
    const imageBytes = fs.statSync(base).size;
    checkFreeSpace(paths.work, imageBytes, 'prepare the card image');
    const image = path.join(paths.work, ownedName(randomUUID(), '.img'));
    fs.copyFileSync(base, image, fs.constants.COPYFILE_FICLONE);
    try {
      options.onProgress?.({ phase: 'composing', bytes: 0 });
      // Nothing to add (a ready-made image such as EVE's live.raw): leave its partitions alone.
      const editing = Boolean(options.configTxt) || options.files.length > 0;
      const edit = editing
        ? await applyBootEdit(image, options)
        : { written: [], configTxtDiff: '', configTxtChanged: false, replaced: [], files: [] };
      if (editing) await compareBootFiles(image, edit.files);
      return {
        image,
        imageBytes,
        sourceSha256: source.sha256,
        sha256Checked: Boolean(options.sha256),
        reusedBase: reused,
        written: edit.written,
        configTxtDiff: edit.configTxtDiff,
        configTxtChanged: edit.configTxtChanged,
        replaced: edit.replaced,
        discard: () => fs.rmSync(image, { force: true }),
      };
    } catch (error) {
      fs.rmSync(image, { force: true });
      throw error;
    }
  } finally {
    // The decompressed base stays cached by hash; the download itself is not needed any more.
    if (downloaded) fs.rmSync(source.file, { force: true });
  }
}

/** Saves a composed image as .img, or .img.xz (xz -T0) when the name ends in .xz; written via a .partial file. */
export async function saveImage(image: string, destination: string, onProgress?: (p: ComposeProgress) => void): Promise<void> {
  const partial = `${destination}.partial`;
  try {
    onProgress?.({ phase: 'saving', bytes: 0, totalBytes: fs.statSync(image).size });
    if (destination.toLowerCase().endsWith('.xz')) {
      if (!findExecutable('xz')) {
        throw new ImagerError({
          code: 'NOT_AVAILABLE',
          subject: 'xz',
          message: 'Saving a .img.xz needs the xz program.',
          hint: 'Install xz-utils, or save as .img.',
        });
      }
      await new Promise<void>((resolve, reject) => {
        const fd = fs.openSync(partial, 'w');
        const child = spawn('xz', ['-T0', '-c', image], { stdio: ['ignore', fd, 'pipe'] });
        fs.closeSync(fd);
        let err = '';
        child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
        child.on('error', reject);
        child.on('close', (code) =>
          code === 0
            ? resolve()
            : reject(
                new ImagerError({
                  code: 'IO_ERROR',
                  subject: destination,
                  message: `xz failed: ${err.trim()}.`,
                  hint: 'Check the free space where you save it.',
                }),
              ),
        );
      });
    } else {
      fs.copyFileSync(image, partial, fs.constants.COPYFILE_FICLONE);
    }
    fs.renameSync(partial, destination);
  } catch (error) {
    fs.rmSync(partial, { force: true });
    throw error;
  }
}
