// Splits a trial profile's generated boot files between the emulated SD card (FAT image) and the TFTP server.
import fs from 'node:fs';
import type { Profile } from '../../../shared/profile/schema';
import { generateProfileBootFiles, resolveComponent } from '../boot-files/service';
import type { FatImageFile } from '../../node/fat';

export interface EmulatorBootFiles {
  /** What goes on the SD image's FAT partition: boot.scr (and in SD mode everything else). */
  card: FatImageFile[];
  /** Generated files the TFTP server serves from memory (boot2.scr). */
  tftpFiles: Map<string, Uint8Array>;
  /** Components the TFTP server streams from disk, by the name the scripts ask for. */
  tftpDiskFiles: Map<string, string>;
  warnings: string[];
}

const MiB = 1024 * 1024;

/** Generates and sorts a profile's files; throws INVALID_PROFILE with every problem when it cannot boot. */
export function emulatorBootFiles(profile: Profile, componentsDir: string, env: NodeJS.ProcessEnv = process.env): EmulatorBootFiles {
  const { generated, warnings } = generateProfileBootFiles(profile, componentsDir, env);
  const card: FatImageFile[] = generated.files.filter((file) => file.destination === 'boot-partition').map((file) => ({ name: file.name, bytes: file.bytes }));
  const tftpFiles = new Map(generated.files.filter((file) => file.destination === 'tftp-root').map((file) => [file.name, file.bytes] as const));
  const tftpDiskFiles = new Map<string, string>();
  for (const copy of generated.components) {
    const file = resolveComponent(componentsDir, copy.source);
    if (copy.destination === 'tftp-root') tftpDiskFiles.set(copy.target, file);
    else card.push({ name: copy.target, bytes: new Uint8Array(fs.readFileSync(file)) });
  }
  return { card, tftpFiles, tftpDiskFiles, warnings };
}

/** A card just big enough for its files plus room for FAT's own tables. */
export function cardSizeMiB(card: FatImageFile[]): number {
  const bytes = card.reduce((sum, file) => sum + file.bytes.length, 0);
  return Math.max(16, Math.ceil((bytes * 1.1) / MiB) + 8);
}
