// The boot chain as the wizard sees it: what a component file is, and every generated file before anything is written.
import { z } from 'zod';
import type { FileKind } from '../boot/detect';
import type { Destination } from '../boot/generate';
import type { MemoryMapEntry } from '../boot/stage2';
import { profileSchema } from '../profile/schema';
import type { ProfileProblem } from '../profile/check';
import { method } from './contract';

export interface ComponentInfo {
  /** As given (may be relative: relative paths are looked up in the components folder). */
  path: string;
  resolvedPath: string;
  exists: boolean;
  size?: number;
  kind?: FileKind;
  /** What it was recognised as, in words (`file -L` style). */
  description?: string;
  /** The Linux release found in a kernel Image. */
  linuxVersion?: string;
  /** For a gzip file: the size once decompressed (its trailer's ISIZE, modulo 4 GiB). */
  unpackedSize?: number;
  /** Why it cannot be read. */
  problem?: string;
}

/** A Dom0 kernel stored gzip'd beside the original (Xen decompresses it). */
export interface GzippedKernel {
  /** The new file, named as the original was (relative stays relative). */
  path: string;
  resolvedPath: string;
  size: number;
  /** The plain Image's size: originalSize − size is what every boot no longer loads. */
  originalSize: number;
}

export interface PreviewFile {
  name: string;
  destination: Destination;
  description: string;
  size: number;
  /** Text content (scripts, config.txt); absent for binaries. */
  preview?: string;
}

export interface BootPreview {
  /** Generated files (config.txt fragment or merge, boot.source/.scr, boot2.source/.scr). */
  files: PreviewFile[];
  /** Component files copied next to them. */
  components: Array<{ role: string; source: string; target: string; destination: Destination; size?: number }>;
  memoryMap: MemoryMapEntry[];
  warnings: string[];
  /** Errors that stop generation (missing files, not enough memory...), each with its JSON path. */
  problems: ProfileProblem[];
}

export interface ExportResult {
  dir: string;
  /** Paths relative to dir, as written. */
  written: string[];
}

export const bootMethods = {
  componentInspect: method(z.tuple([z.string().max(4096)])).returns<ComponentInfo>(),
  /** Writes `<kernel>.gz` beside a plain arm64 Image, for a Dom0 that loads a third of the bytes. */
  componentGzip: method(z.tuple([z.string().min(1).max(4096)])).returns<GzippedKernel>(),
  bootPreview: method(z.tuple([profileSchema])).returns<BootPreview>(),
  /** Writes the TFTP root (DIR/tftp) and the boot-partition files (DIR/boot) of a profile, like `generate --out`. */
  bootExport: method(z.tuple([profileSchema, z.string().min(1).max(4096)])).returns<ExportResult>(),
};
