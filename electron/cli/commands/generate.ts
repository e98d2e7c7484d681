// `xen-pi-imager generate`: every boot file of a profile, laid out as the card's boot partition and the TFTP root, with the memory map.
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { BootBundle } from '../../../shared/boot/bundle';
import { hexAddress } from '../../../shared/boot/address';
import { ImagerError } from '../../../shared/errors';
import { validateProfile } from '../../../shared/profile';
import { UsageError, type CliCommand, type CliIO } from '../command';
import { prepareBoot, writeBootFiles } from '../../services/boot-files';
import { readProfileText } from '../../services/profiles';
import { checkUserOutputFolder } from '../../node/user-files';

const OUT_FOLDER = { what: 'output folder', hint: 'Give --out a folder (it is created when missing) in a place you can write to.' };

const usage = `Usage: xen-pi-imager generate --profile FILE --out DIR

Writes every file the profile's boot chain needs:
  DIR/boot/   the card's FAT boot partition: boot.scr (stage 1), boot.source, config.txt
              (the lines to merge; Raspberry Pi only) and u-boot.bin when the profile names it
  DIR/tftp/   the TFTP server's root: boot2.scr (stage 2), boot2.source, Xen, Dom0, DomUs,
              device tree and overlays, under the names the scripts load them by
In SD-only mode everything goes to DIR/boot/. Then prints the memory map.
Script timestamps come from SOURCE_DATE_EPOCH when set (reproducible output).

Options:
  --profile FILE  The profile (JSON); its file paths are relative to its folder
  --out DIR       The output folder (created when missing)`;

export function memoryMapTable(bundle: Pick<BootBundle, 'stage2Address' | 'memoryMap'>): string {
  const stage2 = bundle.stage2Address ?? 0;
  const rows = [
    ['stage2-script', hexAddress(stage2), hexAddress(stage2 + 0x200000), '(2 MiB slot)', ''],
    ...bundle.memoryMap.map((e) => [
      e.role,
      hexAddress(e.address),
      hexAddress(e.end),
      `${e.size}${e.span > e.size ? ` (+BSS to ${e.span})` : ''}`,
      e.file,
    ]),
  ];
  const header = ['what', 'address', 'end', 'bytes', 'file'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { profile: { type: 'string' }, out: { type: 'string' } },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length) throw new UsageError(`Unexpected argument "${positionals[0]}".`);
  if (!values.profile || !values.out) throw new UsageError('Both --profile FILE and --out DIR are required.');
  const profileFile = path.resolve(io.cwd, values.profile);
  const baseDir = path.dirname(profileFile);
  const text = readProfileText(profileFile);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ImagerError({
      code: 'INVALID_PROFILE',
      subject: values.profile,
      message: `${values.profile} is not valid JSON: ${(error as Error).message}.`,
      hint: 'Fix the JSON syntax, or give a profile file the app or `profile init` wrote.',
    });
  }
  const out = path.resolve(io.cwd, values.out);
  // before any work: a bad --out (a file, /dev/null, under a file) is said first; nothing is created yet
  checkUserOutputFolder(out, OUT_FOLDER);
  const shape = validateProfile(raw);
  const prepared = shape.profile && shape.ok ? prepareBoot(shape.profile, baseDir, io.env) : undefined;
  const problems = prepared?.problems ?? shape.problems;
  for (const problem of problems) io.stderr(`${problem.severity}: ${problem.path}: ${problem.message}\n`);
  if (!prepared || problems.some((p) => p.severity === 'error')) {
    throw new ImagerError({
      code: 'INVALID_PROFILE',
      subject: values.profile,
      message: 'The profile has errors, so no files were written.',
      hint: 'Fix the problems listed above (`xen-pi-imager profile check FILE` shows them too).',
    });
  }
  const written = writeBootFiles(prepared, out, baseDir, OUT_FOLDER);
  for (const notice of prepared.notices) io.stderr(`warning: ${notice}\n`);
  io.stdout(
    `Wrote ${written.length} files to ${values.out}:\n${written.map((w) => `  ${w}`).join('\n')}\n\nMemory map:\n${memoryMapTable(prepared)}`,
  );
  return 0;
}

export const generateCommand: CliCommand = {
  name: 'generate',
  summary: "Write a profile's boot files (boot partition + TFTP root)",
  usage,
  run,
};
