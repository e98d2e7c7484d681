// The boot domain behind the contract: inspects component files and previews every generated file for the wizard.
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BootPreview, ComponentInfo, ExportResult } from '../../../shared/api/boot';
import { detectFile } from '../../../shared/boot/detect';
import { componentCopies, generateBootFiles, type BootFiles, type ComponentFacts, type Destination } from '../../../shared/boot/generate';
import { ImagerError } from '../../../shared/errors';
import { scriptTimestamp } from '../../../shared/boot/script-image';
import { pathOfRole, validateProfile, type ProfileProblem } from '../../../shared/profile/check';
import type { Profile } from '../../../shared/profile/schema';
import type { DomainService } from '../host';
import { checkUserOutputFile, ensureUserFolder, userPathError, type UserFileRole } from '../../node/user-files';
import { readComponentFacts } from './facts';
import { gzipComponent } from './gzip-kernel';

/** Relative component paths in the app are looked up here (where `fetch-parts` puts Debian's parts). */
export function resolveComponent(componentsDir: string, file: string): string {
  return path.resolve(componentsDir, file);
}

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

/** The errno code behind a read failure, also when it comes wrapped in an ImagerError. */
function systemCodeOf(error: unknown): string | undefined {
  const wrapped = error instanceof ImagerError ? error.details?.systemCode : undefined;
  return typeof wrapped === 'string' ? wrapped : (error as NodeJS.ErrnoException).code;
}

/** Why a component cannot be read: the sentence of a refusal (it names the file), or the system's reason. */
function notReadable(named: string, error: unknown): string {
  if (error instanceof ImagerError) return `${error.message} ${error.hint ?? ''}`.trim();
  return `${named} cannot be read: ${(error as Error).message}`;
}

export interface ProfileFiles {
  /** Facts of every file the profile names that could be read, by the path the profile gives. */
  components: Record<string, ComponentFacts>;
  /** One error per file that could not be read, at the JSON path of the field naming it. */
  missing: ProfileProblem[];
  /** The JSON paths among `missing` whose file is simply not there (yet); the others exist but are no file to read. */
  absent: Set<string>;
}

/** Reads every file a profile names (relative paths against `baseDir`). */
export function readProfileFiles(profile: Profile, baseDir: string): ProfileFiles {
  const components: Record<string, ComponentFacts> = {};
  const missing: ProfileProblem[] = [];
  const absent = new Set<string>();
  for (const copy of componentCopies(profile)) {
    const file = resolveComponent(baseDir, copy.source);
    try {
      components[copy.source] = readComponentFacts(file);
    } catch (error) {
      const named = copy.source === file ? file : `${copy.source} (${file})`;
      const gone = systemCodeOf(error) === 'ENOENT';
      if (gone) absent.add(pathOfRole(copy.role));
      missing.push({ path: pathOfRole(copy.role), severity: 'error', message: gone ? `There is no file at ${named}.` : notReadable(named, error) });
    }
  }
  return { components, missing, absent };
}

/** Facts of the files a profile names that could be read (see readProfileFiles for the missing ones). */
export function readProfileComponents(profile: Profile, baseDir: string): Record<string, ComponentFacts> {
  return readProfileFiles(profile, baseDir).components;
}

/** Validates a profile against its real files: shape, cross-field rules, missing files, types and memory fit. */
export function checkProfileFiles(profile: Profile, baseDir: string): { files: ProfileFiles; problems: ProfileProblem[] } {
  const files = readProfileFiles(profile, baseDir);
  const validation = validateProfile(profile, files.components);
  return { files, problems: [...files.missing, ...validation.problems, ...provenanceProblems(profile, baseDir, files)] };
}

/** SHA-256 of a file, remembered by path, size and modification time (the wizard checks on every change). */
const hashCache = new Map<string, { size: number; mtimeMs: number; sha256: string }>();
function fileSha256(file: string): string {
  const stats = statSync(file);
  const known = hashCache.get(file);
  if (known && known.size === stats.size && known.mtimeMs === stats.mtimeMs) return known.sha256;
  const hash = createHash('sha256');
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(1024 * 1024);
    for (let read; (read = readSync(fd, buffer, 0, buffer.length, null)) > 0; ) hash.update(buffer.subarray(0, read));
  } finally {
    closeSync(fd);
  }
  const sha256 = hash.digest('hex');
  hashCache.set(file, { size: stats.size, mtimeMs: stats.mtimeMs, sha256 });
  return sha256;
}

/** Files whose bytes no longer match what fetch-parts recorded (a damaged copy, or a file replaced by hand). */
export function provenanceProblems(profile: Profile, baseDir: string, files: Pick<ProfileFiles, 'components'> & Partial<ProfileFiles>): ProfileProblem[] {
  const problems: ProfileProblem[] = [];
  for (const [name, origin] of Object.entries(profile.provenance ?? {})) {
    if (!files.components[name]) continue; // missing files are reported at their own field
    let actual: string;
    try {
      actual = fileSha256(resolveComponent(baseDir, name));
    } catch {
      continue;
    }
    if (actual === origin.sha256) continue;
    problems.push({
      path: `$.provenance[${JSON.stringify(name)}]`,
      severity: 'warning',
      message: `${name} no longer matches ${origin.package} ${origin.version}: its SHA-256 is ${actual}, not ${origin.sha256}. If you did not replace it on purpose, fetch the parts again (xen-pi-imager fetch-parts); if you did, remove its provenance entry.`,
    });
  }
  return problems;
}

export function previewBoot(profile: Profile, componentsDir: string, env: NodeJS.ProcessEnv = process.env): BootPreview {
  const { files, problems } = checkProfileFiles(profile, componentsDir);
  const facts = files.components;
  const errors = problems.filter((p) => p.severity === 'error');
  const warnings = problems.filter((p) => p.severity === 'warning').map((p) => p.message);
  const copies = componentCopies(profile).map((copy) => ({ ...copy, ...(facts[copy.source] && { size: facts[copy.source]!.size }) }));
  if (errors.length > 0) return { files: [], components: copies, memoryMap: [], warnings, problems: errors };
  const generated = generateBootFiles(profile, facts, { timestamp: scriptTimestamp(env.SOURCE_DATE_EPOCH) });
  return {
    files: generated.files.map((file) => ({
      name: file.name,
      destination: file.destination,
      description: file.description,
      size: file.bytes.length,
      ...(file.name.endsWith('.scr') ? {} : { preview: file.preview }),
    })),
    components: copies,
    memoryMap: generated.memoryMap,
    warnings: [...warnings, ...generated.warnings.filter((w) => !warnings.includes(w))],
    problems: [],
  };
}

const folderOf: Record<Destination, string> = { 'boot-partition': 'boot', 'tftp-root': 'tftp' };

const EXPORT_FOLDER: UserFileRole = { what: 'export folder', hint: 'Choose a folder you can write to (it is created when missing).' };

/** Lays generated files and component copies out as DIR/boot (the card's boot partition) and DIR/tftp (the TFTP root). */
export function writeBootFiles(files: BootFiles, out: string, baseDir: string, role: UserFileRole = EXPORT_FOLDER): string[] {
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
  for (const file of files.files) {
    const target = place(file.destination, file.name);
    writing(target, () => writeFileSync(target, file.bytes));
  }
  for (const copy of files.components) {
    const target = place(copy.destination, copy.target);
    writing(target, () => copyFileSync(resolveComponent(baseDir, copy.source), target));
  }
  return written;
}

export interface ProfileBootFiles {
  generated: BootFiles;
  /** Warnings of the checks and of generation, each once. */
  warnings: string[];
}

/**
 * Reads a profile's files, checks everything (shape, cross-field rules, missing files, types, memory fit) and
 * generates its boot files; throws INVALID_PROFILE listing every problem by JSON path when it cannot.
 */
export function generateProfileBootFiles(profile: Profile, baseDir: string, env: NodeJS.ProcessEnv = process.env): ProfileBootFiles {
  const { files, problems } = checkProfileFiles(profile, baseDir);
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) {
    throw new ImagerError({
      code: 'INVALID_PROFILE',
      subject: profile.name,
      message: errors.map((problem) => `${problem.path}: ${problem.message}`).join('; '),
      hint: 'Fix the profile (in the app, or check it with `xen-pi-imager profile check FILE`).',
      details: { problems: errors },
    });
  }
  const generated = generateBootFiles(profile, files.components, { timestamp: scriptTimestamp(env.SOURCE_DATE_EPOCH) });
  const warnings = problems.filter((p) => p.severity === 'warning').map((p) => p.message);
  return { generated, warnings: [...warnings, ...generated.warnings.filter((w) => !warnings.includes(w))] };
}

/** Generates a profile's boot files and writes them to a folder; refuses with every problem when the profile is not ready. */
export function exportBoot(profile: Profile, componentsDir: string, dir: string, env: NodeJS.ProcessEnv = process.env): ExportResult {
  if (!path.isAbsolute(dir)) {
    throw new ImagerError({ code: 'INVALID_ARGUMENT', subject: dir, message: `"${dir}" is not a full path.`, hint: 'Give the folder as a full path, such as /home/me/xen-tftp.' });
  }
  const { generated } = generateProfileBootFiles(profile, componentsDir, env);
  return { dir, written: writeBootFiles(generated, dir, componentsDir) };
}

export function createBootService(componentsDir: string): DomainService<'componentInspect' | 'componentGzip' | 'bootPreview' | 'bootExport'> {
  return {
    componentInspect: async (file) => inspectComponent(componentsDir, file),
    componentGzip: async (file) => gzipComponent(file, resolveComponent(componentsDir, file)),
    bootPreview: async (profile) => previewBoot(profile, componentsDir),
    bootExport: async (profile, dir) => exportBoot(profile, componentsDir, dir),
  };
}
