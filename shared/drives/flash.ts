// The shapes of a flash: its targets, its progress events and its result, shared by the writer, the services, the CLI and the UI.
import type { ConfigTxtWanted } from '../boot/config-txt';
import type { ImagerErrorData } from '../errors';
import type { WriteConfirmations } from './safety';
import type { DriveInfo } from './types';

/** A card or USB drive (by device path; `drive` when the caller already knows it, e.g. a loop device), or an image file. */
export type FlashTarget = { kind: 'drive'; device: string; drive?: DriveInfo } | { kind: 'file'; path: string };

export type FlashPhase = 'preparing' | 'decompressing' | 'composing' | 'flashing' | 'verifying' | 'finishing';

/**
 * How much of the image goes to the card: every byte ('full'), or only what the partition
 * table and the file systems use ('used': the FAT and ext4 allocation, everything outside
 * partitions; free space keeps the card's old bytes, which no file system reads).
 */
export type WriteMode = 'full' | 'used';

export interface FlashProgress {
  jobId: string;
  phase: FlashPhase;
  /** 0–100 within the phase. */
  percent: number;
  /** Bytes done in this phase, and the phase's total. */
  bytes: number;
  totalBytes: number;
  /** Bytes per second over the last second or so. */
  speed: number;
  /** Seconds left in this phase; null until the speed is known. */
  eta: number | null;
  activeTargets: number;
  failedTargets: number;
}

export interface FlashTargetResult {
  /** The device path or file path. */
  target: string;
  ok: boolean;
  verified: boolean;
  error?: ImagerErrorData;
}

/** What goes into the card's boot partition; files cross the writer's pipe as base64, or as a path the writer reads. */
export interface BootEditRequest {
  configTxt?: ConfigTxtWanted;
  files: { name: string; base64?: string; path?: string }[];
  /** Files the base image's boot partition must hold (the Pi 4 firmware): refused with NO_FIRMWARE when absent. */
  requiredFiles?: string[];
}

/** What the boot-partition edit did: names written (config.txt first when it changed), and the config.txt diff. */
export interface BootEditOutcome {
  written: string[];
  configTxtDiff: string;
  configTxtChanged: boolean;
  /** Files the base image already had that were replaced (its device tree, say). */
  replaced?: string[];
}

export interface FlashResult {
  jobId: string;
  /** Size of the raw image. */
  imageBytes: number;
  /** Bytes written to each target (less than imageBytes in 'used' mode). */
  writtenBytes: number;
  mode: WriteMode;
  flashMs: number;
  verifyMs: number;
  targets: FlashTargetResult[];
  /** When the writer composed the boot partition on the way. */
  bootEdit?: BootEditOutcome;
  /** When the writer read a compressed source: its SHA-256 (hex), computed while it streamed. */
  sourceSha256?: string;
  /** When the writer decompressed: where the raw image was kept (the cache). */
  cachedAs?: string;
}

export interface FlashRequest {
  /** The raw image file to write; with `stream`, the compressed source. */
  image: string;
  /** Edit the boot partition on the way (in memory: `image` itself stays untouched). */
  bootEdit?: BootEditRequest;
  /**
   * `image` is compressed: decompress it while writing (the targets get data as it comes), hash it
   * as it is read, and keep the raw image at `cacheAs` (renamed from a .partial file once complete).
   */
  stream?: { format: 'xz' | 'gz'; cacheAs: string; imageBytes?: number; sha256?: string };
  targets: FlashTarget[];
  verify: boolean;
  /** Unmount and power off (eject) the drives after a successful write. */
  eject: boolean;
  mode: WriteMode;
  confirmations: WriteConfirmations;
  /** Path of the original source (e.g. on a USB stick) so the drive holding it is refused. */
  sourcePath?: string;
}

/** The base image's own files the profile's replaced, said plainly: a replaced device tree changes what the firmware hands U-Boot. */
export function replacedFilesSentence(replaced: string[]): string {
  const tree = replaced.some((name) => name.endsWith('.dtb'))
    ? ' (the firmware now hands U-Boot the profile’s device tree, not the image’s)'
    : '';
  return `Replaced the base image’s own ${replaced.join(', ')} with the profile’s${tree}.`;
}
