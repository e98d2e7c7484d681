// A trial on the emulated Raspberry Pi 4 (QEMU raspi4b): the card the Write step makes, booted as it is, except for
// what the emulator needs (a tree without the blocks QEMU lacks; an SD-only twin of a TFTP profile; RAM that fits).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { boards, domainMemoryLimit } from '../../../shared/boards';
import { isFreshCard, targetName } from '../../../shared/boot/generate';
import { ImagerError } from '../../../shared/errors';
import type { Profile } from '../../../shared/profile/schema';
import { bootPartitionEdit, prepareBoot, readyBoot, resolveComponent, type PreparedBoot } from '../boot-files/prepare';
import { composeImage } from '../drives/compose';
import { composeFreshCard } from '../drives/fresh-card';
import { isUrl } from '../drives/source';
import { partsCacheRoot } from './debian-parts';
import type { QemuFound } from './qemu-raspi4b';
import { raspi4bBootArgs, raspi4bDeviceTree } from './raspi4b';
import { saveConsole, watchBoot, type TrialCallbacks, type TrialRequest, type TrialResult } from './watch';

/** QEMU's raspi4b declares 960 MiB at 0x0 whatever its RAM (as a 1 GB Pi 4 does). */
const RASPI4B_RAM_MIB = 1024;

/** raspi4b has no VideoCore: the card's firmware and config.txt are never run, QEMU loads U-Boot itself. */
export const FIRMWARE_NOT_RUN =
  'the Raspberry Pi firmware (start4.elf, fixup4.dat) and config.txt: QEMU starts the card’s U-Boot itself, as the firmware would (the card still holds them)';

export interface Raspi4bTwin {
  profile: Profile;
  changes: string[];
}

/** What the emulated Pi 4 boots: SD-only (raspi4b has no Ethernet), Dom0 memory that fits its 960 MiB. Pure. */
export function raspi4bTwin(source: Profile): Raspi4bTwin {
  const profile = structuredClone(source);
  const changes: string[] = [];
  if (profile.boot.mode === 'tftp') {
    profile.boot.mode = 'sd';
    delete profile.boot.network;
    if (profile.boot.loadCommand && /^tftp/.test(profile.boot.loadCommand)) delete profile.boot.loadCommand;
    changes.push(
      'Booted as the profile’s SD-only twin: the emulated Pi 4 has no Ethernet, so every file is on its card (the TFTP chain itself is not tried)',
    );
  }
  const limit = domainMemoryLimit(boards.rpi4, RASPI4B_RAM_MIB).limitMiB;
  const domUs = profile.domUs.filter((d) => !d.noBoot).reduce((sum, d) => sum + d.memoryMb, 0);
  if (profile.dom0 && profile.dom0.memoryMb + domUs > limit) {
    const fitted = Math.max(128, Math.floor((limit - domUs) / 16) * 16);
    changes.push(
      `Dom0 memory ${profile.dom0.memoryMb} MB → ${fitted} MB: QEMU’s raspi4b declares 960 MiB, as a 1 GB Pi 4 does (the card’s boot2.scr differs in dom0_mem)`,
    );
    profile.dom0.memoryMb = fitted;
    profile.ramMb = RASPI4B_RAM_MIB;
  }
  return { profile, changes };
}

/** A card built for raspi4b and the machine line that boots it; `dispose` removes the card and the work folder. */
export interface Raspi4bBoot {
  /** QEMU's arguments; `serial: 'pty'` puts the console UART on a pseudo-terminal (a USB-UART adapter's stand-in). */
  args(serial?: 'stdio' | 'pty'): string[];
  changes: string[];
  workDir: string;
  dispose(): Promise<void>;
}

/**
 * Builds what a raspi4b trial boots: the card the Write step makes, for the profile's twin, with QEMU's view of its
 * tree. Throws ImagerError for problems before QEMU starts. `prepared` is the profile's own bundle (already checked):
 * the twin reuses it when the emulator needs no change, so the profile is generated once.
 */
export async function buildRaspi4bBoot(
  request: TrialRequest,
  callbacks: TrialCallbacks,
  qemu: QemuFound,
  prepared?: PreparedBoot,
): Promise<Raspi4bBoot> {
  const { signal } = request;
  const env = request.env ?? process.env;
  const progress = callbacks.onProgress ?? (() => {});
  const twin = raspi4bTwin(request.profile);
  const profile = twin.profile;
  if (!profile.ubootBinary) {
    throw new ImagerError({
      code: 'INVALID_PROFILE',
      subject: '$.ubootBinary',
      message: 'The profile names no u-boot.bin: the emulated Pi 4 starts the card’s own U-Boot, as the real one does.',
      hint: 'Choose U-Boot for the Pi 4 in the Components step (Debian’s u-boot-rpi: rpi_4/u-boot.bin), or get every part with fetch-parts --board rpi4.',
    });
  }
  const twinBundle = prepared && twin.changes.length === 0 ? prepared : prepareBoot(profile, request.componentsDir, env);
  const edit = bootPartitionEdit(readyBoot(twinBundle));
  const cacheDir = request.cacheDir ?? partsCacheRoot(env);
  const workDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'xen-pi-imager-raspi4b-'));
  let card: string | undefined;
  const dispose = async () => {
    if (card) await fsp.rm(card, { force: true });
    await fsp.rm(workDir, { recursive: true, force: true });
  };
  try {
    progress(`QEMU ${qemu.version} with raspi4b (${qemu.origin})`);
    progress('Deriving the emulator’s device tree: QEMU’s view of the profile’s tree, the blocks it does not model disabled');
    const uboot = resolveComponent(request.componentsDir, profile.ubootBinary);
    const trialTree = path.join(workDir, 'trial.dtb');
    const derived = await raspi4bDeviceTree({
      qemu: qemu.qemu,
      uboot,
      deviceTree: resolveComponent(request.componentsDir, profile.deviceTree),
      outFile: trialTree,
      ...(signal && { signal }),
    });
    const treeName = `${profile.boot.pathPrefix ? `${profile.boot.pathPrefix}/` : ''}${targetName(profile.deviceTree)}`;
    const changes = [
      ...twin.changes,
      `${treeName} on the trial’s card is QEMU’s view of it with ${derived.disabled.length} block${derived.disabled.length === 1 ? '' : 's'} QEMU does not model disabled (${derived.disabled.map((p) => p.split('/').pop()).join(', ')})`,
    ];
    for (const change of changes) progress(`For the emulator: ${change}`);
    const trialEdit = {
      ...edit,
      files: edit.files.map((file) =>
        file.name === treeName ? { name: file.name, bytes: new Uint8Array(fs.readFileSync(trialTree)) } : file,
      ),
    };
    if (isFreshCard(profile)) {
      progress('Building the card exactly as the Write step does (a fresh card: MBR and FAT32)');
      card = (await composeFreshCard(trialEdit, cacheDir)).image;
    } else {
      progress(`Building the card exactly as the Write step does (on ${profile.baseImage})`);
      const base = profile.baseImage!;
      const composed = await composeImage({
        source: isUrl(base) ? base : resolveComponent(request.componentsDir, base),
        cacheDir,
        ...trialEdit,
        ...(signal && { signal }),
      });
      card = composed.image;
    }
    // QEMU's SD model takes only power-of-two sizes: the trial's copy grows to the next one (the card itself does not)
    const size = fs.statSync(card).size;
    const pow2 = 2 ** Math.ceil(Math.log2(size));
    if (pow2 !== size) fs.truncateSync(card, pow2);
    const sdImage = card;
    return { args: (serial) => raspi4bBootArgs({ uboot, dtb: trialTree, sdImage, ...(serial && { serial }) }), changes, workDir, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/** Runs one trial on raspi4b; throws ImagerError for problems before QEMU starts. See buildRaspi4bBoot for `prepared`. */
export async function runRaspi4bTrial(
  request: TrialRequest,
  callbacks: TrialCallbacks,
  qemu: QemuFound,
  prepared?: PreparedBoot,
): Promise<TrialResult> {
  const { signal } = request;
  const progress = callbacks.onProgress ?? (() => {});
  const boot = await buildRaspi4bBoot(request, callbacks, qemu, prepared);
  try {
    if (signal?.aborted)
      throw new ImagerError({
        code: 'CANCELLED',
        message: 'The trial boot was cancelled before QEMU started.',
        hint: 'Start it again when you are ready.',
      });
    const args = boot.args();
    progress(`Starting ${[qemu.qemu, ...args].join(' ')}`);
    const child = spawn(qemu.qemu, args, { cwd: boot.workDir, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    child.stdin.on('error', () => undefined); // QEMU may exit before a keystroke arrives
    const result = await watchBoot(child, request, callbacks, true);
    const consoleLogPath = request.logsDir ? await saveConsole(request.logsDir, result.console) : undefined;
    return {
      ...result.verdict,
      changes: boot.changes,
      machine: 'raspi4b',
      substituted: [FIRMWARE_NOT_RUN],
      ...(consoleLogPath && { consoleLogPath }),
    };
  } finally {
    await boot.dispose();
  }
}
