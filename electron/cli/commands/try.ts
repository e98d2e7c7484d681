// `xen-pi-imager try`: boots a profile on QEMU's virt board and says where the boot got to; exit 0 only when Dom0 userspace ran.
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { EmulatorOptions, EmulatorResult } from '../../../shared/api/emulator';
import type { EmitImagerEvent } from '../../../shared/api';
import { createEmulatorService } from '../../services/emulator';
import { UsageError, type CliCommand, type CliIO } from '../command';

const usage = `Usage: xen-pi-imager try --profile FILE [--debian-parts [--kernel gzip|image]] [--timeout S] [--console] [--json]

Boots the profile's chain on QEMU's arm64 virt board before you touch hardware: U-Boot runs
stage 1 from an emulated SD card, stage 2 and every file come from the built-in TFTP server on
port 69, then Xen, then Dom0. The profile is retargeted to the emulator (addresses, console
/pl011@9000000, QEMU's own device tree, TFTP server 255.255.255.255, Dom0 panic=-1).
Prints each milestone with its time and, on failure, where and why the boot stopped.
Exit status 0 only when Dom0 userspace was reached.

Needs qemu-system-arm and u-boot-qemu, and UDP port 69 (root, or run it inside
\`unshare -rn sh -c 'ip link set lo up && xen-pi-imager try ...'\`).

Options:
  --profile FILE    The profile (JSON); its file paths are relative to its folder
  --debian-parts    Boot Debian's arm64 Xen, kernel and a test initramfs (downloaded once,
                    cached) instead of the profile's own files; see fetch-parts
  --xen VER         With --debian-parts: the Xen version (default: the profile's)
  --kernel gzip|image
                    With --debian-parts: Debian's Dom0 kernel gzip'd (the default: Xen
                    decompresses it, a third of the bytes over TFTP) or the plain Image
  --external-tftp   Start no TFTP server: one is already serving the files on port 69
  --timeout S       Give up after S seconds (default 120)
  --console         Also print the serial console as it comes
  --json            Print the result as one JSON object`;

function parseTimeout(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const seconds = Number(text);
  if (!/^\d+$/.test(text) || seconds < 5 || seconds > 3600)
    throw new UsageError(`--timeout must be a whole number of seconds from 5 to 3600, not "${text}".`);
  return seconds;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1).padStart(5)} s`;
}

function report(result: EmulatorResult, io: CliIO): void {
  if (result.ok) {
    io.stdout(`PASS: ${result.summary}\n`);
    if (result.xenVersionLine) io.stdout(`  ${result.xenVersionLine}\n`);
  } else {
    const diagnosis = result.diagnosis!;
    io.stdout(`FAIL: ${diagnosis.message}\n`);
    if (diagnosis.line) io.stdout(`  console: ${diagnosis.line}\n`);
    io.stdout(`  ${diagnosis.hint}\n`);
  }
  // as prominent as the verdict: what ran it, what the trial changed, and which of the user's files it did not boot
  if (result.machine)
    io.stdout(
      `Ran on: QEMU ${result.machine === 'raspi4b' ? 'raspi4b, the emulated Raspberry Pi 4' : 'virt, with the profile retargeted'}\n`,
    );
  if (result.changes.length > 0) io.stdout(`Changed for the emulator:\n${result.changes.map((change) => `  - ${change}\n`).join('')}`);
  const substituted = result.substituted ?? [];
  io.stdout(
    substituted.length > 0
      ? `Not booted from your files:\n${substituted.map((what) => `  - ${what}\n`).join('')}`
      : 'Every file it booted is the profile’s own.\n',
  );
  if (result.consoleLogPath) io.stdout(`Console log: ${result.consoleLogPath}\n`);
}

export const tryCommand: CliCommand = {
  name: 'try',
  summary: 'Boot a profile in QEMU (U-Boot, TFTP, Xen, Dom0) and report how far it got',
  usage,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        profile: { type: 'string' },
        'debian-parts': { type: 'boolean', default: false },
        xen: { type: 'string' },
        kernel: { type: 'string' },
        'external-tftp': { type: 'boolean', default: false },
        timeout: { type: 'string' },
        console: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length) throw new UsageError(`Unexpected argument "${positionals[0]}".`);
    if (!values.profile) throw new UsageError('--profile FILE is required.');
    if (values.xen && !/^\d+\.\d+$/.test(values.xen)) throw new UsageError(`--xen must be a version like 4.17, not "${values.xen}".`);
    if (values.kernel !== undefined && values.kernel !== 'gzip' && values.kernel !== 'image')
      throw new UsageError(`--kernel must be gzip or image, not "${values.kernel}".`);
    const timeoutSeconds = parseTimeout(values.timeout);
    const options: EmulatorOptions = {
      ...(values.kernel && { kernel: values.kernel }),
      components: values['debian-parts'] ? 'debian' : 'profile',
      tftp: values['external-tftp'] ? 'external' : 'start',
      ...(timeoutSeconds && { timeoutSeconds }),
      ...(values.xen && { xenVersion: values.xen }),
    };
    const human = !values.json;
    const emit: EmitImagerEvent = (name, payload) => {
      if (!human) return;
      if (name === 'emulator:progress') io.stdout(`${(payload as { message: string }).message}\n`);
      if (name === 'emulator:milestone') {
        const { milestone } = payload as { milestone: { timeMs: number; label: string } };
        io.stdout(`${values.console ? '\n' : ''}==> ${seconds(milestone.timeMs)}  ${milestone.label}\n`);
      }
      if (name === 'emulator:console' && values.console) io.stdout((payload as { text: string }).text.replace(/\r/g, ''));
    };
    const service = createEmulatorService({ transport: 'browser', emit, openExternal: async () => {} }, { env: io.env });
    const cancel = () => void service.emulatorCancel();
    io.signal.addEventListener('abort', cancel, { once: true });
    try {
      const result = await service.emulatorTry(path.resolve(io.cwd, values.profile), options);
      if (human) report(result, io);
      else io.stdout(JSON.stringify(result, null, 2) + '\n');
      return result.ok ? 0 : 1;
    } finally {
      io.signal.removeEventListener('abort', cancel);
      await service.dispose?.();
    }
  },
};
