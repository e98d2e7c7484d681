// Applies the boot chain to a Raspberry Pi boot partition: merge config.txt, add boot files; then reads them back to compare.
import fs from 'node:fs';
import path from 'node:path';
import { mergeConfigTxt, type ConfigTxtWanted } from '../../../shared/boot/config-txt';
import { ImagerError } from '../../../shared/errors';
import { openFatPartition } from './index';
import type { ImageOverlay } from './overlay';
import type { FatVolume } from './volume';
import type { BootEditResult } from '../../../shared/drives/writer-protocol';

/** A file for the boot partition: its bytes, or a local path to read them from. */
export interface BootFileInput {
  name: string;
  bytes?: Uint8Array;
  path?: string;
}

/** How config.txt changes: merged by the boot chain's rules, or by the caller's function. */
export type ConfigTxtEdit = ConfigTxtWanted | ((existing: string | undefined) => string);

export interface BootEdit {
  configTxt?: ConfigTxtEdit;
  files: BootFileInput[];
  /** Files the partition must hold once edited (the Pi 4 firmware on a base image): refused with NO_FIRMWARE when absent. */
  requiredFiles?: string[];
}

export function bootFileBytes(file: BootFileInput): Uint8Array {
  if (file.bytes) return file.bytes;
  if (!file.path) {
    throw new ImagerError({
      code: 'INVALID_ARGUMENT',
      subject: file.name,
      message: `The boot file ${file.name} has neither bytes nor a path.`,
      hint: 'This is a bug in the app; please report it.',
    });
  }
  try {
    return fs.readFileSync(file.path);
  } catch (error) {
    throw new ImagerError({
      code: 'NOT_FOUND',
      subject: file.path,
      message: `The boot file ${file.path} (for ${file.name}) cannot be read: ${(error as Error).message}.`,
      hint: 'Check the path in the profile, or fetch the component again.',
    });
  }
}

const decoder = new TextDecoder();

function mergedConfigTxt(existing: string | undefined, edit: ConfigTxtEdit): { text: string; diff: string; changed: boolean } {
  if (typeof edit === 'function') {
    const text = edit(existing);
    return { text, diff: '', changed: text !== (existing ?? '') };
  }
  return mergeConfigTxt(existing, edit);
}

/** Refuses a boot partition that lacks what the board's firmware needs, and that the edit does not add. */
function checkRequiredFiles(volume: FatVolume, edit: BootEdit): void {
  const adding = new Set(edit.files.map((f) => f.name.toLowerCase()));
  const missing = (edit.requiredFiles ?? []).filter((name) => !adding.has(name.toLowerCase()) && !volume.exists(name));
  if (missing.length === 0) return;
  const names = missing.length === 1 ? missing[0] : `${missing.slice(0, -1).join(', ')} and ${missing.at(-1)}`;
  throw new ImagerError({
    code: 'NO_FIRMWARE',
    subject: missing.join(', '),
    message: `The base image’s boot partition has no ${names}: a Raspberry Pi 4 would not start from this card (it is not a Raspberry Pi OS image for the Pi 4, or its firmware is too old).`,
    hint: 'Choose a Raspberry Pi OS image (64-bit, for the Pi 4), or leave the base image empty to write a fresh card with Debian’s Pi 4 firmware (Components → Get everything from Debian, or xen-pi-imager fetch-parts --board rpi4).',
    details: { phase: 'composing', missing },
  });
}

/** The files the edit will write, in order, with their final bytes (config.txt merged against `existing`). */
export function plannedBootFiles(
  volume: FatVolume,
  edit: BootEdit,
): { files: { name: string; bytes: Uint8Array }[]; diff: string; changed: boolean; replaced: string[] } {
  checkRequiredFiles(volume, edit);
  const files = edit.files
    .filter((f) => f.name.toLowerCase() !== 'config.txt' || !edit.configTxt)
    .map((f) => ({ name: f.name, bytes: bootFileBytes(f) }));
  const replaced = files.filter((f) => f.name.toLowerCase() !== 'config.txt' && volume.exists(f.name)).map((f) => f.name);
  if (!edit.configTxt) return { files, diff: '', changed: false, replaced };
  const existingBytes = volume.readFile('config.txt');
  const existing = existingBytes ? decoder.decode(existingBytes) : undefined;
  const merged = mergedConfigTxt(existing, edit.configTxt);
  if (merged.changed) files.unshift({ name: 'config.txt', bytes: new TextEncoder().encode(merged.text) });
  return { files, diff: merged.diff, changed: merged.changed, replaced };
}

/** Edits the first FAT partition of an image file or a card (block device) and flushes it; with an overlay, `target` stays untouched. */
export async function applyBootEdit(
  target: string,
  edit: BootEdit,
  overlay?: ImageOverlay,
): Promise<BootEditResult & { files: { name: string; bytes: Uint8Array }[] }> {
  const volume = await openFatPartition(target, overlay ? { overlay } : {});
  try {
    const plan = plannedBootFiles(volume, edit);
    for (const file of plan.files) volume.writeFile(file.name, file.bytes);
    return {
      written: plan.files.map((f) => f.name),
      configTxtDiff: plan.diff,
      configTxtChanged: plan.changed,
      replaced: plan.replaced,
      files: plan.files,
    };
  } finally {
    volume.close();
  }
}

/** Reads the files back (a fresh mount) and throws READBACK_FAILED naming the first that differs. */
export async function compareBootFiles(
  target: string,
  files: { name: string; bytes: Uint8Array }[],
  overlay?: ImageOverlay,
): Promise<void> {
  const volume = await openFatPartition(target, { readOnly: true, ...(overlay && { overlay }) });
  try {
    for (const file of files) {
      const back = volume.readFile(file.name);
      const same = back !== undefined && back.length === file.bytes.length && Buffer.from(back).equals(Buffer.from(file.bytes));
      if (!same) {
        throw new ImagerError({
          code: 'READBACK_FAILED',
          subject: file.name,
          message: `${file.name} reads back different from what was written to ${target}${back ? ` (${back.length} bytes instead of ${file.bytes.length})` : ' (it is missing)'}.`,
          hint: 'The card may be failing: write it again, or use another card.',
          details: { phase: 'verifying', device: target },
        });
      }
    }
  } finally {
    volume.close();
  }
}

/** Every regular file of a folder (recursively), as boot files named by their relative path. */
export function bootFilesFromFolder(folder: string): BootFileInput[] {
  const out: BootFileInput[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) out.push({ name: path.relative(folder, full).split(path.sep).join('/'), path: full });
    }
  };
  walk(folder);
  return out;
}
