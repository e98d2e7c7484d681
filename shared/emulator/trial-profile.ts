// Retargets any profile to QEMU's virt board for a trial boot: same choices, the emulator's addresses, console and device tree.
import { DEFAULT_BAUD } from '../boot/config-txt';
import { boards } from '../boards';
import { hexAddress } from '../boot/address';
import { DEFAULT_DOM0_COMMAND_LINE } from '../boot/stage2';
import type { Profile } from '../profile/schema';
import { QEMU_CPUS, QEMU_MEMORY_MIB } from './machine';

/** Files that replace the profile's own (Debian's arm64 parts, for instance). */
export interface TrialParts {
  xen?: string;
  dom0Kernel?: string;
  dom0Ramdisk?: string;
}

export interface TrialProfileOptions {
  /** The device tree dumped from the emulator's machine line (a path the services can read). */
  deviceTree: string;
  parts?: TrialParts;
  /** Another TFTP server already serves port 69: U-Boot stays lock-step unless the profile says otherwise. */
  externalTftp?: boolean;
}

export interface TrialProfile {
  profile: Profile;
  /** What was changed, in words, for the console header and the UI. */
  changes: string[];
  /** CPUs of the emulated board (QEMU's -smp): the device tree must be dumped with the same number. */
  cpus: number;
}

const board = boards['qemu-virt'];
/** U-Boot's user-network TFTP target: QEMU relays 255.255.255.255:69 to the host's 127.0.0.1:69. */
export const QEMU_SERVER_IP = board.defaultServerIp ?? '255.255.255.255';
export const QEMU_BOARD_IP = '10.0.2.15';

function withPanicReboot(commandLine: string | undefined): string {
  const line = commandLine ?? DEFAULT_DOM0_COMMAND_LINE;
  // panic=-1 plus QEMU's -no-reboot turns a Dom0 crash into a fast exit instead of a hang
  return /(^|\s)panic=/.test(line) ? line : `${line} panic=-1`;
}

/** The most vCPUs one domain of the (retargeted) profile asks for: Dom0's, each DomU's, a `dom0_max_vcpus=` of its own. */
function vcpusAsked(profile: Profile): number {
  const xenWords = `${profile.xen.commandLine ?? ''} ${profile.xen.extraArgs}`;
  const dom0MaxVcpus = /(?:^|\s)dom0_max_vcpus=(?:\d+-)?(\d+)/.exec(xenWords)?.[1];
  return Math.max(1, profile.dom0?.vcpus ?? 0, Number(dom0MaxVcpus ?? 0), ...profile.domUs.map((domU) => domU.vcpus));
}

/**
 * The emulated board's CPUs: one when the profile has a single domain with one vCPU (Dom0 alone: under emulation a
 * second CPU costs Xen its start-up and every TLB flush a cross-CPU wait, about 0.4 s to Dom0 userspace), else the board's.
 */
export function trialCpus(profile: Profile): number {
  return profile.domUs.length === 0 && vcpusAsked(profile) <= 1 ? 1 : QEMU_CPUS;
}

/** The largest TFTP window U-Boot takes on QEMU virt: its virtio-net driver has 32 receive buffers (a window of 32 timed out). */
export const VIRTIO_WINDOW_MAX = 16;

/** The profile as the emulator boots it. Pure: no file is read. */
export function qemuTrialProfile(source: Profile, options: TrialProfileOptions): TrialProfile {
  const changes: string[] = [];
  const profile: Profile = structuredClone(source);
  if (profile.board !== 'qemu-virt') changes.push(`board ${boards[profile.board].name} → ${board.name}`);
  profile.board = 'qemu-virt';
  // the emulator's RAM, not the Pi's: a 4 GB Pi 4 profile would otherwise be refused as a 4 GB virt board
  profile.ramMb = board.defaultRamMiB;
  profile.boot.memoryStart = hexAddress(board.ramBase);
  profile.boot.memoryEnd = hexAddress(board.memoryEnd);
  profile.boot.stage2Address = hexAddress(board.stage2Address);
  profile.console.uart = board.defaultUart;
  profile.console.baud = DEFAULT_BAUD; // nothing on virt sets a rate
  if (profile.xen.commandLine)
    profile.xen.commandLine = profile.xen.commandLine.replace(/dtuart=\S+/, `dtuart=${board.uarts.pl011!.dtuart}`);
  if (profile.boot.mode === 'tftp') {
    profile.boot.network = { method: 'static', serverIp: QEMU_SERVER_IP, boardIp: QEMU_BOARD_IP };
    changes.push(`TFTP server ${QEMU_SERVER_IP} (QEMU relays it to this machine), board address ${QEMU_BOARD_IP}`);
    if (options.externalTftp && profile.boot.tftp?.server !== 'external') {
      profile.boot.tftp = { ...profile.boot.tftp, server: 'external' };
      changes.push('TFTP served by the server already on port 69, so U-Boot fetches lock-step unless the profile names a windowsize');
    }
    const windowsize = profile.boot.tftp?.windowsize;
    if (windowsize !== undefined && windowsize > VIRTIO_WINDOW_MAX) {
      // a whole window must fit the network driver's receive ring: the Pi 4's GENET holds 256 packets, virtio-net 32
      profile.boot.tftp = { ...profile.boot.tftp!, windowsize: VIRTIO_WINDOW_MAX };
      changes.push(
        `TFTP windowsize ${windowsize} → ${VIRTIO_WINDOW_MAX}: U-Boot's virtio-net driver holds 32 packets, so a larger window overflows it on the emulator (the Pi 4's GENET holds 256)`,
      );
    }
  }
  if (profile.boot.loadCommand && !/^tftp/.test(profile.boot.loadCommand)) delete profile.boot.loadCommand;
  profile.deviceTree = options.deviceTree;
  // virt has no Raspberry Pi firmware to hand U-Boot a tree: QEMU's own is loaded instead
  if (profile.deviceTreeSource === 'firmware')
    changes.push('the firmware’s device tree replaced by QEMU’s own (virt has no Raspberry Pi firmware)');
  profile.deviceTreeSource = 'file';
  if (profile.overlays.length > 0) changes.push(`device-tree overlays left out (they are for the Raspberry Pi's tree)`);
  profile.overlays = [];
  if (options.parts?.xen) profile.xen.binary = options.parts.xen;
  if (profile.dom0) {
    if (options.parts?.dom0Kernel) profile.dom0.kernel = options.parts.dom0Kernel;
    if (options.parts?.dom0Ramdisk) profile.dom0.ramdisk = options.parts.dom0Ramdisk;
    const commandLine = withPanicReboot(profile.dom0.commandLine);
    if (commandLine !== (profile.dom0.commandLine ?? DEFAULT_DOM0_COMMAND_LINE))
      changes.push('panic=-1 added to Dom0’s command line, so a Dom0 crash ends the trial at once instead of hanging it');
    profile.dom0.commandLine = commandLine;
    if (profile.dom0.rootOnCard) changes.push('Dom0 root file system on the card left out (the emulated card holds only boot files)');
    profile.dom0.rootOnCard = false;
    const maxDom0Mb = QEMU_MEMORY_MIB / 2;
    if (profile.dom0.memoryMb > maxDom0Mb) {
      changes.push(`Dom0 memory ${profile.dom0.memoryMb} MB → ${maxDom0Mb} MB (the emulator has ${QEMU_MEMORY_MIB} MiB)`);
      profile.dom0.memoryMb = maxDom0Mb;
    }
    if (profile.dom0.vcpus > board.cpus) {
      changes.push(`Dom0 vCPUs ${profile.dom0.vcpus} → ${board.cpus} (the emulator has ${board.cpus} CPUs)`);
      profile.dom0.vcpus = board.cpus;
    }
  }
  if (options.parts && Object.values(options.parts).some(Boolean))
    changes.push('Xen, Dom0 kernel and ramdisk from Debian’s arm64 packages');
  // another server serves its own device tree, dumped for the board's CPUs: Xen would wait for a CPU QEMU does not have
  const cpus = options.externalTftp ? QEMU_CPUS : trialCpus(profile);
  if (cpus < QEMU_CPUS)
    changes.push(`the emulator runs ${cpus} CPU, not ${QEMU_CPUS}: Dom0 alone with 1 vCPU boots faster without a second emulated CPU`);
  return { profile, changes, cpus };
}
