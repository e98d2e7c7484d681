// Turns flash targets into etcher-sdk destinations after the safety rules pass, and explains write errors (phase, device, bytes).
import fs from 'node:fs';
import path from 'node:path';
import { sourceDestination } from 'etcher-sdk';
import { assertDriveWritable } from '../../shared/drives/safety';
import type { FlashRequest, FlashTarget } from '../../shared/drives/flash';
import { driveShortName, formatDriveSize, type DriveInfo } from '../../shared/drives/types';
import { ImagerError } from '../../shared/errors';
import { listDrives, toDriveInfo, toDrivelistDrive, type DrivelistDrive } from './scan';

/** An error from a write or read at a known byte range of a target. */
export interface PositionedError extends Error {
  code?: string;
  offset?: number;
  length?: number;
}

function annotate(error: unknown, offset: number, length: number): PositionedError {
  const positioned = (error instanceof Error ? error : new Error(String(error))) as PositionedError;
  positioned.offset ??= offset;
  positioned.length ??= length;
  return positioned;
}

export type WriteCall = (buffer: Buffer, bufferOffset: number, length: number, fileOffset: number) => Promise<{ bytesWritten: number }>;

/**
 * Writes all `length` bytes or throws at the byte where writing stopped. A disk filling up first writes
 * part of a chunk and says nothing; the rest, asked again, fails with ENOSPC at its exact position. A drive
 * opened with O_DIRECT cannot go on mid-block: a short write there is an error at once.
 */
export async function writeAll(
  write: WriteCall,
  buffer: Buffer,
  bufferOffset: number,
  length: number,
  fileOffset: number,
  resumable: boolean,
): Promise<{ bytesWritten: number; buffer: Buffer }> {
  for (let done = 0; done < length;) {
    let bytesWritten: number;
    try {
      ({ bytesWritten } = await write(buffer, bufferOffset + done, length - done, fileOffset + done));
    } catch (error) {
      throw annotate(error, fileOffset + done, length - done);
    }
    if (bytesWritten <= 0 || (!resumable && bytesWritten < length - done)) {
      const short = Object.assign(new Error(`only ${bytesWritten} of ${length - done} bytes were written`), {
        code: bytesWritten <= 0 ? 'ENOSPC' : 'EIO',
      });
      throw annotate(short, fileOffset + done + Math.max(bytesWritten, 0), length - done - Math.max(bytesWritten, 0));
    }
    done += bytesWritten;
  }
  return { bytesWritten: length, buffer };
}

/** etcher-sdk's BlockDevice, remembering the byte range of a failed write. */
class TrackedBlockDevice extends sourceDestination.BlockDevice {
  /** Flushes the drive's write cache, so "written" means on the card. */
  async flush(): Promise<void> {
    await this.fileHandle.sync();
  }

  override async write(buffer: Buffer, bufferOffset: number, length: number, fileOffset: number) {
    return writeAll((b, o, l, p) => super.write(b, o, l, p), buffer, bufferOffset, length, fileOffset, false);
  }
}

class TrackedFile extends sourceDestination.File {
  async flush(): Promise<void> {
    await this.fileHandle.sync();
  }

  override async write(buffer: Buffer, bufferOffset: number, length: number, fileOffset: number) {
    return writeAll((b, o, l, p) => super.write(b, o, l, p), buffer, bufferOffset, length, fileOffset, true);
  }
}

export interface ResolvedTarget {
  /** Device or file path, as the user named it. */
  name: string;
  kind: 'drive' | 'file';
  destination: TrackedBlockDevice | TrackedFile;
  /** Block device name in /sys/class/block, to tell "removed" from other I/O errors. */
  sysName?: string;
  /** The kernel's size of the device when the write began: a device whose size changed since went away or was swapped. */
  sizeAtStart?: number;
  drive?: DriveInfo;
}

function blockDeviceSize(device: string): number | undefined {
  try {
    const name = path.basename(fs.realpathSync(device));
    return Number(fs.readFileSync(`/sys/class/block/${name}/size`, 'utf8').trim()) * 512;
  } catch {
    return undefined;
  }
}

function describeByOs(target: FlashTarget & { kind: 'drive' }, known: DrivelistDrive[]): { drive: DriveInfo; raw: DrivelistDrive } {
  const scanned = known.find((d) => d.device === target.device || d.raw === target.device);
  // What the OS says about a listed drive wins over what the caller sent (it could be stale).
  if (scanned) return { drive: toDriveInfo(scanned), raw: scanned };
  // drivelist hides loop devices and some virtual disks: accept a described block device, sized by the kernel.
  let stat: fs.Stats;
  try {
    stat = fs.statSync(target.device);
  } catch {
    throw new ImagerError({
      code: 'NOT_FOUND',
      subject: target.device,
      message: `The drive ${target.device} is not connected.`,
      hint: 'Insert the card or drive, wait for it to appear in the list, and choose it again.',
    });
  }
  if (!stat.isBlockDevice() || !target.drive) {
    throw new ImagerError({
      code: 'NOT_A_DRIVE',
      subject: target.device,
      message: `${target.device} is not a drive this computer lists.`,
      hint: 'Choose a drive from `xen-pi-imager drives`, or give a .img file name to write an image file.',
    });
  }
  const drive: DriveInfo = { ...target.drive, size: blockDeviceSize(target.device) ?? target.drive.size };
  return { drive, raw: toDrivelistDrive(drive) };
}

function resolveFile(target: FlashTarget & { kind: 'file' }, imageBytes: number, create: boolean): ResolvedTarget {
  const existing = fs.statSync(target.path, { throwIfNoEntry: false });
  if (existing && !existing.isFile()) {
    throw new ImagerError({
      code: 'INVALID_ARGUMENT',
      subject: target.path,
      message: `${target.path} exists and is not a regular file.`,
      hint: 'Give a new .img file name, or choose the drive as a drive target.',
    });
  }
  if (!create) {
    if (!existing)
      throw new ImagerError({
        code: 'NOT_FOUND',
        subject: target.path,
        message: `${target.path} does not exist.`,
        hint: 'Check the file name.',
      });
    return { name: target.path, kind: 'file', destination: new TrackedFile({ path: target.path }) };
  }
  // Start from an empty file of the image's size, so nothing of an older file survives. Its folder is never created:
  // a mistyped folder name is refused rather than left holding an image nobody looks for.
  const folder = path.dirname(path.resolve(target.path));
  if (!fs.statSync(folder, { throwIfNoEntry: false })?.isDirectory()) {
    throw new ImagerError({
      code: 'NOT_FOUND',
      subject: folder,
      message: `The folder ${folder} does not exist, so ${path.basename(target.path)} cannot be written there.`,
      hint: 'Check the folder’s name, or create the folder first.',
    });
  }
  fs.writeFileSync(target.path, new Uint8Array(0));
  fs.truncateSync(target.path, imageBytes);
  return { name: target.path, kind: 'file', destination: new TrackedFile({ path: target.path, write: true }) };
}

/** Checks every target against the safety rules and opens nothing yet; throws the first refusal. */
export async function resolveTargets(
  request: FlashRequest,
  imageBytes: number,
  options: { createFiles: boolean } = { createFiles: true },
): Promise<ResolvedTarget[]> {
  const names = request.targets.map((t) => (t.kind === 'drive' ? t.device : path.resolve(t.path)));
  if (new Set(names).size !== names.length) {
    throw new ImagerError({
      code: 'INVALID_ARGUMENT',
      subject: 'targets',
      message: 'The same target is listed twice.',
      hint: 'List each card or file once.',
    });
  }
  const needsScan = request.targets.some((t) => t.kind === 'drive');
  const scan = needsScan ? await listDrives() : { drives: [], raw: [] };
  const context = { imageSize: imageBytes, ...(request.sourcePath ? { sourcePath: request.sourcePath } : {}) };
  const resolved: ResolvedTarget[] = [];
  for (const target of request.targets) {
    if (target.kind === 'file') {
      if (path.resolve(target.path) === path.resolve(request.image)) {
        throw new ImagerError({
          code: 'INVALID_ARGUMENT',
          subject: target.path,
          message: 'The target file is the image itself.',
          hint: 'Choose another file name.',
        });
      }
      continue;
    }
    const { drive, raw } = describeByOs(target, scan.raw);
    assertDriveWritable(drive, context, request.confirmations, [...scan.drives, drive]);
    resolved.push({
      name: target.device,
      kind: 'drive',
      drive,
      ...deviceIdentity(target.device),
      destination: new TrackedBlockDevice({
        drive: { ...raw, size: drive.size },
        write: true,
        direct: true,
        unmountOnSuccess: request.eject,
      }),
    });
  }
  // Files are created only once every drive passed its checks.
  for (const target of request.targets) if (target.kind === 'file') resolved.push(resolveFile(target, imageBytes, options.createFiles));
  return request.targets.map((t) => resolved.find((r) => r.name === (t.kind === 'drive' ? t.device : t.path)) as ResolvedTarget);
}

/** The kernel's size of a block device by its name, in bytes; undefined when it is gone. */
function sysfsSize(sysName: string): number | undefined {
  try {
    return Number(fs.readFileSync(`/sys/class/block/${sysName}/size`, 'utf8').trim()) * 512;
  } catch {
    return undefined;
  }
}

/** The device's name in /sys/class/block and its size now, to tell later whether it went away or changed. */
function deviceIdentity(device: string): Pick<ResolvedTarget, 'sysName' | 'sizeAtStart'> {
  const sysName = path.basename(fs.realpathSync(device));
  const size = sysfsSize(sysName);
  return { sysName, ...(size !== undefined && { sizeAtStart: size }) };
}

/** Whether the block device has vanished or shrunk to nothing (a card pulled from its reader). */
export function isRemoved(target: ResolvedTarget): boolean {
  if (target.kind !== 'drive' || !target.sysName) return false;
  return (sysfsSize(target.sysName) ?? 0) === 0;
}

/** Whether the device is no longer the one the write began on: gone, or of another size (a card pulled, or swapped). */
function isGoneOrChanged(target: ResolvedTarget): boolean {
  if (isRemoved(target)) return true;
  return (
    target.kind === 'drive' &&
    target.sysName !== undefined &&
    target.sizeAtStart !== undefined &&
    sysfsSize(target.sysName) !== target.sizeAtStart
  );
}

/** A write or verify failure, explained: phase, device, byte range, what to do. */
export function explainTargetError(
  target: ResolvedTarget,
  phase: 'opening' | 'flashing' | 'verifying' | 'finishing',
  error: unknown,
): ImagerError {
  if (error instanceof ImagerError) return error;
  const e = error as PositionedError;
  const range = e.offset !== undefined ? { offset: e.offset, end: e.offset + (e.length ?? 0) } : undefined;
  const where = range ? ` at bytes ${range.offset}–${range.end}` : '';
  const details = { phase, device: target.name, ...(range ?? {}), ...(e.code ? { systemCode: e.code } : {}) };
  const name = target.drive ? driveShortName(target.drive) : target.name;
  const stoppedAt = e.offset !== undefined ? ` at byte ${e.offset}` : '';
  // "No space" from a device that changed size means it went away, not that the storage behind it is full.
  if (isRemoved(target) || (e.code === 'ENOSPC' && isGoneOrChanged(target))) {
    return new ImagerError({
      code: 'TARGET_REMOVED',
      subject: target.name,
      message: `${name} was removed while ${phase}${where}.`,
      hint: 'Reinsert the card and write it again; it is not usable as it is.',
      details,
    });
  }
  if (e.code === 'EBUSY') {
    return new ImagerError({
      code: 'DEVICE_BUSY',
      subject: target.name,
      message: `${name} is in use by another program and could not be opened for writing.`,
      hint: 'Close programs using the card (file managers, terminals in its folders), unmount it, and try again.',
      details,
    });
  }
  if (e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS') {
    return new ImagerError({
      code: 'PERMISSION_DENIED',
      subject: target.name,
      message: `Writing ${name} was not allowed${where} (${e.code}).`,
      hint: 'Run the writer as administrator (the app asks for it), and check the card is not locked.',
      details,
    });
  }
  // The drive was big enough when we checked: "no space" inside it comes from the storage behind it
  // (the file of a loop device or a virtual disk), or from a card that holds less than it claims.
  if (e.code === 'ENOSPC' && (target.kind === 'file' || (target.drive?.size ?? 0) > (e.offset ?? 0))) {
    return new ImagerError({
      code: 'NO_SPACE',
      subject: target.name,
      message:
        target.kind === 'file'
          ? `The disk holding ${target.name} is full (ENOSPC): writing stopped${stoppedAt}.`
          : `${name} reported no space left (ENOSPC)${stoppedAt}, inside its ${formatDriveSize(target.drive?.size ?? null)}: the storage behind it is full, or the card holds less than it claims.`,
      hint:
        target.kind === 'file'
          ? 'Free space on that disk, or save the image on another one; then write it again.'
          : 'Free space on the disk that holds a loop device’s or virtual disk’s file, or try another card; then write it again.',
      details,
    });
  }
  if (e.code === 'EIO') {
    return new ImagerError({
      code: 'IO_ERROR',
      subject: target.name,
      message: `${phase === 'verifying' ? 'Reading back' : 'Writing'} ${name} failed with an I/O error (EIO)${stoppedAt}.`,
      hint: 'The card, the reader or the disk behind it failed: try another reader or card, then write it again.',
      details,
    });
  }
  if (e.code === 'ENOSPC') {
    return new ImagerError({
      code: 'TARGET_TOO_SMALL',
      subject: target.name,
      message: `${name} ran out of space${where}.`,
      hint: 'Choose a card at least as large as the image.',
      details,
    });
  }
  return new ImagerError({
    code: phase === 'verifying' ? 'VERIFY_READ_FAILED' : 'WRITE_FAILED',
    subject: target.name,
    message: `${phase === 'verifying' ? 'Reading back' : 'Writing'} ${name} failed${where}: ${e.message}.`,
    hint: 'The card or reader may be faulty: try another reader or card.',
    details,
  });
}
