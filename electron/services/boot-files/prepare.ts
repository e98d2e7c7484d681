// The one door from a profile to its boot files: read the facts of the files it names, check, generate once — a boot bundle.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { bundleBoot, emptyBundle, hasErrors, type BootBundle, type BootProblem } from '../../../shared/boot/bundle';
import { componentCopies, type ComponentCopy, type ComponentFacts } from '../../../shared/boot/generate';
import { scriptTimestamp } from '../../../shared/boot/script-image';
import { ImagerError } from '../../../shared/errors';
import { boards } from '../../../shared/boards';
import { componentIdentityProblems, PI4_FIRMWARE_FILES, profileRuleProblems } from '../../../shared/profile/check';
import type { Profile } from '../../../shared/profile/schema';
import type { BootEdit, BootFileInput } from '../../node/fat/boot-edit';
import { readComponentFacts } from './facts';

/** A boot bundle with where its component files are on this computer. */
export interface PreparedBoot extends BootBundle {
  profile: Profile;
  /** Relative component paths in the profile are resolved against this folder. */
  baseDir: string;
  /** Every file the profile names (also when generation stopped), with its size when it could be read. */
  named: Array<ComponentCopy & { size?: number }>;
}

/** Relative component paths are looked up here: the app's components folder, or a profile file's own folder. */
export function resolveComponent(baseDir: string, file: string): string {
  return path.resolve(baseDir, file);
}

/** Where a component of the bundle is on disk. */
export function componentPath(prepared: Pick<PreparedBoot, 'baseDir'>, copy: Pick<ComponentCopy, 'source'>): string {
  return resolveComponent(prepared.baseDir, copy.source);
}

/** The errno code behind a read failure, also when it comes wrapped in an ImagerError. */
export function systemCodeOf(error: unknown): string | undefined {
  const wrapped = error instanceof ImagerError ? error.details?.systemCode : undefined;
  return typeof wrapped === 'string' ? wrapped : (error as NodeJS.ErrnoException).code;
}

/** Why a component cannot be read: the sentence of a refusal (it names the file), or the system's reason. */
export function notReadable(named: string, error: unknown): string {
  if (error instanceof ImagerError) return `${error.message} ${error.hint ?? ''}`.trim();
  return `${named} cannot be read: ${(error as Error).message}`;
}

export interface ProfileFiles {
  /** Facts of every file the profile names that could be read, by the path the profile gives. */
  components: Record<string, ComponentFacts>;
  /** One error per file that could not be read, at the JSON path of the field naming it. */
  missing: BootProblem[];
  /** The JSON paths among `missing` whose file is simply not there (yet); the others exist but are no file to read. */
  absent: Set<string>;
}

/** Reads every file a profile names (relative paths against `baseDir`). */
export function readProfileFiles(profile: Profile, baseDir: string): ProfileFiles {
  const components: Record<string, ComponentFacts> = {};
  const missing: BootProblem[] = [];
  const absent = new Set<string>();
  for (const copy of componentCopies(profile)) {
    const file = resolveComponent(baseDir, copy.source);
    try {
      components[copy.source] = readComponentFacts(file);
    } catch (error) {
      const named = copy.source === file ? file : `${copy.source} (${file})`;
      const gone = systemCodeOf(error) === 'ENOENT';
      if (gone) absent.add(copy.field);
      missing.push({ path: copy.field, severity: 'error', message: gone ? `There is no file at ${named}.` : notReadable(named, error) });
    }
  }
  return { components, missing, absent };
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
    for (let read; (read = readSync(fd, buffer, 0, buffer.length, null)) > 0;) hash.update(buffer.subarray(0, read));
  } finally {
    closeSync(fd);
  }
  const sha256 = hash.digest('hex');
  hashCache.set(file, { size: stats.size, mtimeMs: stats.mtimeMs, sha256 });
  return sha256;
}

/** Files whose bytes no longer match what fetch-parts recorded (a damaged copy, or a file replaced by hand). */
export function provenanceProblems(profile: Profile, baseDir: string, files: Pick<ProfileFiles, 'components'>): BootProblem[] {
  const problems: BootProblem[] = [];
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

/**
 * Reads the files a parsed profile names, checks everything (cross-field rules, missing files, types, memory fit,
 * provenance) and generates its boot files once. Problems come back in the bundle; nothing throws for a bad profile.
 */
export function prepareBoot(profile: Profile, baseDir: string, env: NodeJS.ProcessEnv = process.env): PreparedBoot {
  const files = readProfileFiles(profile, baseDir);
  const named = componentCopies(profile).map((copy) => ({
    ...copy,
    ...(files.components[copy.source] && { size: files.components[copy.source]!.size }),
  }));
  // what the files are is checked too (a kernel given as Xen, the two swapped) before anything is generated from them
  const rules = [...profileRuleProblems(profile), ...componentIdentityProblems(profile, files.components)];
  // generation needs every file but u-boot.bin (the scripts only name it): without one, its own error says enough
  const generates = !hasErrors(rules) && files.missing.every((problem) => problem.path === '$.ubootBinary');
  const bundle = generates ? bundleBoot(profile, files.components, { timestamp: scriptTimestamp(env.SOURCE_DATE_EPOCH) }) : emptyBundle([]);
  const checked = [...files.missing, ...rules];
  const problems = [...checked, ...bundle.problems, ...provenanceProblems(profile, baseDir, files)];
  return { ...bundle, problems, profile, baseDir, named };
}

/** The warnings of a bundle and what ImageBuilder said while generating, each once, as the user reads them. */
export function warningsOf(bundle: Pick<BootBundle, 'problems' | 'notices'>): string[] {
  return [...bundle.problems.filter((p) => p.severity === 'warning').map((p) => p.message), ...bundle.notices];
}

/** The bundle when the profile can boot; throws INVALID_PROFILE listing every error by JSON path when it cannot. */
export function readyBoot(
  prepared: PreparedBoot,
  hint = 'Fix the profile (in the app, or check it with `xen-pi-imager profile check FILE`).',
): PreparedBoot {
  const errors = prepared.problems.filter((p) => p.severity === 'error');
  if (errors.length === 0) return prepared;
  throw new ImagerError({
    code: 'INVALID_PROFILE',
    subject: prepared.profile.name,
    message: errors.map((problem) => `${problem.path}: ${problem.message}`).join('; '),
    hint,
    details: { problems: errors },
  });
}

/** Everything a bundle puts on a card's boot partition: generated bytes, component files from disk, config.txt rules to merge. */
export function bootPartitionEdit(prepared: PreparedBoot): BootEdit {
  const files: BootFileInput[] = [
    // config.txt is merged into the card's own, not replaced.
    ...prepared.bootPartition.generated.filter((f) => f.name !== 'config.txt').map((f) => ({ name: f.name, bytes: f.bytes })),
    ...prepared.bootPartition.components.map((c) => ({ name: c.target, path: componentPath(prepared, c) })),
  ];
  // on a base image the Pi's own firmware starts U-Boot (a fresh card gets the profile's firmware instead)
  const requiredFiles = boards[prepared.profile.board].usesConfigTxt ? PI4_FIRMWARE_FILES : undefined;
  return { ...(prepared.configTxt && { configTxt: prepared.configTxt }), files, ...(requiredFiles && { requiredFiles }) };
}
