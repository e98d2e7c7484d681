// The writer's JSON-lines protocol over stdio: requests from the app, results and events back. One JSON object per line.
import type { ImagerErrorData } from '../errors';
import type { ConfigTxtWanted } from '../boot/config-txt';
import type { FlashProgress, FlashRequest, FlashResult, FlashTarget } from './flash';
import type { WriteConfirmations } from './safety';
import type { DriveInfo } from './types';

export const WRITER_PROTOCOL_VERSION = 1;

export type WriterRequest =
  | { id: number; type: 'ping' }
  /** List the drives once. `all` includes system and virtual drives. */
  | { id: number; type: 'scan' }
  /** Start or stop the scanner's attach/detach events. */
  | { id: number; type: 'watch'; enabled: boolean; intervalMs?: number }
  | { id: number; type: 'flash'; jobId: string; request: FlashRequest }
  /** Only read the targets back and compare them with the image (after an earlier write, or a card's check). */
  | { id: number; type: 'verify'; jobId: string; request: FlashRequest }
  /** Edit in place: update only the boot partition of a card (or image file), then read it back. */
  | { id: number; type: 'edit-boot'; request: EditBootRequest }
  | { id: number; type: 'cancel'; jobId: string }
  /** Finish what is running, then exit. */
  | { id: number; type: 'exit' };

export type WriterMessage =
  | { type: 'ready'; version: number; pid: number; root: boolean }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; error: ImagerErrorData }
  | { type: 'drives'; drives: DriveInfo[]; attached: string[]; detached: string[] }
  | { type: 'progress'; progress: FlashProgress }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

/** Edit in place: the boot files to write into a card's FAT partition, and what the user confirmed. */
export interface EditBootRequest {
  target: FlashTarget;
  configTxt?: ConfigTxtWanted;
  /** Files as base64 (they cross a JSON pipe) or a path the writer reads. */
  files: { name: string; base64?: string; path?: string }[];
  /** Files the card's boot partition must hold (the Pi 4 firmware). */
  requiredFiles?: string[];
  confirmations: WriteConfirmations;
}

/** What an in-place edit wrote. */
export interface BootEditResult {
  /** Names written, config.txt included when it changed. */
  written: string[];
  /** Unified diff of config.txt ('' when unchanged or not edited). */
  configTxtDiff: string;
  configTxtChanged: boolean;
  /** Files the partition already had that the edit replaced (config.txt, merged, is not one). */
  replaced: string[];
}

export type WriterResults = {
  ping: { pid: number };
  scan: DriveInfo[];
  watch: DriveInfo[];
  flash: FlashResult;
  verify: FlashResult;
  'edit-boot': BootEditResult;
  cancel: { cancelled: boolean };
  exit: null;
};

/** Parses one line; undefined for blank or malformed lines (the caller reports them). */
export function parseLine<T>(line: string): T | undefined {
  const text = line.trim();
  if (!text) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
