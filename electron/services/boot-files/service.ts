// The boot domain behind the contract: inspects component files, previews and exports a profile's boot bundle.
import { closeSync, copyFileSync, openSync, readSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BootPreview, ComponentInfo, ExportResult } from '../../../shared/api/boot';
import { componentFiles, type BootBundle } from '../../../shared/boot/bundle';
import { detectFile } from '../../../shared/boot/detect';
import type { Destination } from '../../../shared/boot/generate';
import { ImagerError } from '../../../shared/errors';
import type { Profile } from '../../../shared/profile/schema';
import type { DomainService } from '../host';
import { checkUserOutputFile, ensureUserFolder, userPathError, type UserFileRole } from '../../node/user-files';
import { readComponentFacts } from './facts';
import { gzipComponent } from './gzip-kernel';
import { notReadable, prepareBoot, readyBoot, resolveComponent, systemCodeOf, warningsOf, type PreparedBoot } from './prepare';

export function inspectComponent(componentsDir: string, file: string): ComponentInfo {
  const resolvedPath = resolveComponent(componentsDir, file);
  try {
    const facts = readComponentFacts(resolvedPath);
    const detected = detectFile(facts.head, facts.size);
    return {
      path: file,
      resolvedPath,
      exists: true,
      size: facts.size,
      kind: detected.kind,
      description: detected.description,
      ...(facts.linuxVersion && { linuxVersion: facts.linuxVersion }),
      ...(detected.kind === 'gzip' && { unpackedSize: gzipUnpackedSize(resolvedPath, facts.size) }),
    };
  } catch (error) {
    const code = systemCodeOf(error);
    return {
      path: file,
      resolvedPath,
      exists: code !== 'ENOENT',
      problem: code === 'ENOENT' ? `There is no file at ${resolvedPath}.` : notReadable(resolvedPath, error),
    };
  }
}

/** A gzip member's trailer ends with the uncompressed size modulo 4 GiB (RFC 1952 ISIZE). */
function gzipUnpackedSize(file: string, size: number): number {
  const trailer = Buffer.alloc(4);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, trailer, 0, 4, Math.max(0, size - 4));
  } finally {
    closeSync(fd);
  }
  return trailer.readUInt32LE(0);
}

/** What the Review step shows: every generated file (scripts as text), the files copied beside them, the memory map, every problem. */
export function previewBoot(profile: Profile, componentsDir: string, env: NodeJS.ProcessEnv = process.env): BootPreview {
  const prepared = prepareBoot(profile, componentsDir, env);
  const errors = prepared.problems.filter((p) => p.severity === 'error');
  const components = prepared.named.map(({ field: _field, ...copy }) => copy);
  if (errors.length > 0) return { files: [], components, memoryMap: [], warnings: warningsOf(prepared), problems: errors };
  return {
    files: prepared.files.map((file) => ({
      name: file.name,
      destination: file.destination,
      description: file.description,
      size: file.bytes.length,
      ...(file.name.endsWith('.scr') ? {} : { preview: file.preview }),
    })),
    components,
    memoryMap: prepared.memoryMap,
    warnings: warningsOf(prepared),
    problems: [],
  };
}

const folderOf: Record<Destination, string> = { 'boot-partition': 'boot', 'tftp-root': 'tftp' };

const EXPORT_FOLDER: UserFileRole = { what: 'export folder', hint: 'Choose a folder you can write to (it is created when missing).' };

/** Lays a bundle out as DIR/boot (the card's boot partition) and DIR/tftp (the TFTP root). */
export function writeBootFiles(bundle: BootBundle, out: string, baseDir: string, role: UserFileRole = EXPORT_FOLDER): string[] {
  const written: string[] = [];
  const place = (destination: Destination, name: string) => {
    const target = path.join(out, folderOf[destination], ...name.split('/'));
    ensureUserFolder(path.dirname(target), role);
    written.push(path.relative(out, target));
    return target;
  };
  const writing = (target: string, write: () => void) => {
    checkUserOutputFile(target, role); // never open a FIFO or a device for writing: it would block or go elsewhere
    try {
      write();
    } catch (error) {
      throw userPathError(error, target, 'write', role);
    }
  };
  for (const file of bundle.files) {
    const target = place(file.destination, file.name);
    writing(target, () => writeFileSync(target, file.bytes));
  }
  for (const copy of componentFiles(bundle)) {
    const target = place(copy.destination, copy.target);
    writing(target, () => copyFileSync(resolveComponent(baseDir, copy.source), target));
  }
  return written;
}

/** Writes a prepared bundle to a folder; refuses with every problem when the profile is not ready. */
export function exportPrepared(prepared: PreparedBoot, dir: string, role?: UserFileRole): string[] {
  return writeBootFiles(readyBoot(prepared), dir, prepared.baseDir, role);
}

/** Generates a profile's boot files and writes them to a folder; refuses with every problem when the profile is not ready. */
export function exportBoot(profile: Profile, componentsDir: string, dir: string, env: NodeJS.ProcessEnv = process.env): ExportResult {
  if (!path.isAbsolute(dir)) {
    throw new ImagerError({
      code: 'INVALID_ARGUMENT',
      subject: dir,
      message: `"${dir}" is not a full path.`,
      hint: 'Give the folder as a full path, such as /home/me/xen-tftp.',
    });
  }
  return { dir, written: exportPrepared(prepareBoot(profile, componentsDir, env), dir) };
}

export function createBootService(
  componentsDir: string,
): DomainService<'componentInspect' | 'componentGzip' | 'bootPreview' | 'bootExport'> {
  return {
    componentInspect: async (file) => inspectComponent(componentsDir, file),
    componentGzip: async (file) => gzipComponent(file, resolveComponent(componentsDir, file)),
    bootPreview: async (profile) => previewBoot(profile, componentsDir),
    bootExport: async (profile, dir) => exportBoot(profile, componentsDir, dir),
  };
}
