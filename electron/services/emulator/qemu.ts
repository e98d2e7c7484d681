// Finds QEMU and its U-Boot, dumps the virt board's device tree from the boot's own machine line, and starts QEMU.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { promisify } from 'node:util';
import { ImagerError } from '../../../shared/errors';
import { trimDeviceTree, withCpuEnableMethod } from '../../../shared/emulator/device-tree';
import { QEMU_BINARY, qemuBootArgs, qemuDumpDtbArgs } from '../../../shared/emulator/machine';
import { findExecutable, QEMU_UBOOT_CANDIDATES } from '../../node/host-tools';

const execFileAsync = promisify(execFile);

export interface QemuTools {
  qemu: string;
  /** QEMU's U-Boot (Debian's u-boot-qemu), used as the machine's firmware. */
  bios: string;
}

/** The QEMU binary and U-Boot, or an error naming the packages to install. */
export function findQemuTools(env: NodeJS.ProcessEnv = process.env): QemuTools {
  const qemu = env.XEN_PI_IMAGER_QEMU ?? findExecutable(QEMU_BINARY, env.PATH ?? '');
  const bios = env.XEN_PI_IMAGER_QEMU_UBOOT ?? QEMU_UBOOT_CANDIDATES.find((file) => fs.existsSync(file));
  const haveQemu = Boolean(qemu && fs.existsSync(qemu));
  const haveBios = Boolean(bios && fs.existsSync(bios));
  if (haveQemu && haveBios) return { qemu: qemu!, bios: bios! };
  const missing = [!haveQemu && 'qemu-system-arm', !haveBios && 'u-boot-qemu'].filter(Boolean) as string[];
  throw new ImagerError({
    code: 'NOT_AVAILABLE',
    subject: haveQemu ? 'u-boot-qemu' : QEMU_BINARY,
    message: `${haveQemu ? 'QEMU’s U-Boot' : haveBios ? 'QEMU for arm64' : 'QEMU for arm64 and its U-Boot'} ${missing.length > 1 ? 'are' : 'is'} not installed, so the boot cannot be tried in the emulator.`,
    hint: `Install the ${missing.join(' and ')} package${missing.length > 1 ? 's' : ''} (Debian/Ubuntu: sudo apt-get install ${missing.join(' ')}).`,
  });
}

/** QEMU's virt device tree for the exact machine line of the boot, trimmed of its free space. */
export async function dumpVirtDeviceTree(tools: QemuTools, outFile: string, signal?: AbortSignal, cpus?: number): Promise<Uint8Array> {
  const raw = `${outFile}.raw`;
  try {
    await execFileAsync(tools.qemu, qemuDumpDtbArgs({ bios: tools.bios, dtbPath: raw, ...(cpus && { cpus }) }), {
      signal,
      timeout: 30_000,
    });
    const trimmed = withCpuEnableMethod(trimDeviceTree(new Uint8Array(await fsp.readFile(raw))));
    await fsp.writeFile(outFile, trimmed);
    return trimmed;
  } catch (error) {
    if (error instanceof ImagerError) throw error;
    throw new ImagerError({
      code: 'EMULATOR_FAILED',
      subject: QEMU_BINARY,
      message: `QEMU could not dump the virt board's device tree: ${String((error as { stderr?: unknown }).stderr ?? (error as Error).message).trim()}`,
      hint: 'Check that qemu-system-arm is installed completely (qemu-system-aarch64 --version).',
    });
  } finally {
    await fsp.rm(raw, { force: true });
  }
}

/** Starts the boot; the console comes on stdout (QEMU runs its user network in-process: one process to stop). */
export function startQemu(tools: QemuTools, sdImage: string, workDir: string, cpus?: number): ChildProcess {
  return spawn(tools.qemu, qemuBootArgs({ bios: tools.bios, sdImage, ...(cpus && { cpus }) }), {
    cwd: workDir,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, LC_ALL: 'C' },
  });
}

/** Ends QEMU: SIGTERM, then SIGKILL if it has not gone after `graceMs`. Resolves once it has exited. */
export async function stopQemu(child: ChildProcess, graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export function qemuCommandLine(tools: QemuTools, sdImage: string, cpus?: number): string {
  return [tools.qemu, ...qemuBootArgs({ bios: tools.bios, sdImage, ...(cpus && { cpus }) })]
    .map((arg) => (/\s/.test(arg) ? `'${arg}'` : arg))
    .join(' ');
}
