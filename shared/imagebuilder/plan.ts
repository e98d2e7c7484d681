// What an ImageBuilder config asks for, checked against the subset we support, and the same recipe as a profile.
import { hexAddress, parseNumber } from '../boot/address';
import { defaultScriptAddress, defaultXenCommandLine, type Stage2DomU, type StaticMemoryBank } from '../boot/stage2';
import { ImagerError } from '../errors';
import { PROFILE_SCHEMA_VERSION, type ProfileInput } from '../profile/schema';
import type { ImageBuilderVariables } from './config';
import { domUCpupool, planCpuPools, type PlannedCpuPool } from './cpupools';

/** A DomU as the config names it: the stage-2 settings, with file paths instead of read files. */
export interface PlannedDomU extends Omit<Stage2DomU, 'kernel' | 'ramdisk' | 'passthroughDtb'> {
  index: number;
  kernel: string;
  ramdisk?: string;
  passthroughDtb?: string;
}

/** Everything uboot-script-gen would do, with file paths as the config gives them (relative to the -d folder). */
export interface ImageBuilderPlan {
  memoryStart: number;
  memoryEnd: number;
  loadCommand: string;
  bootCommand: 'booti' | 'none';
  xen: string;
  xenCommandLine?: string;
  dom0MemoryMb?: number;
  dom0Vcpus?: number;
  xenColors?: string;
  dom0Colors?: string;
  dom0?: { kernel: string; ramdisk?: string; commandLine?: string; rootfsOnDisk: boolean };
  domUs: PlannedDomU[];
  deviceTree: string;
  overlays: string[];
  /** APPEND_EXTRA_CMDS: a file whose text goes before the boot command. */
  extraCommandsFile?: string;
  /** Boot-time CPU pools (CPUPOOL[n], NUM_CPUPOOLS); the CPUs are checked against DEVICE_TREE when it is read. */
  cpuPools: PlannedCpuPool[];
  /** Output names: <name>.source and <name>.scr. */
  sourceName: string;
  scriptName: string;
  warnings: string[];
}

/** `-t` shorthands, as uboot-script-gen expands them. */
export function expandLoadCommand(value: string): string {
  const shorthands: Record<string, string> = { tftp: 'tftpb', sd: 'load mmc 0:1', scsi: 'load scsi 0:1', usb: 'fatload usb 0:1' };
  return shorthands[value] ?? value;
}

function unsupported(subject: string, message: string, hint: string): ImagerError {
  return new ImagerError({ code: 'IMAGEBUILDER_UNSUPPORTED', subject, message, hint, details: { exitStatus: 1 } });
}

function requireNumber(vars: ImageBuilderVariables, name: string): number {
  const text = vars.scalars[name];
  const value = parseNumber(text);
  if (value === undefined) {
    throw new ImagerError({
      code: 'IMAGEBUILDER_CONFIG',
      subject: name,
      details: { exitStatus: 1 },
      message: text === undefined ? `${name} is not set in the config.` : `${name}="${text}" is not a decimal or 0x-hex number.`,
      hint: `Set ${name} to the address, e.g. ${name}="0x40000000".`,
    });
  }
  return value;
}

/**
 * Newer uboot-script-gen options this drop-in does not write, each with the reason; a config that sets one is refused
 * rather than booted without it. README's "ImageBuilder options" table lists every option and its state.
 */
export const REFUSED_OPTIONS: Record<string, string> = {
  XEN_POLICY: 'loading an XSM/FLASK policy module is not implemented',
  XEN_STATIC_HEAP: 'a static heap (xen,static-heap) is not implemented',
  XEN_PASSTHROUGH_PATHS: 'marking host devices for passthrough outside a DomU is not implemented',
  DOM0_LOAD: 'a separate load command for Dom0 is not implemented; -t/LOAD_CMD loads every file',
  DOMU_VPL011: 'turning off the DomU virtual PL011 is not implemented (every DomU gets vpl011; 1 is accepted)',
  DOMU_NR_SPIS: 'the DomU SPI count (nr_spis) is not implemented',
  DOMU_MAPTRACK_FRAMES: 'DomU grant-table limits are not implemented',
  DOMU_GRANT_FRAMES: 'DomU grant-table limits are not implemented',
  DOMU_CAPS: 'DomU capabilities (hardware/control/xenstore domains) are not implemented',
  DOMU_SHARED_MEM: 'static shared memory between domains is not implemented',
  DOMU_STATIC_EVTCHNS: 'static event channels are not implemented',
  EFI: 'booting through UEFI (bootefi) is not implemented; Xen boots with booti',
};

function checkSupported(vars: ImageBuilderVariables, loadCommand: string): void {
  const s = vars.scalars;
  if (s.FIT || loadCommand === 'fit' || loadCommand === 'fit_std' || loadCommand === 'imxtract') {
    throw unsupported(
      'FIT',
      'FIT images are not supported: only plain boot scripts with separate files are generated.',
      'Remove FIT from the config and load the files with tftpb or load mmc 0:1.',
    );
  }
  if (s.BITSTREAM)
    throw unsupported(
      'BITSTREAM',
      'FPGA bitstreams are not supported (the Raspberry Pi has no FPGA).',
      'Remove BITSTREAM from the config.',
    );
  if (!s.XEN && (s.LINUX || s.LINUX_CMD || s.LINUX_RAMDISK)) {
    throw unsupported(
      'LINUX',
      'Linux-only mode (LINUX without XEN) is not supported: this tool boots Xen.',
      'Set XEN to the hypervisor binary and DOM0_KERNEL to the Linux kernel.',
    );
  }
  if (s.PASSTHROUGH_DTS_REPO || s.LOPPER_PATH) {
    throw unsupported(
      s.LOPPER_PATH ? 'LOPPER_PATH' : 'PASSTHROUGH_DTS_REPO',
      'Building passthrough device trees (from a repository or with lopper) is not supported.',
      'Build the DomU device tree yourself and give it as DOMU_PASSTHROUGH_DTB[i].',
    );
  }
  for (const [name, reason] of Object.entries(REFUSED_OPTIONS)) {
    const values = [s[name], ...Object.values(vars.arrays[name] ?? {})];
    // DOMU_VPL011=1 asks for what every DomU gets anyway
    if (values.some((value) => value !== undefined && value !== '' && !(name === 'DOMU_VPL011' && value === '1'))) {
      throw unsupported(
        name,
        `${name} is not supported: ${reason}.`,
        `Remove ${name} from the config (README: "ImageBuilder options" lists what is supported).`,
      );
    }
  }
  const boot = s.BOOT_CMD ?? 'booti';
  if (!['booti', 'none'].includes(boot)) {
    throw unsupported(
      'BOOT_CMD',
      `BOOT_CMD="${boot}" is not supported: Xen on arm64 boots with booti.`,
      'Use BOOT_CMD="booti" (or "none" to boot by hand).',
    );
  }
  if (!s.XEN)
    throw new ImagerError({
      code: 'IMAGEBUILDER_CONFIG',
      subject: 'XEN',
      message: 'XEN is not set in the config.',
      hint: 'Set XEN to the hypervisor binary, e.g. XEN="xen".',
      details: { exitStatus: 1 },
    });
  if (!s.DEVICE_TREE)
    throw new ImagerError({
      code: 'IMAGEBUILDER_CONFIG',
      subject: 'DEVICE_TREE',
      message: 'DEVICE_TREE is not set in the config.',
      hint: "Set DEVICE_TREE to the board's .dtb.",
      details: { exitStatus: 1 },
    });
}

const flag = (value: string | undefined) => value !== undefined && value !== '' && value !== '0';

function staticBanks(text: string | undefined, index: number): StaticMemoryBank[] | undefined {
  if (!text) return undefined;
  const numbers = text
    .trim()
    .split(/\s+/)
    .map((word) => parseNumber(word));
  if (numbers.length % 2 !== 0 || numbers.some((n) => n === undefined)) {
    throw unsupported(
      `DOMU_STATIC_MEM[${index}]`,
      `DOMU_STATIC_MEM[${index}]="${text}" is not pairs of base and size.`,
      'Write "base1 size1 base2 size2 ..." in hex or decimal.',
    );
  }
  return Array.from({ length: numbers.length / 2 }, (_, i) => ({ base: numbers[2 * i]!, size: numbers[2 * i + 1]! }));
}

function planDomU(vars: ImageBuilderVariables, index: number, warnings: string[]): PlannedDomU {
  const a = (name: string) => vars.arrays[name]?.[index];
  const num = (name: string) => (a(name) ? parseNumber(a(name)) : undefined);
  const noBoot = flag(a('DOMU_NOBOOT'));
  const paths = a('DOMU_PASSTHROUGH_PATHS')?.trim().split(/\s+/).filter(Boolean);
  if (paths?.length && !noBoot)
    warnings.push(
      `DOMU_PASSTHROUGH_PATHS[${index}] is ignored: without PASSTHROUGH_DTS_REPO or LOPPER_PATH only a DomU with DOMU_NOBOOT uses it.`,
    );
  const plan: PlannedDomU = { index, kernel: a('DOMU_KERNEL') ?? '' };
  const optional: Partial<PlannedDomU> = {
    ramdisk: a('DOMU_RAMDISK') || undefined,
    passthroughDtb: a('DOMU_PASSTHROUGH_DTB') || undefined,
    commandLine: a('DOMU_CMD') || undefined,
    memoryMb: num('DOMU_MEM'),
    vcpus: num('DOMU_VCPUS'),
    enhanced: a('DOMU_ENHANCED') !== undefined && a('DOMU_ENHANCED') !== '' ? a('DOMU_ENHANCED') === '1' : undefined,
    staticMemory: staticBanks(a('DOMU_STATIC_MEM'), index),
    directMap: a('DOMU_DIRECT_MAP') ? a('DOMU_DIRECT_MAP') === '1' : undefined,
    colors: a('DOMU_COLORS') || undefined,
    viommu: flag(a('DOMU_VIOMMU')) || undefined,
    noBoot: noBoot || undefined,
    rootfsOnDisk: Boolean(a('DOMU_ROOTFS')) || undefined,
    passthroughPaths: noBoot && paths?.length ? paths : undefined,
    cpupool: domUCpupool(vars, index),
  };
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) (plan as unknown as Record<string, unknown>)[key] = value;
  return plan;
}

/** Turns parsed variables (and the -t / -o options) into a plan, refusing what is outside the supported subset. */
export function planFromVariables(
  vars: ImageBuilderVariables,
  options: { loadCommand?: string; outputName?: string } = {},
): ImageBuilderPlan {
  const s = vars.scalars;
  const loadCommand = options.loadCommand ? expandLoadCommand(options.loadCommand) : (s.LOAD_CMD ?? '');
  checkSupported(vars, loadCommand);
  if (!loadCommand.trim()) {
    throw new ImagerError({
      code: 'NO_LOAD_COMMAND',
      subject: 'LOAD_CMD',
      details: { exitStatus: 1, imageBuilderMessage: 'LOAD_CMD not set, either specify it in the config or set it with the -t option' },
      message: 'No load command is set, so the script cannot say how to fetch the files.',
      hint: 'Set LOAD_CMD in the config or pass -t (tftp, sd, scsi, usb or a U-Boot command).',
    });
  }
  const warnings: string[] = [];
  if (s.FDTEDIT) warnings.push('FDTEDIT is ignored: no edited copy of the device tree is written.');
  const numDomUs = parseNumber(s.NUM_DOMUS ?? '0') ?? 0;
  const numOverlays = parseNumber(s.NUM_DT_OVERLAY ?? '0') ?? 0;
  const baseName = options.outputName;
  const optional = {
    xenCommandLine: s.XEN_CMD || undefined,
    dom0MemoryMb: parseNumber(s.DOM0_MEM),
    dom0Vcpus: parseNumber(s.DOM0_VCPUS),
    xenColors: s.XEN_COLORS || undefined,
    dom0Colors: s.DOM0_COLORS || undefined,
    extraCommandsFile: s.APPEND_EXTRA_CMDS || undefined,
  };
  return {
    memoryStart: requireNumber(vars, 'MEMORY_START'),
    memoryEnd: requireNumber(vars, 'MEMORY_END'),
    loadCommand,
    bootCommand: (s.BOOT_CMD as 'booti' | 'none' | undefined) ?? 'booti',
    xen: s.XEN!,
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
    ...(s.DOM0_KERNEL && {
      dom0: {
        kernel: s.DOM0_KERNEL,
        ...(s.DOM0_RAMDISK && { ramdisk: s.DOM0_RAMDISK }),
        ...(s.DOM0_CMD && { commandLine: s.DOM0_CMD }),
        rootfsOnDisk: Boolean(s.DOM0_ROOTFS),
      },
    }),
    domUs: Array.from({ length: numDomUs }, (_, i) => planDomU(vars, i, warnings)),
    deviceTree: s.DEVICE_TREE!,
    overlays: Array.from({ length: numOverlays }, (_, i) => vars.arrays.DT_OVERLAY?.[i] ?? ''),
    cpuPools: planCpuPools(vars),
    sourceName: baseName ? `${baseName}.source` : (s.UBOOT_SOURCE ?? 'boot.source'),
    scriptName: baseName ? `${baseName}.scr` : (s.UBOOT_SCRIPT ?? 'boot.scr'),
    warnings,
  };
}

/** The same recipe as a profile: generating it gives the script uboot-script-gen gives (paths stay relative to the -d folder). */
export function planToProfile(
  plan: ImageBuilderPlan,
  extras: { extraCommands?: string; prefix?: string; name?: string } = {},
): ProfileInput {
  const qemu = plan.memoryStart >= 0x40000000;
  const xenCommandLine = plan.xenCommandLine || defaultXenCommandLine(plan);
  const tftp = plan.loadCommand === 'tftpb';
  if (plan.cpuPools.length > 0) {
    throw unsupported(
      'NUM_CPUPOOLS',
      `A profile cannot hold NUM_CPUPOOLS=${plan.cpuPools.length} (CPUPOOL[n], DOMU_CPUPOOL[n]) yet: the imported profile would boot its DomUs in Xen's default pool.`,
      'Generate with `xen-pi-imager imagebuilder`, which writes the pools, or remove NUM_CPUPOOLS from the config to import it.',
    );
  }
  return {
    schemaVersion: PROFILE_SCHEMA_VERSION,
    name: extras.name ?? 'Imported from ImageBuilder',
    board: qemu ? 'qemu-virt' : 'rpi4',
    xen: { version: '4.17', binary: plan.xen, commandLine: xenCommandLine },
    console: { uart: qemu ? 'pl011' : /dtuart=(serial0|\/soc\/serial@7e201000)(\s|:|$)/.test(xenCommandLine) ? 'pl011' : 'mini' },
    boot: {
      mode: tftp ? 'tftp' : 'sd',
      // Stage 1 is not part of ImageBuilder's output: DHCP is a neutral start the user can change.
      ...(tftp && { network: { method: 'dhcp' as const } }),
      memoryStart: hexAddress(plan.memoryStart),
      memoryEnd: hexAddress(plan.memoryEnd),
      stage2Address: hexAddress(defaultScriptAddress(plan.memoryStart)),
      loadCommand: plan.loadCommand,
      bootCommand: plan.bootCommand,
      ...(extras.prefix && { pathPrefix: extras.prefix }),
      ...(extras.extraCommands && { extraCommands: extras.extraCommands }),
    },
    ...(plan.dom0 && {
      dom0: {
        kernel: plan.dom0.kernel,
        ...(plan.dom0.ramdisk && { ramdisk: plan.dom0.ramdisk }),
        ...(plan.dom0.commandLine && { commandLine: plan.dom0.commandLine }),
        rootOnCard: plan.dom0.rootfsOnDisk,
        ...(plan.dom0MemoryMb && { memoryMb: plan.dom0MemoryMb }),
        ...(plan.dom0Vcpus && { vcpus: plan.dom0Vcpus }),
      },
    }),
    deviceTree: plan.deviceTree,
    overlays: plan.overlays,
    domUs: plan.domUs.map(({ index: _index, staticMemory, rootfsOnDisk, cpupool: _cpupool, ...domU }) => ({
      ...domU,
      // ImageBuilder does not boot a DomU whose root is on disk: the same as not booting it at all.
      ...(rootfsOnDisk && { noBoot: true }),
      ...(staticMemory && { staticMemory: staticMemory.map((bank) => ({ base: hexAddress(bank.base), size: hexAddress(bank.size) })) }),
    })),
    // Stage 1 must be boot.scr (U-Boot's distro boot looks for it), so ImageBuilder's script becomes stage 2.
    output: { stage1Name: 'boot', stage2Name: stage2NameFor(plan.scriptName), scriptImageName: '', writeConfigTxt: true },
  };
}

function stage2NameFor(scriptName: string): string {
  const base = scriptName.replace(/\.scr$/, '');
  return base === 'boot' ? 'boot2' : base;
}
