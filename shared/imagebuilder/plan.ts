// What an ImageBuilder config asks for, checked against the subset we support, and the same recipe as a profile.
import { hexAddress, parseNumber } from '../boot/address';
import { sharedMemoryWords, splitValues, testEquals, words } from '../boot/domu-properties';
import { defaultScriptAddress, defaultXenCommandLine, numbersError, type Stage2DomU, type StaticMemoryBank } from '../boot/stage2';
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
  /** `bootm` wraps Xen as `<XEN>.ub` (a U-Boot legacy kernel image) and boots that. */
  bootCommand: 'booti' | 'bootm' | 'none';
  xen: string;
  /** XEN_POLICY: the XSM policy binary. */
  xenPolicy?: string;
  xenCommandLine?: string;
  dom0MemoryMb?: number;
  dom0Vcpus?: number;
  xenColors?: string;
  dom0Colors?: string;
  dom0?: { kernel: string; ramdisk?: string; commandLine?: string; rootfsOnDisk: boolean; loadCommand?: string };
  /** XEN_LOAD: loads Xen, XEN_POLICY and DEVICE_TREE instead of LOAD_CMD. */
  xenLoadCommand?: string;
  domUs: PlannedDomU[];
  deviceTree: string;
  overlays: string[];
  /** APPEND_EXTRA_CMDS: a file whose text goes before the boot command. */
  extraCommandsFile?: string;
  /** Boot-time CPU pools (CPUPOOL[n], NUM_CPUPOOLS); the CPUs are checked against DEVICE_TREE when it is read. */
  cpuPools: PlannedCpuPool[];
  /** XEN_STATIC_HEAP as the config gives it: "base size ..." pairs. */
  staticHeap?: string;
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
 * uboot-script-gen options this drop-in does not write, each with the reason; a config that sets one is refused rather
 * than booted without it. README's "ImageBuilder options" table lists every option and its state.
 */
export const REFUSED_OPTIONS: Record<string, string> = {
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
    if (values.some((value) => value !== undefined && value !== '')) {
      throw unsupported(
        name,
        `${name} is not supported: ${reason}.`,
        `Remove ${name} from the config (README: "ImageBuilder options" lists what is supported).`,
      );
    }
  }
  const boot = s.BOOT_CMD ?? 'booti';
  if (!['booti', 'bootm', 'none'].includes(boot)) {
    throw unsupported(
      'BOOT_CMD',
      `BOOT_CMD="${boot}" is not supported: Xen boots with booti (or bootm, from a U-Boot legacy image).`,
      'Use BOOT_CMD="booti", "bootm" (or "none" to boot by hand).',
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

/** DOMU_ENHANCED as upstream tests it: "1", or anything but "0" with Dom0, enables; otherwise "2" asks for no-xenstore. */
function enhancedSettings(value: string, hasDom0: boolean): Pick<PlannedDomU, 'enhanced' | 'noXenstore'> {
  if (value === '') return {};
  const enabled = value === '1' || (hasDom0 && value !== '0');
  return { enhanced: enabled, ...(!enabled && value === '2' && { noXenstore: true }) };
}

/** DOMU_VCPU_HARD_AFFINITY["n,v"] for each of the DomU's vCPUs that has one (upstream looks up exactly that key). */
function hardAffinity(vars: ImageBuilderVariables, index: number, vcpus: number): PlannedDomU['vcpuHardAffinity'] {
  const table = vars.associative.DOMU_VCPU_HARD_AFFINITY ?? {};
  const listed = Array.from({ length: vcpus }, (_, vcpu) => ({ vcpu, pcpus: table[`${index},${vcpu}`] ?? '' })).filter((a) => a.pcpus);
  return listed.length > 0 ? listed : undefined;
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
  const given = (name: string) => a(name) || undefined;
  const vpl011 = given('DOMU_VPL011');
  if (vpl011 !== undefined && !/^\s*[+-]?\d+\s*$/.test(vpl011))
    warnings.push(`DOMU_VPL011[${index}]="${vpl011}" is not 0 or 1: as upstream, the DomU gets no vpl011.`);
  for (const name of ['DOMU_NR_SPIS', 'DOMU_GRANT_VER', 'DOMU_GRANT_FRAMES', 'DOMU_MAPTRACK_FRAMES']) {
    const value = given(name);
    if (value !== undefined && parseNumber(value) === undefined)
      warnings.push(`${name}[${index}]="${value}" is not a number: it is written as given, and U-Boot's fdt set will refuse it at boot.`);
  }
  const trap = given('DOMU_TRAP_UNMAP');
  const trapKept = trap !== undefined && (testEquals(trap, 0) || testEquals(trap, 1));
  if (trap !== undefined && !trapKept) warnings.push(`DOMU_TRAP_UNMAP[${index}]="${trap}" is ignored, as upstream does: it takes 0 or 1.`);
  const sharedMemory = given('DOMU_SHARED_MEM');
  if (sharedMemory !== undefined && !splitValues(sharedMemoryWords(sharedMemory)))
    throw numbersError(`DOMU_SHARED_MEM[${index}]`, sharedMemory, '"ID HOST-ADDRESS GUEST-ADDRESS SIZE" (or "ID GUEST-ADDRESS SIZE")');
  const optional: Partial<PlannedDomU> = {
    ramdisk: a('DOMU_RAMDISK') || undefined,
    passthroughDtb: a('DOMU_PASSTHROUGH_DTB') || undefined,
    commandLine: a('DOMU_CMD') || undefined,
    memoryMb: num('DOMU_MEM'),
    vcpus: num('DOMU_VCPUS'),
    ...enhancedSettings(a('DOMU_ENHANCED') ?? '', Boolean(vars.scalars.DOM0_KERNEL)),
    staticMemory: staticBanks(a('DOMU_STATIC_MEM'), index),
    directMap: a('DOMU_DIRECT_MAP') ? a('DOMU_DIRECT_MAP') === '1' : undefined,
    colors: a('DOMU_COLORS') || undefined,
    viommu: flag(a('DOMU_VIOMMU')) || undefined,
    noBoot: noBoot || undefined,
    rootfsOnDisk: Boolean(a('DOMU_ROOTFS')) || undefined,
    passthroughPaths: noBoot && paths?.length ? paths : undefined,
    cpupool: domUCpupool(vars, index),
    vpl011: vpl011 !== undefined ? testEquals(vpl011, 1) : undefined,
    nrSpis: given('DOMU_NR_SPIS'),
    grantVersion: given('DOMU_GRANT_VER'),
    grantFrames: given('DOMU_GRANT_FRAMES'),
    maptrackFrames: given('DOMU_MAPTRACK_FRAMES'),
    capabilities: given('DOMU_CAPS'),
    trapUnmappedAccesses: trapKept ? trap : undefined,
    loadCommand: given('DOMU_LOAD'),
    staticEventChannels: given('DOMU_STATIC_EVTCHNS'),
    vcpuHardAffinity: hardAffinity(vars, index, num('DOMU_VCPUS') ?? 1),
    sharedMemory,
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
  if (s.XEN_PASSTHROUGH_PATHS)
    warnings.push('XEN_PASSTHROUGH_PATHS is ignored, as upstream ignores it (it is no option there): use DOMU_PASSTHROUGH_PATHS[n].');
  if (s.XEN_STATIC_HEAP && !splitValues(words(s.XEN_STATIC_HEAP)))
    throw numbersError('XEN_STATIC_HEAP', s.XEN_STATIC_HEAP, '"base1 size1 base2 size2 ..."');
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
    staticHeap: s.XEN_STATIC_HEAP || undefined,
    xenPolicy: s.XEN_POLICY || undefined,
    xenLoadCommand: s.XEN_LOAD || undefined,
  };
  return {
    memoryStart: requireNumber(vars, 'MEMORY_START'),
    memoryEnd: requireNumber(vars, 'MEMORY_END'),
    loadCommand,
    bootCommand: (s.BOOT_CMD as ImageBuilderPlan['bootCommand'] | undefined) ?? 'booti',
    xen: s.XEN!,
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
    ...(s.DOM0_KERNEL && {
      dom0: {
        kernel: s.DOM0_KERNEL,
        ...(s.DOM0_RAMDISK && { ramdisk: s.DOM0_RAMDISK }),
        ...(s.DOM0_CMD && { commandLine: s.DOM0_CMD }),
        rootfsOnDisk: Boolean(s.DOM0_ROOTFS),
        ...(s.DOM0_LOAD && { loadCommand: s.DOM0_LOAD }),
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

/** Plan settings a profile has no field for yet, with the config option each comes from. */
const NOT_IN_PROFILES: Array<[keyof PlannedDomU, string]> = [
  ['noXenstore', 'DOMU_ENHANCED'],
  ['loadCommand', 'DOMU_LOAD'],
  ['staticEventChannels', 'DOMU_STATIC_EVTCHNS'],
  ['vcpuHardAffinity', 'DOMU_VCPU_HARD_AFFINITY'],
  ['vpl011', 'DOMU_VPL011'],
  ['nrSpis', 'DOMU_NR_SPIS'],
  ['grantVersion', 'DOMU_GRANT_VER'],
  ['grantFrames', 'DOMU_GRANT_FRAMES'],
  ['maptrackFrames', 'DOMU_MAPTRACK_FRAMES'],
  ['capabilities', 'DOMU_CAPS'],
  ['trapUnmappedAccesses', 'DOMU_TRAP_UNMAP'],
  ['sharedMemory', 'DOMU_SHARED_MEM'],
];

/** Refuses to make a profile that would boot without an option the config sets. */
function checkProfileCanHold(plan: ImageBuilderPlan): void {
  const options = [
    ...(plan.bootCommand === 'bootm' ? ['BOOT_CMD=bootm'] : []),
    ...(plan.xenPolicy ? ['XEN_POLICY'] : []),
    ...(plan.xenLoadCommand ? ['XEN_LOAD'] : []),
    ...(plan.dom0?.loadCommand ? ['DOM0_LOAD'] : []),
    ...(plan.staticHeap ? ['XEN_STATIC_HEAP'] : []),
    ...plan.domUs.flatMap((domU) => NOT_IN_PROFILES.filter(([key]) => domU[key] !== undefined).map(([, name]) => `${name}[${domU.index}]`)),
  ];
  if (options.length === 0) return;
  throw unsupported(
    options[0]!,
    `A profile cannot hold ${options.join(', ')} yet: the imported profile would boot without ${options.length > 1 ? 'them' : 'it'}.`,
    'Generate with `xen-pi-imager imagebuilder`, which writes these options, or remove them from the config to import it.',
  );
}

/** The same recipe as a profile: generating it gives the script uboot-script-gen gives (paths stay relative to the -d folder). */
export function planToProfile(
  plan: ImageBuilderPlan,
  extras: { extraCommands?: string; prefix?: string; name?: string } = {},
): ProfileInput {
  checkProfileCanHold(plan);
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
      bootCommand: plan.bootCommand === 'bootm' ? 'booti' : plan.bootCommand, // bootm was refused above
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
