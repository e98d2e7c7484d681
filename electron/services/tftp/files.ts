// Which file a request names: normalising names the way U-Boot and PXE clients send them, and opening them confined to the root.
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { TftpErrorCode } from './packets';

/** A request that cannot be served: `code` and `message` go to the client, `why` to the log and the UI. */
export class TftpRefusal extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly why: string = message,
  ) {
    super(message);
    this.name = 'TftpRefusal';
  }
}

/**
 * Turns a requested name into a relative path inside the root: backslashes (Windows PXE clients)
 * become slashes, leading slashes (U-Boot's `tftpb /xen`) and `.` segments go, `..` is refused.
 */
export function normaliseName(requested: string): string {
  const segments = requested.replace(/\\/g, '/').split('/');
  const kept: string[] = [];
  for (const segment of segments) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..')
      throw new TftpRefusal(TftpErrorCode.ACCESS_VIOLATION, 'Access violation', 'the name tries to leave the TFTP root (..)');
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x1f]/.test(segment))
      throw new TftpRefusal(TftpErrorCode.ACCESS_VIOLATION, 'Access violation', 'the name contains control characters');
    kept.push(segment);
  }
  if (kept.length === 0) throw new TftpRefusal(TftpErrorCode.FILE_NOT_FOUND, 'File not found', 'the name names no file');
  return kept.join('/');
}

export interface OpenedFile {
  handle: fs.FileHandle;
  size: number;
}

const notFound = () => new TftpRefusal(TftpErrorCode.FILE_NOT_FOUND, 'File not found', 'not in the TFTP root');
const leadsOutside = () => new TftpRefusal(TftpErrorCode.ACCESS_VIOLATION, 'Access violation', 'it leads outside the TFTP root');

/**
 * Opens `name` (already normalised) under `root` for reading. The real path must stay inside the
 * real root (symlinks may point elsewhere inside it, never out), and only regular files are served:
 * no directories, devices, FIFOs or sockets. O_NONBLOCK keeps a FIFO from hanging the open.
 *
 * A folder on the way can be swapped for a symlink out between any check of the path and the open,
 * so the check that counts is made on the opened file itself: the path the kernel gives for its
 * descriptor (/proc/self/fd/N, no symlinks in it) must be inside the real root. The check before the
 * open only spares opening what already leads out (a symlink to a serial port must not even be opened).
 * `askKernel: false` uses the portable check of systems without /proc (for its tests).
 */
export async function openConfined(root: string, name: string, { askKernel = true } = {}): Promise<OpenedFile> {
  let realRoot: Buffer;
  let real: Buffer;
  try {
    // as bytes: a name that is not UTF-8 must not compare equal to another one that is not either
    realRoot = await fs.realpath(root, { encoding: 'buffer' });
    real = await fs.realpath(path.join(root, name), { encoding: 'buffer' });
  } catch (error) {
    throw refusalFor(error);
  }
  if (!isInside(realRoot, real)) throw leadsOutside();
  const handle = await openHandle(real, constants.O_NOFOLLOW ?? 0);
  try {
    const opened = askKernel ? await pathOfOpened(handle) : undefined;
    const confined = opened ? isInside(realRoot, opened) : await sameFileStillInside(handle, realRoot, root, name);
    if (!confined) throw leadsOutside();
    return await regularFile(handle);
  } catch (error) {
    await handle.close().catch(() => {});
    throw error instanceof TftpRefusal ? error : refusalFor(error);
  }
}

function isInside(realRoot: Buffer, real: Buffer): boolean {
  const prefix = realRoot.at(-1) === SEPARATOR ? realRoot : Buffer.concat([realRoot, Buffer.from([SEPARATOR])]);
  return real.length > prefix.length && real.subarray(0, prefix.length).equals(prefix);
}

const SEPARATOR = path.sep.charCodeAt(0);

/** Where the kernel says an open file is (Linux; undefined elsewhere, or without /proc). */
async function pathOfOpened(handle: fs.FileHandle): Promise<Buffer | undefined> {
  if (process.platform !== 'linux') return undefined;
  return fs.readlink(`/proc/self/fd/${handle.fd}`, { encoding: 'buffer' }).catch(() => undefined);
}

/**
 * Without /proc (macOS, Windows) Node cannot ask where an open file is, nor open relative to a folder:
 * the name is resolved again and must still be inside and lead to the very file that was opened.
 * That narrows the race to a swap and a swap back within two system calls; only Linux closes it.
 */
async function sameFileStillInside(handle: fs.FileHandle, realRoot: Buffer, root: string, name: string): Promise<boolean> {
  const again = await fs.realpath(path.join(root, name), { encoding: 'buffer' });
  if (!isInside(realRoot, again)) return false;
  const [opened, named] = await Promise.all([handle.stat({ bigint: true }), fs.stat(again, { bigint: true })]);
  return opened.dev === named.dev && opened.ino === named.ino;
}

/** Opens `file` if it is a regular file (the check happens on the open handle, so it cannot be swapped in between). */
export async function openRegularFile(file: string, extraFlags = 0): Promise<OpenedFile> {
  return regularFile(await openHandle(file, extraFlags));
}

async function openHandle(file: string | Buffer, extraFlags: number): Promise<fs.FileHandle> {
  try {
    // O_NOCTTY: a terminal device reached by a race never becomes the process's controlling terminal
    return await fs.open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0) | extraFlags);
  } catch (error) {
    throw refusalFor(error);
  }
}

/** The handle's file and size if it is a regular file; otherwise the handle is closed and the request refused. */
async function regularFile(handle: fs.FileHandle): Promise<OpenedFile> {
  const stats = await handle.stat().catch(async (error: unknown) => {
    await handle.close();
    throw refusalFor(error);
  });
  if (!stats.isFile()) {
    await handle.close();
    throw new TftpRefusal(TftpErrorCode.ACCESS_VIOLATION, 'Access violation', 'not a regular file (a folder, device, FIFO or socket)');
  }
  return { handle, size: stats.size };
}

function refusalFor(error: unknown): TftpRefusal {
  const code = (error as { code?: string }).code;
  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return notFound();
  if (code === 'EACCES' || code === 'EPERM') {
    return new TftpRefusal(TftpErrorCode.ACCESS_VIOLATION, 'Access violation', `cannot be read (${code})`);
  }
  return new TftpRefusal(TftpErrorCode.NOT_DEFINED, 'Cannot read file', `cannot be read: ${(error as Error).message}`);
}
