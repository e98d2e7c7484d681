// `xen-pi-imager profile init|check`: write a board's default profile, or validate one and list every problem by JSON path.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { boardIds, type BoardId } from '../../../shared/boards';
import type { ComponentFacts } from '../../../shared/boot/generate';
import { ImagerError } from '../../../shared/errors';
import { defaultProfile, profileSchema, validateProfile, type ProfileProblem } from '../../../shared/profile';
import { provenanceProblems, readProfileFiles } from '../../services/boot-files';
import { readProfileText } from '../../services/profiles';
import { statIfAny, writeUserFile } from '../../node/user-files';
import { UsageError, type CliCommand, type CliIO } from '../command';

const usage = `Usage: xen-pi-imager profile init --board rpi4|qemu-virt --out FILE [--force]
       xen-pi-imager profile check FILE [--json]

init   Writes a complete default profile for the board (Debian file names; edit the paths).
check  Validates a profile (older schema versions are migrated first). File paths in it are
       relative to the profile's folder; files that exist are read, so their types, the
       Dom0 kernel version and whether everything fits in memory are checked too.
       Prints every problem with its JSON path; exit status 1 when any is an error.

Options:
  --board B   rpi4 or qemu-virt (init)
  --out FILE  Where to write the profile (init); refuses to overwrite without --force
  --json      Print the result as JSON (check)`;

function readJson(file: string): unknown {
  const text = readProfileText(file);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ImagerError({
      code: 'INVALID_PROFILE',
      subject: file,
      message: `${file} is not valid JSON: ${(error as Error).message}.`,
      hint: 'Fix the JSON syntax (a trailing comma, a missing quote), or give a profile file the app or `profile init` wrote.',
    });
  }
}

/**
 * Facts of every file the profile names that exists; a warning for each that does not (yet): a profile may come
 * before its files. A path that exists but is no file to read (a folder, a FIFO, a device) is an error.
 */
function readFilesAsWarnings(raw: unknown, baseDir: string): { components: Record<string, ComponentFacts>; missing: ProfileProblem[] } {
  const parsed = profileSchema.safeParse(raw);
  if (!parsed.success) return { components: {}, missing: [] };
  const { components, missing, absent } = readProfileFiles(parsed.data, baseDir);
  return {
    components,
    missing: missing.map((problem) =>
      absent.has(problem.path)
        ? { ...problem, severity: 'warning', message: `${problem.message} It is needed to generate the boot files.` }
        : problem,
    ),
  };
}

function init(argv: string[], io: CliIO): number {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { board: { type: 'string' }, out: { type: 'string' }, force: { type: 'boolean', default: false } },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length) throw new UsageError(`Unexpected argument "${positionals[0]}".`);
  if (!values.board || !boardIds.includes(values.board as BoardId)) throw new UsageError(`--board must be one of ${boardIds.join(', ')}.`);
  if (!values.out) throw new UsageError('--out FILE is required.');
  const out = path.resolve(io.cwd, values.out);
  // something that is not a file (/dev/null, a folder) is refused by writeUserFile, --force or not
  if (statIfAny(out)?.isFile() && !values.force) {
    throw new ImagerError({
      code: 'EXISTS',
      subject: out,
      message: `${out} exists already.`,
      hint: 'Pass --force to overwrite it, or choose another name.',
    });
  }
  writeUserFile(out, JSON.stringify(defaultProfile(values.board as BoardId), null, 2) + '\n', {
    what: 'profile',
    hint: 'Give --out a file name in a folder that exists and that you can write to.',
  });
  io.stdout(`Wrote a default ${values.board} profile to ${values.out}\n`);
  return 0;
}

function check(argv: string[], io: CliIO): number {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean', default: false } },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new UsageError('Give exactly one profile file.');
  const file = path.resolve(io.cwd, positionals[0]!);
  const raw = readJson(file);
  const first = validateProfile(raw);
  const { components, missing } = first.profile ? readFilesAsWarnings(first.profile, path.dirname(file)) : { components: {}, missing: [] };
  const result = first.profile && first.ok ? validateProfile(raw, components) : first;
  const provenance = first.profile ? provenanceProblems(first.profile, path.dirname(file), { components }) : [];
  const problems = [...result.problems, ...(first.ok ? missing : []), ...provenance];
  const ok = result.ok && !problems.some((p) => p.severity === 'error');
  if (values.json) {
    io.stdout(JSON.stringify({ ok, migratedFrom: result.migratedFrom ?? null, problems }, null, 2) + '\n');
  } else {
    if (result.migratedFrom !== undefined)
      io.stdout(`Migrated from schemaVersion ${result.migratedFrom} (the file itself is unchanged).\n`);
    for (const problem of problems) io.stdout(`${problem.severity}: ${problem.path}: ${problem.message}\n`);
    io.stdout(
      ok
        ? `${positionals[0]}: valid${problems.length ? ' (with warnings)' : ''}\n`
        : `${positionals[0]}: ${problems.filter((p) => p.severity === 'error').length} error(s)\n`,
    );
  }
  return ok ? 0 : 1;
}

export const profileCommand: CliCommand = {
  name: 'profile',
  summary: 'Create a default profile (init) or validate one (check)',
  usage,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    if (sub === 'init') return init(rest, io);
    if (sub === 'check') return check(rest, io);
    throw new UsageError(sub ? `Unknown subcommand "${sub}".` : 'Give a subcommand: init or check.');
  },
};
