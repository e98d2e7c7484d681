// `xen-pi-imager flash`: compose the card image from a profile and write it to cards and/or image files, verified.
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { replacedFilesSentence, type FlashProgress, type FlashTarget } from '../../../shared/drives/flash';
import { assertDriveWritable, type WriteConfirmations } from '../../../shared/drives/safety';
import { driveShortName, formatDriveSize, type DriveInfo } from '../../../shared/drives/types';
import { ImagerError } from '../../../shared/errors';
import { formatError } from '../../../shared/messages';
import { checkImageFileTarget, describeBlockDevice, runEditInPlace, runFlash, WriterClient } from '../../services/drives';
import { bootPartitionEdit, prepareBoot, readyBoot } from '../../services/boot-files';
import { loadProfileFile } from '../../services/profiles';
import { bootFilesFromFolder, type BootEdit } from '../../node/fat/boot-edit';
import { dataPaths, userDataDir } from '../../node/paths';
import { checkUserFolder, kindOf } from '../../node/user-files';
import { UsageError, type CliCommand, type CliIO } from '../command';

const usage = `Usage: xen-pi-imager flash --profile FILE --target DEVICE|FILE.img [--target ...] [OPTIONS]

Composes the card image and writes it: takes the base image (Raspberry Pi OS or any
.img/.img.xz/.img.gz/.zip, or an http(s) URL), merges config.txt, adds U-Boot, the boot
scripts and (SD-only mode) every component to its FAT boot partition, then writes it to
each target and reads it back to verify. Without a base image (the profile names none and
no --base is given) it builds a fresh card: an MBR and one FAT32 partition holding the
profile's firmware, config.txt (written whole), U-Boot, the scripts and, SD-only, every
component. The profile's relative paths are next to the profile file. A target ending in .img is an image file (.img.xz
is compressed with xz); anything else is a drive (see \`xen-pi-imager drives\`).

Options:
  --profile FILE            The profile (JSON) that says what goes on the card
  --boot-files DIR          Instead of (or on top of) the profile's files: copy DIR's files
  --target DEVICE|FILE      Where to write (repeat for several cards at once)
  --base IMAGE|URL          Base image (default: the profile's baseImage; none: a fresh card)
  --sha256 HEX              Expected SHA-256 of the base image as given
  --yes                     Confirm erasing the target drives (and drives over 128 GB), and replacing image files that exist
  --yes-system-drive NAME   Also allow writing the system drive NAME (e.g. sda)
  --no-verify               Skip reading the cards back
  --full                    Write every byte of the image, not only what file systems use
  --edit-in-place           Only update the boot partition of a card that already has the OS
  --eject                   Eject the cards after a successful write
  --json                    Print progress and the result as JSON lines
  -h, --help                Show this help`;

function targetsFrom(values: string[]): { drives: FlashTarget[]; files: FlashTarget[]; saveAs: string[] } {
  const drives: FlashTarget[] = [];
  const files: FlashTarget[] = [];
  const saveAs: string[] = [];
  for (const value of values) {
    const stat = fs.statSync(value, { throwIfNoEntry: false });
    if (stat && !stat.isBlockDevice() && !stat.isFile()) {
      // said before anything is composed: /dev/null, a folder or a FIFO can be neither a card nor an image file
      throw new ImagerError({
        code: 'NOT_A_TARGET',
        subject: value,
        message: `${value} is ${kindOf(stat)}, neither a drive nor an image file.`,
        hint: 'Give a drive (see `xen-pi-imager drives`) or a new .img file name as --target.',
      });
    }
    if (stat?.isBlockDevice() || (!stat && value.startsWith('/dev/'))) {
      const drive = describeBlockDevice(value);
      drives.push({ kind: 'drive', device: value, ...(drive && { drive }) });
    } else if (/\.xz$/i.test(value)) saveAs.push(value);
    else files.push({ kind: 'file', path: value });
  }
  return { drives, files, saveAs };
}

function progressLine(p: FlashProgress): string {
  const mb = (n: number) => `${(n / 1e6).toFixed(0)} MB`;
  const speed = p.speed > 0 ? `, ${(p.speed / 1e6).toFixed(1)} MB/s` : '';
  const eta = p.eta !== null && p.eta > 0 ? `, ${Math.ceil(p.eta)} s left` : '';
  return `${p.phase.padEnd(13)} ${p.percent.toFixed(0).padStart(3)}%  ${mb(p.bytes)}${p.totalBytes ? ` of ${mb(p.totalBytes)}` : ''}${speed}${eta}`;
}

function bootEdit(
  values: { profile?: string | undefined; 'boot-files'?: string | undefined },
  io: CliIO,
): { edit: BootEdit; base?: string } {
  let edit: BootEdit = { files: [] };
  let base: string | undefined;
  if (values.profile) {
    const file = path.resolve(io.cwd, values.profile);
    const profile = loadProfileFile(file);
    // on the command line a profile's relative paths are next to the profile file, as for generate and try
    edit = bootPartitionEdit(readyBoot(prepareBoot(profile, path.dirname(file), io.env)));
    base = profile.baseImage;
  }
  if (values['boot-files']) {
    const folder = path.resolve(io.cwd, values['boot-files']);
    checkUserFolder(folder, { what: 'boot files folder', hint: 'Give --boot-files the folder whose files go on the boot partition.' });
    const extra = bootFilesFromFolder(folder);
    const names = new Set(extra.map((f) => f.name));
    edit = { ...edit, files: [...edit.files.filter((f) => !names.has(f.name)), ...extra] };
    if (!values.profile) edit.configTxt = { consoleUart: 'mini', kernel: 'u-boot.bin' };
  }
  return { edit, ...(base && { base }) };
}

/**
 * The drive targets as the OS lists them (drivelist, through an unprivileged writer, knows system drives on LVM
 * or RAID that mount points alone do not show), merged with what sysfs said; sysfs alone when listing fails.
 */
async function describedByTheOs(targets: FlashTarget[]): Promise<DriveInfo[]> {
  const described = targets.flatMap((t) => (t.kind === 'drive' && t.drive ? [t.drive] : []));
  if (described.length === 0) return [];
  let listed: DriveInfo[] = [];
  try {
    const writer = await WriterClient.start();
    try {
      listed = await writer.scan();
    } finally {
      await writer.close();
    }
  } catch {
    // the writer's own check still runs before anything is written
  }
  return described.map((drive) => {
    const os = listed.find((d) => d.device === drive.device || d.raw === drive.device);
    return os ? { ...drive, isSystem: drive.isSystem || os.isSystem, isReadOnly: drive.isReadOnly || os.isReadOnly } : drive;
  });
}

function confirmationsOf(values: { yes: boolean; 'yes-system-drive'?: string | undefined }): WriteConfirmations & { largeDrive: boolean } {
  return { ...(values['yes-system-drive'] && { systemDriveName: values['yes-system-drive'] }), largeDrive: values.yes };
}

export const flashCommand: CliCommand = {
  name: 'flash',
  summary: 'Compose the card image from a profile and write it to cards or image files',
  usage,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: {
        profile: { type: 'string' },
        'boot-files': { type: 'string' },
        target: { type: 'string', multiple: true },
        base: { type: 'string' },
        sha256: { type: 'string' },
        yes: { type: 'boolean', default: false },
        'yes-system-drive': { type: 'string' },
        'no-verify': { type: 'boolean', default: false },
        full: { type: 'boolean', default: false },
        'edit-in-place': { type: 'boolean', default: false },
        eject: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
      strict: true,
    });
    if (!values.profile && !values['boot-files']) throw new UsageError('Give --profile FILE (or --boot-files DIR).');
    if (!values.target?.length)
      throw new UsageError('Give at least one --target (a drive such as /dev/sdb, or an image file such as card.img).');
    if (values.sha256 && !/^[0-9a-fA-F]{64}$/.test(values.sha256)) throw new UsageError('--sha256 must be 64 hexadecimal digits.');
    const paths = dataPaths(userDataDir(io.env));
    const { edit, base: profileBase } = bootEdit(values, io);
    const { drives, files, saveAs } = targetsFrom(values.target.map((t) => (t.startsWith('/dev/') ? t : path.resolve(io.cwd, t))));
    if (saveAs.length > 1) throw new UsageError('Give at most one .img.xz target.');
    // The system drive is named as such before anything else, --yes or not (the writer checks again before it opens one).
    for (const drive of await describedByTheOs(drives)) assertDriveWritable(drive, {}, { ...confirmationsOf(values), largeDrive: true });
    if (drives.length > 0 && !values.yes) {
      const names = drives.map((d) => (d.kind === 'drive' ? `${d.device} (${formatDriveSize(d.drive?.size ?? null)})` : '')).join(', ');
      throw new ImagerError({
        code: 'CONFIRMATION_NEEDED',
        subject: names,
        message: `This erases everything on ${names}.`,
        hint: 'Check the drive names with `xen-pi-imager drives`, then add --yes to go ahead.',
      });
    }
    // image files: the folder must exist, and an existing file is replaced only with --yes (edit in place edits it instead)
    if (!values['edit-in-place']) {
      for (const file of [...files, ...saveAs.map((name) => ({ kind: 'file' as const, path: name }))]) {
        if (file.kind !== 'file') continue;
        try {
          checkImageFileTarget(file.path, values.yes);
        } catch (error) {
          if (error instanceof ImagerError && error.code === 'EXISTS')
            throw new ImagerError({ ...error.toJSON(), hint: 'Add --yes to replace it, or give another file name.' });
          throw error;
        }
      }
    }
    const confirmations = confirmationsOf(values);
    const report = (p: FlashProgress) => {
      if (values.json) io.stdout(JSON.stringify({ type: 'progress', ...p }) + '\n');
      else if (io.isTTY) io.stdout(`\r${progressLine(p)}\x1b[K`);
    };

    if (values['edit-in-place']) return editInPlace([...drives, ...files], edit, confirmations, values.json, io);

    // no base image: a fresh card built from the boot files alone
    const source = values.base ?? profileBase;
    if (!source && values.sha256)
      throw new UsageError('--sha256 checks a base image: give --base IMAGE too (the profile names none, so a fresh card is built).');
    const controller = new AbortController();
    io.signal.addEventListener('abort', () => controller.abort(), { once: true });
    const result = await runFlash({
      jobId: randomUUID(),
      ...(source && {
        source: /^https?:/i.test(source)
          ? source
          : path.resolve(values.base || !values.profile ? io.cwd : path.dirname(path.resolve(io.cwd, values.profile)), source),
      }),
      ...(values.sha256 && { sha256: values.sha256 }),
      targets: [...drives, ...files],
      edit,
      verify: !values['no-verify'],
      eject: values.eject,
      mode: values.full ? 'full' : 'used',
      confirmations,
      ...(saveAs[0] && { saveAs: saveAs[0] }),
      cacheDir: paths.cache,
      signal: controller.signal,
      onProgress: report,
    });
    if (io.isTTY && !values.json) io.stdout('\n');
    const failed = result.flash?.targets.filter((t) => !t.ok) ?? [];
    if (values.json) {
      io.stdout(JSON.stringify({ type: 'result', ok: failed.length === 0, ...result }) + '\n');
    } else {
      if (result.composed.freshCardMiB) {
        io.stdout(
          `Fresh card: MBR and a ${result.composed.freshCardMiB} MiB FAT32 image (no base image), SHA-256 ${result.composed.sourceSha256}\n`,
        );
        if (!result.composed.written.includes('start4.elf')) {
          io.stdout(
            'Warning: the card has no start4.elf and fixup4.dat, so a real Pi 4 will not start from it: name the firmware in the profile (xen-pi-imager fetch-parts --board rpi4 does), or use --base with a Raspberry Pi OS image.\n',
          );
        }
      } else io.stdout(`Base image SHA-256: ${result.composed.sourceSha256}${result.composed.sha256Checked ? ' (matches)' : ''}\n`);
      if (result.composed.configTxtDiff) io.stdout(`config.txt changes:\n${result.composed.configTxtDiff}\n`);
      io.stdout(`Boot partition: ${result.composed.written.join(', ') || 'unchanged'}\n`);
      if (result.composed.replaced.length > 0) io.stdout(`${replacedFilesSentence(result.composed.replaced)}\n`);
      if (result.savedAs) io.stdout(`Saved ${result.savedAs}${result.savedVerified ? ', read back and verified' : ''}\n`);
      for (const target of result.flash?.targets ?? []) {
        io.stdout(
          target.ok
            ? `${target.target}: written${target.verified ? ' and verified' : ''}\n`
            : `${target.target}: FAILED: ${formatError(target.error!)}\n`,
        );
      }
    }
    return failed.length === 0 ? 0 : 1;
  },
};

async function editInPlace(
  targets: FlashTarget[],
  edit: BootEdit,
  confirmations: { systemDriveName?: string; largeDrive: boolean },
  json: boolean,
  io: CliIO,
): Promise<number> {
  const edited = await runEditInPlace({ jobId: 'cli', targets, edit, confirmations, signal: io.signal });
  for (const result of edited) {
    const target = targets.find((t) => (t.kind === 'drive' ? t.device : t.path) === result.target);
    const name = target?.kind === 'drive' && target.drive ? driveShortName(target.drive) : result.target;
    if (json) io.stdout(JSON.stringify({ type: 'result', ...result }) + '\n');
    else if (result.ok)
      io.stdout(
        `${name}: boot partition updated (${result.written.join(', ') || 'nothing to change'}), read back and compared\n${result.configTxtDiff ?? ''}`,
      );
    else io.stderr(`${result.target}: ${formatError(result.error!)}\n`);
  }
  return edited.every((result) => result.ok) ? 0 : 1;
}
