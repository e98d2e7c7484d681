// Files and folders the user names (CLI arguments, profile fields, export folders): regular files only, bounded, refused with a sentence.
import fs from 'node:fs';
import path from 'node:path';
import { ImagerError } from '../../shared/errors';

/** Opening a FIFO for reading without O_NONBLOCK waits for a writer, forever and deaf to signals. */
const NONBLOCK = fs.constants.O_NONBLOCK ?? 0;

/** What a path is, in words, for "X is a folder, not a file". */
export function kindOf(stats: fs.Stats): string {
  if (stats.isFile()) return 'a file';
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a named pipe (FIFO)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device (a drive)';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} bytes`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} kB`;
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e9).toFixed(1)} GB`;
}

/** stat, or undefined where nothing is (also when a part of the path is a file: ENOTDIR). */
export function statIfAny(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/** "a profile", "an ImageBuilder config". */
function aOrAn(what: string): string {
  return `${/^[aeiou]/i.test(what) ? 'an' : 'a'} ${what}`;
}

export interface UserFileRole {
  /** What the file is for, as the user would say it: "profile", "ImageBuilder config". */
  what: string;
  /** What the user can do instead, said with every refusal. */
  hint: string;
}

/** A system error on a user-named path, as a sentence: what happened to which path. */
export function userPathError(error: unknown, file: string, action: 'read' | 'create' | 'write', role: UserFileRole): ImagerError {
  if (error instanceof ImagerError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const reason: Record<string, string> = {
    ENOENT:
      action === 'read'
        ? `The ${role.what} ${file} does not exist.`
        : `${file} cannot be created: its folder does not exist or takes no new files.`,
    ENOTDIR: `${file} ${action === 'read' ? 'does not exist' : 'cannot be created'}: a part of its path is not a folder.`,
    EACCES: `${file} cannot be ${action === 'read' ? 'read' : 'written'}: permission denied.`,
    EPERM: `${file} cannot be ${action === 'read' ? 'read' : 'written'}: the operation is not permitted.`,
    EROFS: `${file} cannot be ${action === 'read' ? 'read' : 'written'}: the file system is read-only.`,
    EISDIR: `${file} is a folder, not a file.`,
    ELOOP: `${file} is a loop of symbolic links.`,
    ENAMETOOLONG: `The name ${file.slice(0, 80)}… is too long.`,
    ENOSPC: `${file} cannot be written: the disk is full.`,
    EIO: `${file} cannot be ${action === 'read' ? 'read' : 'written'}: an I/O error (the disk or card may be failing).`,
  };
  return new ImagerError({
    code: code === 'ENOENT' ? 'NOT_FOUND' : code === 'EACCES' || code === 'EPERM' ? 'PERMISSION_DENIED' : 'IO_ERROR',
    subject: file,
    message: (code && reason[code]) ?? `${file} cannot be ${action === 'read' ? 'read' : 'written'}: ${(error as Error).message}.`,
    hint: role.hint,
    ...(code && { details: { systemCode: code } }),
  });
}

function notAFile(file: string, stats: fs.Stats, role: UserFileRole): ImagerError {
  return new ImagerError({
    code: 'NOT_A_FILE',
    subject: file,
    message: `${file} is ${kindOf(stats)}, not a file: ${aOrAn(role.what)} must be a regular file.`,
    hint: role.hint,
  });
}

/** Opens a user-named file for reading without ever blocking; anything but a regular file is refused. The caller closes the descriptor. */
export function openUserFile(file: string, role: UserFileRole): { fd: number; size: number } {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | NONBLOCK);
  } catch (error) {
    throw userPathError(error, file, 'read', role);
  }
  try {
    const stats = fs.fstatSync(fd);
    if (!stats.isFile()) throw notAFile(file, stats, role);
    return { fd, size: stats.size };
  } catch (error) {
    fs.closeSync(fd);
    throw userPathError(error, file, 'read', role);
  }
}

/** Reads a whole user-named regular file of at most `maxBytes`; says what was given instead when it is not one. */
export function readUserFile(file: string, role: UserFileRole & { maxBytes: number }): Buffer {
  const { fd, size } = openUserFile(file, role);
  const tooLarge = () =>
    new ImagerError({
      code: 'FILE_TOO_LARGE',
      subject: file,
      message: `${file} is ${size > role.maxBytes ? formatBytes(size) : `over ${formatBytes(role.maxBytes)}`}; ${aOrAn(role.what)} is at most ${formatBytes(role.maxBytes)}.`,
      hint: role.hint,
    });
  try {
    if (size > role.maxBytes) throw tooLarge();
    // Read to the end but never past the limit: a file that grows while it is read (or says size 0, as in /proc) stays bounded.
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(Math.max(size - length, 64 * 1024), role.maxBytes + 1 - length));
      const got = fs.readSync(fd, chunk, 0, chunk.length, null);
      if (got === 0) break;
      chunks.push(chunk.subarray(0, got));
      length += got;
      if (length > role.maxBytes) throw tooLarge();
    }
    return Buffer.concat(chunks, length);
  } catch (error) {
    throw userPathError(error, file, 'read', role);
  } finally {
    fs.closeSync(fd);
  }
}

/** Control characters other than tab, line feed, form feed and carriage return: a sign of binary data. */
function hasControlCharacters(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0c && c !== 0x0d) || c === 0x7f) return true;
  }
  return false;
}

/**
 * Reads a user-named text file (UTF-8); binary data (a picture, random bytes) is refused rather than
 * parsed, so no error message ever quotes raw bytes, escape sequences included, back to the terminal.
 */
export function readUserTextFile(file: string, role: UserFileRole & { maxBytes: number }): string {
  const bytes = readUserFile(file, role);
  let text: string | undefined;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    text = undefined;
  }
  if (text === undefined || hasControlCharacters(text)) {
    throw new ImagerError({
      code: 'NOT_TEXT',
      subject: file,
      message: `${file} is not a text file: it holds binary data, so it cannot be ${aOrAn(role.what)}.`,
      hint: role.hint,
    });
  }
  return text;
}

/** Refuses an output path that exists as something other than a regular file (/dev/null, a folder, a FIFO). */
export function checkUserOutputFile(file: string, role: UserFileRole): void {
  const stats = statIfAny(file);
  if (stats && !stats.isFile()) {
    throw new ImagerError({
      code: 'NOT_A_FILE',
      subject: file,
      message: `${file} is ${kindOf(stats)}, not a file: the ${role.what} is written to a regular file.`,
      hint: role.hint,
    });
  }
  const parent = path.dirname(file);
  checkUserOutputFolder(parent, role); // says which part of the path is a file
  if (!statIfAny(parent))
    throw new ImagerError({
      code: 'NOT_FOUND',
      subject: file,
      message: `The folder ${parent} does not exist, so ${file} cannot be written.`,
      hint: role.hint,
    });
}

/** Writes a user-named output file (created or replaced); refuses devices, folders and missing folders with a sentence. */
export function writeUserFile(file: string, content: string | Uint8Array, role: UserFileRole): void {
  checkUserOutputFile(file, role);
  try {
    fs.writeFileSync(file, content);
  } catch (error) {
    throw userPathError(error, file, fs.existsSync(file) ? 'write' : 'create', role);
  }
}

/** Refuses a user-named input folder that does not exist or is not a folder. */
export function checkUserFolder(dir: string, role: UserFileRole): void {
  let stats: fs.Stats;
  try {
    stats = fs.statSync(dir);
  } catch (error) {
    throw (error as NodeJS.ErrnoException).code === 'ENOENT'
      ? new ImagerError({ code: 'NOT_FOUND', subject: dir, message: `The ${role.what} ${dir} does not exist.`, hint: role.hint })
      : userPathError(error, dir, 'read', role);
  }
  if (!stats.isDirectory())
    throw new ImagerError({ code: 'NOT_A_FOLDER', subject: dir, message: `${dir} is ${kindOf(stats)}, not a folder.`, hint: role.hint });
}

/**
 * Checks a user-named output folder without creating anything: it is a folder, or the nearest part of its
 * path that exists is one. Returns the folders still to create, outermost first.
 */
export function checkUserOutputFolder(dir: string, role: UserFileRole): string[] {
  const target = path.resolve(dir);
  const missing: string[] = [];
  for (let at = target; ;) {
    let stats: fs.Stats | undefined;
    try {
      stats = statIfAny(at);
    } catch (error) {
      throw userPathError(error, dir, 'create', role);
    }
    if (stats) {
      if (stats.isDirectory()) return missing;
      throw new ImagerError({
        code: 'NOT_A_FOLDER',
        subject: dir,
        message:
          at === target
            ? `${dir} is ${kindOf(stats)}, not a folder.`
            : `${dir} cannot be created: ${at} is ${kindOf(stats)}, not a folder.`,
        hint: role.hint,
      });
    }
    missing.unshift(at);
    const parent = path.dirname(at);
    if (parent === at) return missing;
    at = parent;
  }
}

/**
 * Makes sure a user-named output folder exists, creating the missing ones one level at a time
 * (Node's recursive mkdir loops for ever where mkdir says ENOENT under an existing parent, as in /proc/sys).
 */
export function ensureUserFolder(dir: string, role: UserFileRole): void {
  for (const folder of checkUserOutputFolder(dir, role)) {
    try {
      fs.mkdirSync(folder);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST' && fs.statSync(folder, { throwIfNoEntry: false })?.isDirectory()) continue;
      throw userPathError(error, folder, 'create', role);
    }
  }
}
