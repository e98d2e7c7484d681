// One trial boot: device tree, boot files, SD image, TFTP server, QEMU; console and milestones streamed; everything cleaned up.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BootTimeline } from '../../../shared/console/timeline';
import { qemuTrialProfile, type TrialParts } from '../../../shared/emulator/trial-profile';
import type { TftpTransferEvent } from '../../../shared/api/tftp';
import { ImagerError } from '../../../shared/errors';
import { componentIdentityProblems, type ProfileProblem } from '../../../shared/profile/check';
import type { Profile } from '../../../shared/profile/schema';
import { cachedGzipKernel } from '../boot-files/gzip-kernel';
import { componentPath, prepareBoot, readProfileFiles, readyBoot, warningsOf, type PreparedBoot } from '../boot-files/prepare';
import { createFatDiskImage, type FatImageFile } from '../../node/fat';
import { createTftpServer, type TftpServer } from '../tftp/server';
import { fetchDebianParts, partsCacheRoot } from './debian-parts';
import { findRaspi4bQemu } from './qemu-raspi4b';
import { runRaspi4bTrial } from './run-raspi4b';
import { dumpVirtDeviceTree, findQemuTools, qemuCommandLine, startQemu } from './qemu';
import { DEFAULT_TIMEOUT_SECONDS, saveConsole, watchBoot, type TrialCallbacks, type TrialRequest, type TrialResult } from './watch';

export { DEFAULT_TIMEOUT_SECONDS, type TrialCallbacks, type TrialRequest, type TrialResult };

/** Where the trial's own TFTP server listens: QEMU's user network relays the board's 255.255.255.255:69 here. */
const TRIAL_TFTP_ADDRESS = '127.0.0.1';

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted)
    throw new ImagerError({
      code: 'CANCELLED',
      message: 'The trial boot was cancelled before QEMU started.',
      hint: 'Start it again when you are ready.',
    });
}

export interface VirtTrialFiles {
  /** What goes on the SD image's FAT partition: boot.scr (and in SD mode everything else). */
  card: FatImageFile[];
  /** Generated files the TFTP server serves from memory (boot2.scr). */
  tftpFiles: Map<string, Uint8Array>;
  /** Components the TFTP server streams from disk, by the name the scripts ask for. */
  tftpDiskFiles: Map<string, string>;
}

/** The virt trial's card and TFTP root, straight from the bundle's destinations (the card's components read into memory). */
export function virtTrialFiles(prepared: PreparedBoot): VirtTrialFiles {
  return {
    card: [
      ...prepared.bootPartition.generated.map((file) => ({ name: file.name, bytes: file.bytes })),
      ...prepared.bootPartition.components.map((copy) => ({
        name: copy.target,
        bytes: new Uint8Array(fs.readFileSync(componentPath(prepared, copy))),
      })),
    ],
    tftpFiles: new Map(prepared.tftpRoot.generated.map((file) => [file.name, file.bytes] as const)),
    tftpDiskFiles: new Map(prepared.tftpRoot.components.map((copy) => [copy.target, componentPath(prepared, copy)] as const)),
  };
}

const MiB = 1024 * 1024;

/** A card just big enough for its files plus room for FAT's own tables. */
export function cardSizeMiB(card: FatImageFile[]): number {
  const bytes = card.reduce((sum, file) => sum + file.bytes.length, 0);
  return Math.max(16, Math.ceil((bytes * 1.1) / MiB) + 8);
}

/** Xen's major.minor from a profile's version ("4.17.3" → "4.17"). */
function xenSeries(version: string): string {
  return /^(\d+\.\d+)/.exec(version)?.[1] ?? version;
}

/** Refuses a trial whose problems (of the profile as the user's own board takes it) include errors, listing them. */
function refuseProblems(profile: Profile, problems: ProfileProblem[], hint: string): void {
  const errors = problems.filter((problem) => problem.severity === 'error');
  if (errors.length === 0) return;
  throw new ImagerError({
    code: 'INVALID_PROFILE',
    subject: profile.name,
    message: errors.map((problem) => `${problem.path}: ${problem.message}`).join('; '),
    hint,
    details: { problems: errors },
  });
}

/**
 * A TFTP trial on virt serves its own files (retargeted scripts, maybe Debian's parts) on the port U-Boot asks, 69. While
 * the app's own server holds that port, the trial cannot; it says so, naming that server and how to stop it, instead of
 * blaming "another program". (The two do not share one server: the user's Pi may be fetching the real files from it.)
 */
async function refuseWhileAppServerRuns(request: TrialRequest): Promise<void> {
  if (request.profile.boot.mode !== 'tftp' || request.options.tftp === 'external') return;
  const port = request.tftpPort ?? 69;
  const running = await request.appTftpServer?.();
  // bound to one LAN address it leaves 127.0.0.1:69 free for the trial; on all addresses or loopback it does not
  if (!running || running.port !== port || !['0.0.0.0', TRIAL_TFTP_ADDRESS].includes(running.address)) return;
  throw new ImagerError({
    code: 'TFTP_SERVER_RUNNING',
    subject: `${running.address}:${running.port}`,
    message: `The app’s own TFTP server (Network boot step) is serving on ${running.address}:${running.port}, the port the emulated board asks, so the trial cannot serve its files there.`,
    hint: 'Stop the TFTP server on the Network boot step, then try again; start it again afterwards for your Pi.',
    details: { address: running.address, port: running.port, stop: 'tftpStop' },
  });
}

/** Runs one trial; throws ImagerError for problems before QEMU starts, else resolves with the verdict. */
export async function runTrial(request: TrialRequest, callbacks: TrialCallbacks = {}): Promise<TrialResult> {
  const { options, signal } = request;
  const env = request.env ?? process.env;
  const progress = callbacks.onProgress ?? (() => {});
  // Whatever machine runs it, the user's own Xen and kernels must be what their fields say (a swapped pair booted
  // once to "Dom0 userspace reached" when the trial put Debian's in): told before anything starts.
  if (options.components !== 'debian') {
    const own = readProfileFiles(request.profile, request.componentsDir);
    refuseProblems(
      request.profile,
      componentIdentityProblems(request.profile, own.components),
      'Fix the profile first: the trial boots your own Xen and kernel.',
    );
  }
  // a Raspberry Pi 4 profile boots on the emulated Pi 4 itself when this machine's QEMU can
  const machine = options.machine ?? 'auto';
  const pi4 = request.profile.board === 'rpi4' && machine !== 'virt' && options.components !== 'debian';
  let fallback: string | undefined;
  if (pi4 || machine === 'raspi4b') {
    const found = await findRaspi4bQemu(env, request.cacheDir ?? partsCacheRoot(env));
    if (found.found && request.profile.board === 'rpi4') {
      // the profile as the user's own board would take it, before the emulator's twin changes anything
      const prepared = readyBoot(
        prepareBoot(request.profile, request.componentsDir, env),
        'Fix the profile first: the trial boots what the card would hold.',
      );
      return runRaspi4bTrial(request, callbacks, found.found, prepared);
    }
    if (machine === 'raspi4b') {
      throw new ImagerError({
        code: 'NOT_AVAILABLE',
        subject: 'raspi4b',
        message: request.profile.board !== 'rpi4' ? 'Only a Raspberry Pi 4 profile boots on the emulated Pi 4.' : found.why,
        hint: 'Run `xen-pi-imager fetch-parts --board rpi4` (it fetches QEMU 10 from Debian’s backports), or install QEMU 9.0 or newer.',
      });
    }
    fallback = `${found.why} Booted on QEMU’s virt board instead, with the profile retargeted (run fetch-parts --board rpi4 to get QEMU with raspi4b)`;
    progress(fallback);
  }
  await refuseWhileAppServerRuns(request);
  const tools = findQemuTools(env);
  const workDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'xen-pi-imager-qemu-'));
  let server: TftpServer | undefined;
  let timeline: BootTimeline | undefined;
  try {
    const deviceTree = path.join(workDir, 'virt.dtb');
    let parts: TrialParts | undefined;
    if (options.components === 'debian') {
      const fetched = await fetchDebianParts({
        xenVersion: options.xenVersion ?? xenSeries(request.profile.xen.version),
        ...(request.cacheDir && { cacheDir: request.cacheDir }),
        ...(signal && { signal }),
        onProgress: progress,
        env,
      });
      // gzip'd by default: Xen decompresses it, and the trial loads a third of the bytes over TFTP
      const kernel = options.kernel === 'image' ? fetched.kernel : await cachedGzipKernel(fetched.kernel, workDir);
      parts = { xen: fetched.xen, dom0Kernel: kernel, dom0Ramdisk: fetched.initramfs };
    }
    throwIfAborted(signal);
    const trial = qemuTrialProfile(request.profile, { deviceTree, ...(parts && { parts }), externalTftp: options.tftp === 'external' });
    for (const change of trial.changes) progress(`For the emulator: ${change}`);
    progress('Dumping the QEMU virt board’s device tree');
    await dumpVirtDeviceTree(tools, deviceTree, signal, trial.cpus);
    const prepared = readyBoot(prepareBoot(trial.profile, request.componentsDir, env));
    for (const warning of warningsOf(prepared)) progress(`Warning: ${warning}`);
    const files = virtTrialFiles(prepared);
    const sdImage = path.join(workDir, 'sd.img');
    progress(`Writing the SD image (${files.card.map((file) => file.name).join(', ')})`);
    await createFatDiskImage(sdImage, { sizeMiB: cardSizeMiB(files.card), label: 'BOOT', files: files.card });
    if (trial.profile.boot.mode === 'tftp' && options.tftp !== 'external') {
      server = createTftpServer({
        files: files.tftpFiles,
        diskFiles: files.tftpDiskFiles,
        address: TRIAL_TFTP_ADDRESS,
        port: request.tftpPort ?? 69,
      });
      for (const name of ['request', 'progress', 'done', 'error'] as const) {
        server.on(name, (event: TftpTransferEvent) => {
          callbacks.onTftp?.(event);
          for (const entry of timeline?.tftp(event) ?? []) callbacks.onTimeline?.(entry);
        });
      }
      const bound = await server.listen();
      progress(
        `TFTP server on ${bound.address}:${bound.port} serving ${[...files.tftpFiles.keys(), ...files.tftpDiskFiles.keys()].join(', ')}`,
      );
    }
    throwIfAborted(signal);
    progress(`Starting ${qemuCommandLine(tools, sdImage, trial.cpus)}`);
    timeline = new BootTimeline();
    const result = await watchBoot(startQemu(tools, sdImage, workDir, trial.cpus), request, callbacks, false, timeline);
    const consoleLogPath = request.logsDir ? await saveConsole(request.logsDir, result.console) : undefined;
    const substituted = parts ? ['Xen', 'the Dom0 kernel', 'the Dom0 ramdisk'].map((what) => `${what} (Debian’s, not the profile’s)`) : [];
    if (request.profile.board !== 'qemu-virt') {
      substituted.push('the device tree (QEMU virt’s, not the Pi 4’s)');
      if (request.profile.ubootBinary) substituted.push('U-Boot (Debian’s qemu_arm64 build, not the card’s u-boot.bin)');
      substituted.push('the Raspberry Pi firmware and config.txt (virt has none: its U-Boot starts at once)');
    }
    return {
      ...result.verdict,
      changes: [...(fallback ? [fallback] : []), ...trial.changes],
      machine: 'virt',
      substituted,
      ...(consoleLogPath && { consoleLogPath }),
    };
  } finally {
    await server?.close();
    await fsp.rm(workDir, { recursive: true, force: true });
  }
}
