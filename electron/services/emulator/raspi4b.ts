// QEMU's raspi4b machine for Pi 4 trials: finds it, gives the card a device tree QEMU can boot, and builds the machine line.
import { spawn } from 'node:child_process';
import fsp from 'node:fs/promises';
import { parseFdt } from '../../../shared/emulator/fdt';
import { parseFlatView } from '../../../shared/emulator/mtree';
import { disableUnmodelled } from '../../../shared/emulator/raspi4b-tree';
import { ImagerError } from '../../../shared/errors';

export const RASPI4B_MACHINE = 'raspi4b';
/** The address space of CPU 0 in `info mtree -f`: what a driver on the guest reaches. */
const CPU_ADDRESS_SPACE = 'cpu-memory-0';
/** Both queries return in well under a second; this only catches a QEMU that hangs. */
export const QUERY_TIMEOUT_MS = 30_000;
const RASPI4B_HINT = 'The Pi 4 trial needs QEMU 9 or newer with the raspi4b machine (check with qemu-system-aarch64 -machine help).';

export interface QemuVersion {
  major: number;
  minor: number;
  micro: number;
  /** QEMU's own first line, e.g. "QEMU emulator version 10.0.2 (Debian 1:10.0.2+ds-2…)". */
  text: string;
}

export interface Raspi4bTreeRequest {
  qemu: string;
  uboot: string;
  /** The profile's tree (upstream bcm2711-rpi-4-b.dtb); QEMU adapts it to the machine it emulates. */
  deviceTree: string;
  outFile: string;
  signal?: AbortSignal;
  /** For each of the two QEMU runs; QUERY_TIMEOUT_MS unless given. */
  timeoutMs?: number;
}

/** QEMU reads commas in option values as separators; a literal comma is written twice. */
function optionValue(value: string): string {
  return value.replaceAll(',', ',,');
}

/**
 * The trial boot. U-Boot stands in for the firmware (-kernel) and takes QEMU's tree (-dtb). The
 * first serial port, the PL011, only shows U-Boot's early banner; the second, the mini UART, is
 * the console of U-Boot, Xen and Dom0 and goes to stdio.
 */
export function raspi4bBootArgs(options: { uboot: string; dtb: string; sdImage: string; serial?: 'stdio' | 'pty' }): string[] {
  return [
    '-M',
    RASPI4B_MACHINE,
    '-display',
    'none',
    '-monitor',
    'none',
    '-no-reboot',
    '-serial',
    'null',
    '-serial',
    options.serial ?? 'stdio',
    '-kernel',
    options.uboot,
    '-dtb',
    options.dtb,
    '-drive',
    `if=sd,file=${optionValue(options.sdImage)},format=raw`,
  ];
}

/** The boot's machine, firmware and tree, with QEMU writing the tree it would pass to U-Boot and exiting. */
function dumpDtbArgs(options: { uboot: string; deviceTree: string; rawFile: string }): string[] {
  return [
    '-M',
    `${RASPI4B_MACHINE},dumpdtb=${optionValue(options.rawFile)}`,
    '-display',
    'none',
    '-monitor',
    'none',
    '-serial',
    'null',
    '-serial',
    'null',
    '-kernel',
    options.uboot,
    '-dtb',
    options.deviceTree,
  ];
}

/** The same machine held before its first instruction (-S), its monitor on stdin/stdout. */
function memoryMapArgs(options: { uboot: string; deviceTree: string }): string[] {
  return [
    '-M',
    RASPI4B_MACHINE,
    '-display',
    'none',
    '-serial',
    'null',
    '-serial',
    'null',
    '-monitor',
    'stdio',
    '-S',
    '-kernel',
    options.uboot,
    '-dtb',
    options.deviceTree,
  ];
}

interface QemuOutput {
  stdout: string;
  stderr: string;
}

/** QEMU's complaints, without the warnings about UI/audio modules of another build that an unpacked QEMU prints. */
function qemuComplaint(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !/module/i.test(line));
  return lines.slice(-4).join(' ');
}

/** Runs QEMU to completion; rejects with an ImagerError on failure, timeout or abort, always after QEMU has exited. */
function runQemu(
  qemu: string,
  args: string[],
  task: string,
  options: { input?: string; signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<QemuOutput> {
  const { signal, timeoutMs = QUERY_TIMEOUT_MS } = options;
  if (signal?.aborted) return Promise.reject(cancelled(task));
  return new Promise((resolve, reject) => {
    const child = spawn(qemu, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    let stdout = '';
    let stderr = '';
    let failure: ImagerError | undefined;
    const stop = (reason: ImagerError) => {
      failure ??= reason;
      child.kill('SIGKILL');
    };
    const onAbort = () => stop(cancelled(task));
    const timer = setTimeout(
      () =>
        stop(
          new ImagerError({
            code: 'EMULATOR_FAILED',
            subject: qemu,
            message: `QEMU did not ${task} within ${timeoutMs / 1000} s and was stopped.`,
            hint: RASPI4B_HINT,
          }),
        ),
      timeoutMs,
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdin.on('error', () => {}); // QEMU may exit before reading its input; its exit status tells why
    child.stdin.end(options.input ?? '');
    let settled = false;
    const finish = (error: ImagerError | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve({ stdout, stderr });
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (child.pid !== undefined) return; // a stream error after start; 'close' still follows
      finish(
        new ImagerError({
          code: 'NOT_AVAILABLE',
          subject: qemu,
          message: `QEMU could not be started (${error.code ?? error.message}).`,
          hint: 'Install QEMU 9 or newer (Debian/Ubuntu: the qemu-system-arm package), or point the app at its qemu-system-aarch64.',
        }),
      );
    });
    child.on('close', (code, signalName) => {
      if (failure) return finish(failure);
      if (code === 0) return finish(undefined);
      const complaint = qemuComplaint(stderr);
      const noMachine = /unsupported machine type/i.test(stderr);
      finish(
        new ImagerError({
          code: noMachine ? 'NOT_AVAILABLE' : 'EMULATOR_FAILED',
          subject: qemu,
          message: noMachine
            ? 'This QEMU has no raspi4b machine, so the boot cannot be tried on an emulated Pi 4.'
            : `QEMU could not ${task} (${code !== null ? `exit status ${code}` : `killed by ${signalName}`})${complaint ? `: ${complaint}` : '.'}`,
          hint: RASPI4B_HINT,
        }),
      );
    });
  });
}

function cancelled(task: string): ImagerError {
  return new ImagerError({
    code: 'CANCELLED',
    message: `Stopped before QEMU could ${task}: the request was cancelled.`,
    hint: 'Start it again when you are ready.',
  });
}

/** Whether this QEMU emulates the Pi 4 (QEMU ≥ 9). Rejects with NOT_AVAILABLE when the binary cannot be run at all. */
export async function hasRaspi4b(qemuPath: string, signal?: AbortSignal): Promise<boolean> {
  const { stdout } = await runQemu(qemuPath, ['-machine', 'help'], 'list its machines', signal ? { signal } : {});
  return new RegExp(`^${RASPI4B_MACHINE}\\s`, 'm').test(stdout);
}

/** QEMU's version from `--version`. */
export async function qemuVersion(qemuPath: string, signal?: AbortSignal): Promise<QemuVersion> {
  const { stdout } = await runQemu(qemuPath, ['--version'], 'report its version', signal ? { signal } : {});
  const text = stdout.split('\n')[0]?.trim() ?? '';
  const match = /version (\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  if (!match) {
    throw new ImagerError({
      code: 'EMULATOR_FAILED',
      subject: qemuPath,
      message: `This program does not report a QEMU version (it says "${text}").`,
      hint: RASPI4B_HINT,
    });
  }
  return { major: Number(match[1]), minor: Number(match[2]), micro: Number(match[3] ?? 0), text };
}

async function readInput(file: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await fsp.readFile(file));
  } catch (error) {
    throw new ImagerError({
      code: 'NOT_FOUND',
      subject: file,
      message: `The ${what} for the emulated Pi 4 cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}).`,
      hint: `Check the ${what} path in the profile.`,
    });
  }
}

/**
 * Writes to `outFile` the tree the card needs on QEMU's raspi4b: QEMU's own view of the profile's
 * tree (what it hands U-Boot: its memory node, its blocks removed) with every enabled node whose
 * registers QEMU does not map turned off, judged from the memory map of the same machine line.
 * Returns the full paths of the nodes it turned off.
 */
export async function raspi4bDeviceTree(request: Raspi4bTreeRequest): Promise<{ disabled: string[] }> {
  const { qemu, uboot, deviceTree, outFile, signal, timeoutMs } = request;
  await readInput(uboot, 'U-Boot (u-boot.bin)');
  parseFdt(await readInput(deviceTree, 'device tree'), deviceTree);
  const rawFile = `${outFile}.raw`;
  const inputs = { uboot, deviceTree };
  const limits = { ...(signal && { signal }), ...(timeoutMs !== undefined && { timeoutMs }) };
  try {
    await runQemu(qemu, dumpDtbArgs({ ...inputs, rawFile }), 'dump the raspi4b device tree', limits);
    const rawTree = await fsp.readFile(rawFile).then(
      (bytes) => new Uint8Array(bytes),
      () => {
        throw new ImagerError({
          code: 'EMULATOR_FAILED',
          subject: qemu,
          message: 'QEMU finished without writing the raspi4b device tree.',
          hint: RASPI4B_HINT,
        });
      },
    );
    const memoryMap = await runQemu(qemu, memoryMapArgs(inputs), 'show the raspi4b memory map', {
      ...limits,
      input: 'info mtree -f\nquit\n',
    });
    const { blob, disabled } = disableUnmodelled(rawTree, parseFlatView(memoryMap.stdout, CPU_ADDRESS_SPACE));
    await fsp.writeFile(outFile, blob);
    return { disabled };
  } finally {
    await fsp.rm(rawFile, { force: true });
  }
}
