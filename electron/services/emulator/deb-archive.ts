// Reads Debian packages without dpkg: the `ar` container, its compressed data.tar, and extraction to a folder.
import { createGunzip } from 'node:zlib';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import tarStream, { type Extract as TarExtract } from 'tar-stream';
import xzDecompress from 'xz-decompress';
import { Decompress as ZstdDecompress } from 'fzstd';
import { ImagerError } from '../../../shared/errors';

type TarEntry = TarExtract extends AsyncIterable<infer Entry> ? Entry : never;

const AR_MAGIC = '!<arch>\n';
const AR_HEADER_SIZE = 60;

export interface ArMember {
  name: string;
  /** Byte offset of the member's data in the archive file. */
  offset: number;
  size: number;
}

function badPackage(file: string, message: string): ImagerError {
  return new ImagerError({
    code: 'BAD_PACKAGE',
    subject: file,
    message,
    hint: 'Delete the file (or the parts cache) and fetch the package again.',
  });
}

/** Lists the members of an `ar` archive (a .deb is one) without reading their data. */
export async function readArMembers(file: string): Promise<ArMember[]> {
  const handle = await fsp.open(file, 'r');
  try {
    const { size: fileSize } = await handle.stat();
    const magic = Buffer.alloc(AR_MAGIC.length);
    await handle.read(magic, 0, magic.length, 0);
    if (magic.toString('latin1') !== AR_MAGIC) throw badPackage(file, `${path.basename(file)} is not an ar archive (not a .deb).`);
    const members: ArMember[] = [];
    const header = Buffer.alloc(AR_HEADER_SIZE);
    let offset = AR_MAGIC.length;
    while (offset + AR_HEADER_SIZE <= fileSize) {
      await handle.read(header, 0, AR_HEADER_SIZE, offset);
      if (header.toString('latin1', 58, 60) !== '`\n')
        throw badPackage(file, `${path.basename(file)} has a damaged ar header at byte ${offset}.`);
      // GNU ar ends short names with '/'; dpkg writes them space-padded
      const name = header.toString('latin1', 0, 16).trimEnd().replace(/\/$/, '');
      const size = Number.parseInt(header.toString('latin1', 48, 58).trim(), 10);
      const dataOffset = offset + AR_HEADER_SIZE;
      if (!Number.isFinite(size) || dataOffset + size > fileSize) throw badPackage(file, `${path.basename(file)} is truncated.`);
      members.push({ name, offset: dataOffset, size });
      offset = dataOffset + size + (size % 2); // members are padded to an even length
    }
    return members;
  } finally {
    await handle.close();
  }
}

function zstdTransform(): Transform {
  // the decoder only calls back from push(), after `transform` exists
  const decoder = new ZstdDecompress((data) => {
    transform.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  });
  const transform = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      try {
        decoder.push(chunk);
        done();
      } catch (error) {
        done(error as Error);
      }
    },
    flush(done) {
      try {
        decoder.push(new Uint8Array(0), true);
        done();
      } catch (error) {
        done(error as Error);
      }
    },
  });
  return transform;
}

/** The decompressed stream of a member named `<prefix>.tar[.xz|.zst|.gz]`. */
export async function openDebTar(file: string, prefix: 'data' | 'control'): Promise<Readable> {
  const members = await readArMembers(file);
  const member = members.find((m) => m.name.startsWith(`${prefix}.tar`));
  if (!member) throw badPackage(file, `${path.basename(file)} has no ${prefix}.tar member.`);
  const raw = fs.createReadStream(file, { start: member.offset, end: member.offset + member.size - 1 });
  const compression = member.name.slice(`${prefix}.tar`.length);
  switch (compression) {
    case '':
      return raw;
    case '.gz':
    case '.zst': {
      // pipeline, not pipe: a read error on the file reaches the reader as the stream's error instead of going unheard
      const decompressed = compression === '.gz' ? createGunzip() : zstdTransform();
      pipeline(raw, decompressed).catch(() => undefined);
      return decompressed;
    }
    case '.xz': {
      const web = Readable.toWeb(raw) as unknown as ReadableStream<Uint8Array>;
      return Readable.fromWeb(new xzDecompress.XzReadableStream(web) as unknown as WebReadableStream<Uint8Array>);
    }
    default:
      raw.destroy();
      throw badPackage(file, `${path.basename(file)} uses an unsupported compression (${member.name}).`);
  }
}

/** A package path as dpkg shows it, without the leading "./" ("boot/xen-4.17-arm64"). */
export function packagePath(tarName: string): string {
  return tarName.replace(/^\.\//, '').replace(/\/$/, '');
}

function safeTarget(dest: string, name: string, file: string): string {
  const relative = packagePath(name);
  if (relative.split('/').includes('..') || path.isAbsolute(relative)) {
    throw badPackage(file, `${path.basename(file)} holds an unsafe path (${name}).`);
  }
  return path.join(dest, relative);
}

/** Every regular file whose package path passes `wanted`, read into memory (for a few small files). */
export async function readDebFiles(file: string, wanted: (packagePath: string) => boolean): Promise<Map<string, Uint8Array>> {
  const found = new Map<string, Uint8Array>();
  const extract = tarStream.extract();
  const source = await openDebTar(file, 'data');
  const reading = (async () => {
    for await (const entry of extract) {
      const name = packagePath(entry.header.name);
      if (entry.header.type === 'file' && wanted(name)) {
        const chunks: Buffer[] = [];
        for await (const chunk of entry) chunks.push(chunk as Buffer);
        found.set(name, new Uint8Array(Buffer.concat(chunks)));
      } else {
        entry.resume();
      }
    }
  })();
  await Promise.all([pipeline(source, extract), reading]);
  return found;
}

export interface ExtractOptions {
  /** Only entries whose package path passes are extracted (parents are created as needed). */
  wanted?: (packagePath: string) => boolean;
}

/** Extracts a package's files like `dpkg-deb -x`: modes, symlinks, hard links and times kept. */
export async function extractDeb(file: string, dest: string, options: ExtractOptions = {}): Promise<string[]> {
  await fsp.mkdir(dest, { recursive: true });
  const written: string[] = [];
  const directoryTimes: Array<[string, Date]> = [];
  const extract = tarStream.extract();
  const source = await openDebTar(file, 'data');
  const writing = (async () => {
    for await (const entry of extract) {
      const header = entry.header;
      const name = packagePath(header.name);
      if (name === '.' || name === '' || (options.wanted && !options.wanted(name))) {
        if (name === '.' || name === '') directoryTimes.push([dest, header.mtime ?? new Date()]);
        entry.resume();
        continue;
      }
      const target = safeTarget(dest, header.name, file);
      await fsp.mkdir(path.dirname(target), { recursive: true });
      await writeEntry(entry, target, dest, file);
      if (header.type === 'directory') directoryTimes.push([target, header.mtime ?? new Date()]);
      written.push(name);
    }
  })();
  await Promise.all([pipeline(source, extract), writing]);
  // directory times last: creating their children changed them
  for (const [dir, mtime] of directoryTimes.reverse()) await fsp.utimes(dir, mtime, mtime);
  return written;
}

async function writeEntry(entry: TarEntry, target: string, dest: string, file: string): Promise<void> {
  const { header } = entry;
  const mode = (header.mode ?? 0o644) & 0o7777;
  const mtime = header.mtime ?? new Date();
  switch (header.type) {
    case 'directory':
      await fsp.mkdir(target, { recursive: true });
      await fsp.chmod(target, mode);
      entry.resume();
      return;
    case 'symlink':
      await fsp.rm(target, { force: true });
      await fsp.symlink(header.linkname ?? '', target);
      await fsp.lutimes(target, mtime, mtime);
      entry.resume();
      return;
    case 'link': {
      await fsp.rm(target, { force: true });
      await fsp.link(safeTarget(dest, header.linkname ?? '', file), target);
      entry.resume();
      return;
    }
    case 'file':
    case 'contiguous-file':
      await fsp.rm(target, { force: true });
      await pipeline(entry, fs.createWriteStream(target, { mode }));
      await fsp.chmod(target, mode); // the umask trimmed the create mode
      await fsp.utimes(target, mtime, mtime);
      return;
    default:
      // device nodes and fifos never appear in the packages we read
      entry.resume();
  }
}
