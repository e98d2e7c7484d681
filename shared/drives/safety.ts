// Drive safety rules as pure functions: each drive gets statuses (severity, reason, what unlocks it) the UI shows on its row.
import { ImagerError } from '../errors';
import { driveShortName, formatDriveSize, type DriveInfo } from './types';

/** Drives above this are unusual for a Raspberry Pi card: warn and ask (balenaEtcher's threshold). */
export const LARGE_DRIVE_BYTES = 128e9;

export type DriveStatusCode = 'system' | 'source' | 'too-small' | 'read-only' | 'large' | 'size-unknown';

export interface DriveStatus {
  code: DriveStatusCode;
  /** error: not writable as is; warning: writable after a confirmation or with care; info: just so you know. */
  severity: 'error' | 'warning' | 'info';
  /** One sentence for the drive's row. */
  reason: string;
  /** What lets the write go ahead: nothing ('never'), typing the drive's name ('typed'), a click ('confirm'), or not needed ('none'). */
  override: 'never' | 'typed' | 'confirm' | 'none';
}

export interface SafetyContext {
  /** Bytes the image needs on the drive; undefined when not known yet. */
  imageSize?: number;
  /** Path of the source image file, to spot the drive that holds it. */
  sourcePath?: string;
  largeDriveBytes?: number;
}

export interface WriteConfirmations {
  /** What the user typed to confirm a system drive: must be its short name ("sda") or device path. */
  systemDriveName?: string;
  /** The user confirmed writing a drive over 128 GB. */
  largeDrive?: boolean;
}

function normalisePath(p: string): string {
  const windows = /^[a-zA-Z]:[\\/]|^\\\\/.test(p);
  const slashed = p.replace(/\\/g, '/').replace(/\/+$/, '');
  return windows ? slashed.toLowerCase() : slashed;
}

/** Whether `file` lies on the file system mounted at `mountpoint` (path-aware: /media/a is not /media/ab). */
export function isPathOnMountpoint(file: string, mountpoint: string): boolean {
  const f = normalisePath(file);
  const m = normalisePath(mountpoint);
  if (m === '') return f.startsWith('/');
  return f === m || f.startsWith(m + '/');
}

/** The drive holding the source image: the one with the longest mountpoint containing it. */
export function sourceDrive(drives: DriveInfo[], sourcePath: string): DriveInfo | undefined {
  let best: { drive: DriveInfo; length: number } | undefined;
  for (const drive of drives) {
    for (const mount of drive.mountpoints) {
      if (isPathOnMountpoint(sourcePath, mount.path) && (!best || mount.path.length > best.length)) {
        best = { drive, length: mount.path.length };
      }
    }
  }
  return best?.drive;
}

/** Every status of one drive for this write, most severe first. */
export function driveStatuses(drive: DriveInfo, context: SafetyContext = {}, allDrives: DriveInfo[] = [drive]): DriveStatus[] {
  const statuses: DriveStatus[] = [];
  const name = driveShortName(drive);
  if (drive.isSystem) {
    statuses.push({
      code: 'system',
      severity: 'error',
      reason: `${name} is a system drive: writing it can destroy your operating system or your files.`,
      override: 'typed',
    });
  }
  if (context.sourcePath && sourceDrive(allDrives, context.sourcePath)?.device === drive.device) {
    statuses.push({
      code: 'source',
      severity: 'error',
      reason: `${name} holds the source image; it cannot be written with it.`,
      override: 'never',
    });
  }
  if (drive.isReadOnly) {
    statuses.push({
      code: 'read-only',
      severity: 'error',
      reason: `${name} is read-only or locked: slide the card's lock switch up, or check the reader.`,
      override: 'never',
    });
  }
  if (drive.size === null) {
    statuses.push({
      code: 'size-unknown',
      severity: 'warning',
      reason: `The size of ${name} is unknown; it may be too small.`,
      override: 'none',
    });
  } else if (context.imageSize !== undefined && drive.size < context.imageSize) {
    statuses.push({
      code: 'too-small',
      severity: 'error',
      reason: `${name} is too small: ${formatDriveSize(drive.size)}, the image needs ${formatDriveSize(context.imageSize)}.`,
      override: 'never',
    });
  } else if (drive.size > (context.largeDriveBytes ?? LARGE_DRIVE_BYTES)) {
    statuses.push({
      code: 'large',
      severity: 'warning',
      reason: `${name} is unusually large for a Raspberry Pi card (${formatDriveSize(drive.size)}): make sure it is not a backup disk.`,
      override: 'confirm',
    });
  }
  const rank = { error: 0, warning: 1, info: 2 } as const;
  return statuses.sort((a, b) => rank[a.severity] - rank[b.severity]);
}

/** Whether the drive list shows the drive without "show all": system drives are hidden. */
export function isShownByDefault(drive: DriveInfo): boolean {
  return !drive.isSystem;
}

function confirmationMatches(drive: Pick<DriveInfo, 'device'>, typed: string | undefined): boolean {
  if (!typed) return false;
  const value = typed.trim();
  return value === driveShortName(drive) || value === drive.device;
}

/**
 * Of a drive's statuses, those the user's confirmations do not lift (empty: go ahead). The writer applies it to the
 * statuses it works out; the UI to the statuses the drive list showed, so its confirm button and the writer agree.
 */
export function unconfirmedStatuses(
  drive: Pick<DriveInfo, 'device'>,
  statuses: DriveStatus[],
  confirmations: WriteConfirmations = {},
): DriveStatus[] {
  return statuses.filter((status) => {
    switch (status.override) {
      case 'none':
        return false;
      case 'typed':
        return !confirmationMatches(drive, confirmations.systemDriveName);
      case 'confirm':
        return !confirmations.largeDrive;
      default:
        return true;
    }
  });
}

/** The statuses that still stop this write after the user's confirmations (empty: go ahead). */
export function writeBlockers(
  drive: DriveInfo,
  context: SafetyContext,
  confirmations: WriteConfirmations = {},
  allDrives?: DriveInfo[],
): DriveStatus[] {
  return unconfirmedStatuses(drive, driveStatuses(drive, context, allDrives), confirmations);
}

/** Throws a DRIVE_REFUSED error naming the first blocker and how to lift it; the writer calls this before opening a device. */
export function assertDriveWritable(
  drive: DriveInfo,
  context: SafetyContext,
  confirmations: WriteConfirmations = {},
  allDrives?: DriveInfo[],
): void {
  const [first, ...rest] = writeBlockers(drive, context, confirmations, allDrives);
  if (!first) return;
  const name = driveShortName(drive);
  const hints: Record<DriveStatus['override'], string> = {
    typed: `If you really mean to erase it, confirm by typing its name "${name}" (CLI: --yes-system-drive ${name}).`,
    confirm: 'If this is the right drive, confirm that you want to erase it (CLI: --yes).',
    never: 'Choose another drive.',
    none: '',
  };
  throw new ImagerError({
    code: 'DRIVE_REFUSED',
    subject: drive.device,
    message: `Refusing to write ${drive.device}: ${first.reason}`,
    hint: hints[first.override],
    details: { statuses: [first, ...rest].map((status) => status.code) },
  });
}
