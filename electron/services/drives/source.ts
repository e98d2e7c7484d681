// Base images: download http(s) sources, hash them, and decompress .xz/.gz/.zip into a raw image (Debian's xz -T0 when present).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline as pipelineCallback, Readable, Transform, Writable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { ImagerError } from '../../../shared/errors';
import { findExecutable } from '../../node/host-tools';

export type SourceFormat = 'raw' | 'xz' | 'gz' | 'zip' | 'bz2';

export interface SourceProgress {
  phase: 'downloading' | 'hashing' | 'decompressing';
  bytes: number;
  totalBytes?: number;
}

export function isUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

/** The format by name (and, for local files, by magic bytes when the name says nothing). */
export function sourceFormat(name: string, head?: Uint8Array): SourceFormat {
  const lower = name.toLowerCase().replace(/[?#].*$/, '');
  if (lower.endsWith('.xz')) return 'xz';
  if (lower.endsWith('.gz')) return 'gz';
  if (lower.endsWith('.zip')) return 'zip';
  if (lower.endsWith('.bz2')) return 'bz2';
  if (head && head.length >= 6) {
    if (head[0] === 0xfd && head[1] === 0x37 && head[2] === 0x7a && head[3] === 0x58 && head[4] === 0x5a) return 'xz';
    if (head[0] === 0x1f && head[1] === 0x8b) return 'gz';
    if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return 'zip';
    if (head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return 'bz2';
  }
  return 'raw';
}

function readHead(file: string): Uint8Array {
  const fd = fs.openSync(file, 'r');
  try {
    const head = new Uint8Array(16);
    const got = fs.readSync(fd, head, 0, 16, 0);
    return head.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}

export function formatOf(file: string, displayName = file): SourceFormat {
  return sourceFormat(displayName, readHead(file));
}

function meter(total: number | undefined, phase: SourceProgress['phase'], onProgress?: (p: SourceProgress) => void): Transform {
  let bytes = 0;
  let last = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      const now = Date.now();
      if (onProgress && now - last > 250) {
        last = now;
        onProgress({ phase, bytes, ...(total !== undefined && { totalBytes: total }) });
      }
      callback(null, chunk);
    },
  });
}

/** SHA-256 of a file, hex. */
export async function sha256File(file: string, onProgress?: (p: SourceProgress) => void, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  const total = fs.statSync(file).size;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback();
    },
  });
  await pipeline(fs.createReadStream(file, { highWaterMark: 4 << 20 }), meter(total, 'hashing', onProgress), sink, {
    ...(signal && { signal }),
  });
  return hash.digest('hex');
}

/** Downloads an http(s) source into `file` (via a .partial file), returning its SHA-256. */
export async function download(url: string, file: string, onProgress?: (p: SourceProgress) => void, signal?: AbortSignal): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, { ...(signal && { signal }) });
  } catch (error) {
    throw new ImagerError({
      code: 'DOWNLOAD_FAILED',
      subject: url,
      message: `Could not download ${url}: ${(error as Error).message}.`,
      hint: 'Check the address and your network connection.',
      details: { phase: 'downloading' },
    });
  }
  if (!response.ok || !response.body) {
    throw new ImagerError({
      code: 'DOWNLOAD_FAILED',
      subject: url,
      message: `Downloading ${url} failed: HTTP ${response.status} ${response.statusText}.`,
      hint: 'Check the address; the image may have moved.',
      details: { phase: 'downloading', status: response.status },
    });
  }
  const length = Number(response.headers.get('content-length')) || undefined;
  const hash = createHash('sha256');
  const partial = `${file}.${process.pid}.partial`;
  try {
    await pipeline(
      Readable.fromWeb(response.body as NodeReadableStream),
      meter(length, 'downloading', onProgress),
      new Transform({
        transform(chunk: Buffer, _e, cb) {
          hash.update(chunk);
          cb(null, chunk);
        },
      }),
      fs.createWriteStream(partial),
      { ...(signal && { signal }) },
    );
    fs.renameSync(partial, file);
  } catch (error) {
    fs.rmSync(partial, { force: true });
    throw new ImagerError({
      code: 'DOWNLOAD_FAILED',
      subject: url,
      message: `Downloading ${url} stopped: ${(error as Error).message}.`,
      hint: 'Check your network connection and try again.',
      details: { phase: 'downloading' },
    });
  }
  return hash.digest('hex');
}

/** Bytes the decompressed image will take, when the format says (xz index, gzip trailer, zip directory). */
export async function decompressedSize(file: string, format: SourceFormat): Promise<number | undefined> {
  if (format === 'raw') return fs.statSync(file).size;
  if (format === 'xz' && findExecutable('xz')) {
    const out = await runCapture('xz', ['--robot', '--list', file]).catch(() => '');
    const totals = out.split('\n').find((line) => line.startsWith('totals'));
    const size = Number(totals?.split('\t')[4]);
    return Number.isFinite(size) && size > 0 ? size : undefined;
  }
  if (format === 'gz') {
    // ISIZE: the size modulo 4 GiB; a real image below 4 GiB reads right, larger ones are estimated from it.
    const fd = fs.openSync(file, 'r');
    try {
      const tail = Buffer.alloc(4);
      fs.readSync(fd, tail, 0, 4, fs.statSync(file).size - 4);
      const isize = tail.readUInt32LE(0);
      const compressed = fs.statSync(file).size;
      let size = isize;
      while (size < compressed) size += 2 ** 32;
      return size;
    } finally {
      fs.closeSync(fd);
    }
  }
  if (format === 'zip' && findExecutable('unzip')) {
    const entry = await zipImageEntry(file).catch(() => undefined);
    return entry?.size;
  }
  return undefined;
}

function runCapture(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(err.trim() || `${command} exited with ${code}`))));
  });
}

/** The image inside a zip: the largest .img (or only) entry, from `unzip -Zl`. */
async function zipImageEntry(file: string): Promise<{ name: string; size: number }> {
  const listing = await runCapture('unzip', ['-Z', '-l', file]);
  const entries = listing
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((parts) => parts.length >= 10 && /^-/.test(parts[0] ?? ''))
    .map((parts) => ({ size: Number(parts[3]), name: parts.slice(9).join(' ') }))
    .filter((e) => !e.name.endsWith('/'));
  const images = entries.filter((e) => /\.(img|raw|bin)$/i.test(e.name));
  const pick = (images.length ? images : entries).sort((a, b) => b.size - a.size)[0];
  if (!pick) throw new Error('the archive is empty');
  return pick;
}

function corrupt(source: string, format: SourceFormat, detail: string): ImagerError {
  return new ImagerError({
    code: 'SOURCE_CORRUPT',
    subject: source,
    message: `${path.basename(source)} could not be decompressed (${format}): ${detail}.`,
    hint: 'The file is damaged or incomplete: download it again and check its SHA-256.',
    details: { phase: 'decompressing', format },
  });
}

function runInto(
  command: string,
  args: string[],
  output: string,
  source: string,
  format: SourceFormat,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const fd = fs.openSync(output, 'w');
    const child = spawn(command, args, { stdio: ['ignore', fd, 'pipe'], ...(signal && { signal }) });
    fs.closeSync(fd);
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (error) => reject(signal?.aborted ? cancelled() : corrupt(source, format, error.message)));
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(signal?.aborted ? cancelled() : corrupt(source, format, err.trim().split('\n').pop() ?? `exit ${code}`)),
    );
  });
}

function cancelled(): ImagerError {
  return new ImagerError({ code: 'CANCELLED', message: 'Preparing the image was cancelled.', hint: 'Start again when you are ready.' });
}

/** Writes the raw image of `source` (any supported format) to `output`. */
export async function decompressTo(
  source: string,
  format: SourceFormat,
  output: string,
  onProgress?: (p: SourceProgress) => void,
  signal?: AbortSignal,
): Promise<void> {
  switch (format) {
    case 'bz2':
      throw new ImagerError({
        code: 'UNSUPPORTED_FORMAT',
        subject: source,
        message: `${path.basename(source)} is compressed with bzip2, which this app does not read.`,
        hint: `Decompress it first (bunzip2 -k "${path.basename(source)}") and choose the .img, or use the .xz version of the image.`,
        details: { phase: 'decompressing', format },
      });
    case 'raw':
      fs.copyFileSync(source, output, fs.constants.COPYFILE_FICLONE);
      return;
    case 'xz':
      if (findExecutable('xz')) return runInto('xz', ['-T0', '-dc', source], output, source, format, signal);
      return decompressXzWasm(source, output, onProgress, signal);
    case 'gz':
      try {
        const total = fs.statSync(source).size;
        await pipeline(
          fs.createReadStream(source, { highWaterMark: 4 << 20 }),
          meter(total, 'decompressing', onProgress),
          zlib.createGunzip(),
          fs.createWriteStream(output),
          { ...(signal && { signal }) },
        );
      } catch (error) {
        throw signal?.aborted ? cancelled() : corrupt(source, format, (error as Error).message);
      }
      return;
    case 'zip': {
      if (!findExecutable('unzip')) {
        throw new ImagerError({
          code: 'NOT_AVAILABLE',
          subject: 'unzip',
          message: 'Reading .zip images needs the unzip program.',
          hint: 'Install it (Debian/Ubuntu: sudo apt-get install unzip), or extract the .img yourself.',
        });
      }
      const entry = await zipImageEntry(source).catch((error: Error) => {
        throw corrupt(source, format, error.message);
      });
      return runInto('unzip', ['-p', source, entry.name], output, source, format, signal);
    }
  }
}

async function decompressXzWasm(
  source: string,
  output: string,
  onProgress?: (p: SourceProgress) => void,
  signal?: AbortSignal,
): Promise<void> {
  const { XzReadableStream } = (await import('xz-decompress')) as {
    XzReadableStream: new (s: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array>;
  };
  const total = fs.statSync(source).size;
  try {
    // pipeline, not pipe: a read error must reach the decompressor (and this promise), not go unheard
    const metered = pipelineCallback(
      fs.createReadStream(source, { highWaterMark: 4 << 20 }),
      meter(total, 'decompressing', onProgress),
      () => undefined,
    );
    const compressed = Readable.toWeb(metered) as ReadableStream<Uint8Array>;
    await pipeline(Readable.fromWeb(new XzReadableStream(compressed) as NodeReadableStream), fs.createWriteStream(output), {
      ...(signal && { signal }),
    });
  } catch (error) {
    throw signal?.aborted ? cancelled() : corrupt(source, 'xz', (error as Error).message);
  }
}
