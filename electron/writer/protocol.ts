// The writer's JSON-lines protocol over stdio: requests from the app, results and events back. One JSON object per line.
import type { ImagerErrorData } from '../../shared/errors';
import type { FlashProgress, FlashRequest, FlashResult } from '../../shared/drives/flash';
import type { DriveInfo } from '../../shared/drives/types';
import type { BootEditResult } from '../services/fat/boot-edit';
import type { EditBootRequest } from './edit-boot';

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
