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
    if (segment === '..') throw new TftpRefusal(TftpErrorCode.ACCESS_VIOLATION, 'Access violation', 'the name tries to leave the TFTP root (..)');
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x1f]/.test(segment)) throw new TftpRefusal(TftpErrorCode.ACCESS_VIOLATION, 'Access violation', 'the name contains control characters');
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

/**
 * Opens `name` (already normalised) under `root` for reading. The real path must stay inside the
 * real root (symlinks may point elsewhere inside it, never out), and only regular files are served:
 * no directories, devices, FIFOs or sockets. O_NONBLOCK keeps a FIFO from hanging the open.
 */
export async function openConfined(root: string, name: string): Promise<OpenedFile> {
  let realRoot: string;
  let real: string;
  try {
    realRoot = await fs.realpath(root);
    real = await fs.realpath(path.join(realRoot, name));
  } catch (error) {
    throw refusalFor(error);
  }
  if (!real.startsWith(realRoot + path.sep)) {
    throw new TftpRefusal(TftpErrorCode.ACCESS_VIOLATION, 'Access violation', 'it leads outside the TFTP root');
  }
  return openRegularFile(real, constants.O_NOFOLLOW ?? 0);
}

/** Opens `file` if it is a regular file (the check happens on the open handle, so it cannot be swapped in between). */
export async function openRegularFile(file: string, extraFlags = 0): Promise<OpenedFile> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | extraFlags);
  } catch (error) {
    throw refusalFor(error);
  }
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
