// Stage 2 (boot2.scr): the U-Boot script that loads Xen, Dom0, DomUs and the device tree, exactly as ImageBuilder 2023.2 writes it.
import { type ErrorCode, ImagerError } from '../errors';
import { ALIGN_2M, alignUp, hexAddress, splitHalves } from './address';
import { detectFile } from './detect';
import { type KernelImageArch, UIMAGE_HEADER_SIZE } from './script-image';
import { eventChannelLines, eventChannelPhandles, PhandleCounter } from './static-evtchns';
import {
  domainCapabilities,
  sharedMemoryLines,
  sharedMemoryWords,
  splitValues,
  vcpuLines,
  words,
  type DomUDeviceTreeOptions,
} from './domu-properties';

/** One file the script loads: where the script finds it, and the facts the caller read from it (shared code reads no files). */
export interface BootComponent {
  /** Path written on the load line, relative to the TFTP root or boot partition, before any prefix. */
  path: string;
  /** Size in bytes. */
  size: number;
  /** The first bytes (64 KiB is plenty). */
  head: Uint8Array;
  /** For a gzip file, the first bytes once decompressed (the caller gunzips: shared code has no zlib). */
  gunzippedHead?: Uint8Array;
  /** The JSON path of the profile field naming this file, when a profile does: its errors name that field, not the role. */
  field?: string;
}

export interface StaticMemoryBank {
  base: number;
  size: number;
}

export interface Stage2DomU extends DomUDeviceTreeOptions {
  kernel: BootComponent;
  ramdisk?: BootComponent;
  passthroughDtb?: BootComponent;
  /** Default `console=ttyAMA0`, or empty without vpl011. */
  commandLine?: string;
  /** The virtual PL011 UART (`vpl011`); default true. */
  vpl011?: boolean;
  /** Default 512. */
  memoryMb?: number;
  /** Default 1. */
  vcpus?: number;
  /** `xen,enhanced "enabled"` (PV drivers). Default: when Dom0 exists. */
  enhanced?: boolean;
  /** Without `enhanced`: `xen,enhanced "no-xenstore"` (PV interfaces without Xenstore, DOMU_ENHANCED=2). */
  noXenstore?: boolean;
  staticMemory?: StaticMemoryBank[];
  /** Only with static memory; default true. */
  directMap?: boolean;
  /** Cache colours "start-end". */
  colors?: string;
  viommu?: boolean;
  /** Not started at boot (created later from Dom0): only its passthrough paths are marked. */
  noBoot?: boolean;
  /** A rootfs on disk instead of a ramdisk: ImageBuilder skips such DomUs at boot. */
  rootfsOnDisk?: boolean;
  /** Host device-tree nodes handed to this DomU: each gets `xen,passthrough`. */
  passthroughPaths?: string[];
  /** The boot-time CPU pool (its index in `cpuPools`) this DomU runs in. */
  cpupool?: number;
  /** DOMU_LOAD[n]: loads this DomU's files instead of `loadCommand`. */
  loadCommand?: string;
}

/** A CPU of the host tree: its node under /cpus, and the phandle it already has, if any. */
export interface PoolCpu {
  /** `/cpus/cpu@1` */
  path: string;
  phandle?: number;
}

/** A boot-time CPU pool (Xen's `xen,cpupool` node under /chosen): its CPUs and, when given, its scheduler. */
export interface CpuPool {
  cpus: PoolCpu[];
  scheduler?: string;
}

export interface Stage2Dom0 {
  kernel: BootComponent;
  ramdisk?: BootComponent;
  /** Default `console=hvc0 earlycon=xen earlyprintk=xen clk_ignore_unused`. */
  commandLine?: string;
  /** Root filesystem on a disk partition: `root=` is derived from the load command (mmc/scsi). */
  rootfsOnDisk?: boolean;
  /** DOM0_LOAD: loads the kernel and ramdisk instead of `loadCommand` (and names the root partition). */
  loadCommand?: string;
}

export interface Stage2Input {
  memoryStart: number;
  memoryEnd: number;
  /** Overrides ImageBuilder's own choice, max(memoryStart + 2 MiB, 0xC00000): the board's stage-2 address. */
  scriptAddress?: number;
  /** `tftpb`, `load mmc 0:1`, ... */
  loadCommand: string;
  /** XEN_LOAD: loads Xen, its XSM policy and the device tree instead of `loadCommand`. */
  xenLoadCommand?: string;
  /** `bootm` loads `<xen>.ub` (Xen as a U-Boot legacy kernel image, which the caller writes: see `xenImage`) instead of Xen. */
  bootCommand?: 'booti' | 'bootm' | 'none';
  xen: BootComponent;
  /** Whole Xen command line; when absent the ImageBuilder default is built from the Dom0 memory and vCPUs. */
  xenCommandLine?: string;
  /** Default 1500 (MB), only for the default Xen command line. */
  dom0MemoryMb?: number;
  /** Default 1, only for the default Xen command line. */
  dom0Vcpus?: number;
  xenColors?: string;
  dom0Colors?: string;
  /** XEN_POLICY: an XSM (FLASK) policy Xen loads at boot, as a `xen,xsm-policy` module under /chosen. */
  xenPolicy?: BootComponent;
  /** Absent with DomUs: "true dom0less". */
  dom0?: Stage2Dom0;
  domUs?: Stage2DomU[];
  /** The tree Xen boots with, loaded into the last slot; absent with `firmwareDeviceTree`. */
  deviceTree?: BootComponent;
  /**
   * Boot with the tree the Raspberry Pi firmware handed U-Boot (`${fdt_addr}`: its memory, MAC address and overlay
   * edits kept) instead of loading one: it is copied into the last slot, so the memory map holds as for a loaded one.
   */
  firmwareDeviceTree?: boolean;
  overlays?: BootComponent[];
  /** Raw U-Boot commands placed before the boot command. */
  extraCommands?: string;
  /** Prepended (with `/`) to every load path. */
  prefix?: string;
  /** Boot-time CPU pools; DomUs join one with `cpupool`. */
  cpuPools?: CpuPool[];
  /** XEN_STATIC_HEAP: "base size ..." host memory Xen keeps for its heap (`xen,static-heap` under /chosen). */
  staticHeap?: string;
}

export interface MemoryMapEntry {
  /** 'dom0-kernel', 'dom0-ramdisk', 'domU0-kernel', 'xen', 'overlay0', 'device-tree', 'stage2-script'... */
  role: string;
  file: string;
  address: number;
  /** Bytes loaded (the file size). */
  size: number;
  /** Bytes reserved before the next file: max(size, arm64 image_size). */
  span: number;
  /** address + span. */
  end: number;
}

export interface Stage2Result {
  text: string;
  /** Where stage 2 itself is loaded. */
  scriptAddress: number;
  memoryMap: MemoryMapEntry[];
  /** The first free 2 MiB boundary after the device tree. */
  nextFree: number;
  xenCommandLine: string;
  dom0CommandLine: string | undefined;
  /** Lines ImageBuilder prints while it works (dom0less notice, skipped DomUs). */
  notices: string[];
  /** The DomUs left out (root file system on disk), each with the notice printed for it. */
  skippedDomUs: Array<{ index: number; notice: string }>;
  /** With `bootm`: the legacy image the script loads instead of Xen, to be written next to Xen (`writeKernelImage`). */
  xenImage?: { file: string; address: number; arch: KernelImageArch };
}

export const DEFAULT_DOM0_COMMAND_LINE = 'console=hvc0 earlycon=xen earlyprintk=xen clk_ignore_unused';
export const DEFAULT_DOMU_COMMAND_LINE = 'console=ttyAMA0';
export const DEFAULT_DOM0_MEMORY_MB = 1500;
export const DEFAULT_DOMU_MEMORY_MB = 512;
const LOWEST_SCRIPT_ADDRESS = 0xc00000;

/** ImageBuilder's exit status for every failure it reports. */
export const IMAGEBUILDER_FAILURE_STATUS = 1;

export function stage2Error(code: ErrorCode, subject: string, message: string, hint: string, imageBuilderMessage: string): ImagerError {
  return new ImagerError({ code, subject, message, hint, details: { exitStatus: IMAGEBUILDER_FAILURE_STATUS, imageBuilderMessage } });
}

/** The Xen command line ImageBuilder uses when none is given; three optional words follow, so empty ones leave trailing spaces. */
export function defaultXenCommandLine(input: Pick<Stage2Input, 'dom0MemoryMb' | 'dom0Vcpus' | 'xenColors' | 'dom0Colors'>): string {
  const base = `console=dtuart dtuart=serial0 dom0_mem=${input.dom0MemoryMb ?? DEFAULT_DOM0_MEMORY_MB}M dom0_max_vcpus=${input.dom0Vcpus ?? 1} bootscrub=0 vwfi=native sched=null`;
  const optional = [input.xenColors ? `xen_colors=${input.xenColors}` : '', input.dom0Colors ? `dom0_colors=${input.dom0Colors}` : '', ''];
  return [base, ...optional].join(' ');
}

/** Drops Dom0's words for a Xen without Dom0, as ImageBuilder's bash substitution does: split into words, then cut each word from "dom0" on. */
export function removeDom0Words(commandLine: string): string {
  return commandLine
    .split(/[ \t\n]+/)
    .filter((word) => word !== '')
    .map((word) => {
      const at = word.indexOf('dom0');
      return at < 0 ? word : word.slice(0, at);
    })
    .join(' ');
}

/** The root device ImageBuilder derives from a load command such as `load mmc 0:1` (partition + 1). */
export function rootDeviceFor(loadCommand: string): string {
  const colon = loadCommand.lastIndexOf(':');
  const beforeColon = colon < 0 ? loadCommand : loadCommand.slice(0, colon);
  const device = beforeColon.slice(beforeColon.lastIndexOf(' ') + 1);
  const firstColon = loadCommand.indexOf(':');
  const partition = firstColon < 0 ? loadCommand : loadCommand.slice(firstColon + 1);
  if (!device || !partition || !/^\d+$/.test(device) || !/^\d+$/.test(partition)) {
    throw stage2Error(
      'ROOT_DEVICE_UNKNOWN',
      'dom0.commandLine',
      `The root partition cannot be derived from the load command "${loadCommand}".`,
      'Put root=... in the Dom0 command line yourself, or load from a device such as "load mmc 0:1".',
      'Could not parse device and partition.',
    );
  }
  const next = Number(partition) + 1;
  if (/mmc/.test(loadCommand)) return `/dev/mmcblk${device}p${next}`;
  if (/scsi/.test(loadCommand)) return `/dev/sd${String.fromCharCode(97 + Number(device))}${next}`;
  throw stage2Error(
    'ROOT_DEVICE_UNKNOWN',
    'dom0.commandLine',
    `Only mmc and scsi load commands tell where the root partition is; "${loadCommand}" does not.`,
    'Put root=... in the Dom0 command line yourself.',
    'Only mmc and scsi are supported for automatically setting the root partition.',
  );
}

/** Dom0's command line: the default when empty, plus `root=` when it has none (ram0, or the partition after the boot one). */
export function dom0CommandLine(dom0: Pick<Stage2Dom0, 'commandLine' | 'rootfsOnDisk'>, loadCommand: string): string {
  const given = dom0.commandLine || DEFAULT_DOM0_COMMAND_LINE;
  if (/root=/.test(given)) return given;
  return `${given} root=${dom0.rootfsOnDisk ? rootDeviceFor(loadCommand) : '/dev/ram0'}`;
}

type ExpectedType = 'executable' | 'cpio archive' | 'Device Tree Blob' | 'SE Linux policy';
const typePattern: Record<ExpectedType, RegExp> = {
  executable: /executable|data/,
  'cpio archive': /cpio archive/,
  'Device Tree Blob': /Device Tree Blob|data/,
  'SE Linux policy': /SE Linux policy/,
};
const typeWords: Record<ExpectedType, string> = {
  executable: 'a kernel or Xen binary (arm64 Image)',
  'cpio archive': 'a cpio archive (optionally gzip compressed)',
  'Device Tree Blob': 'a device tree blob (.dtb)',
  'SE Linux policy': "an XSM (FLASK) policy binary, such as Xen's xenpolicy-<version>",
};

/** ImageBuilder's `file -L | grep TYPE` check, gunzipping first where it does. */
export function checkComponentType(component: BootComponent, expected: ExpectedType, role: string, gunzipFirst: boolean): void {
  let detected = detectFile(component.head, component.size);
  if (gunzipFirst && detected.kind === 'gzip') {
    if (!component.gunzippedHead) return; // the caller could not decompress: nothing more to check
    detected = detectFile(component.gunzippedHead, Math.max(component.gunzippedHead.length, 1));
  }
  if (typePattern[expected].test(detected.description)) return;
  const shownType =
    expected === 'executable' ? 'executable\\|data' : expected === 'Device Tree Blob' ? 'Device Tree Blob\\|data' : expected;
  throw stage2Error(
    'WRONG_FILE_TYPE',
    component.field ?? role,
    `${component.path} is ${detected.description}, but the ${role.replace(/-/g, ' ')} must be ${typeWords[expected]}.`,
    `Pick ${typeWords[expected]} for the ${role.replace(/-/g, ' ')}.`,
    `Wrong file type ${component.path}. It should be ${shownType}, exiting.`,
  );
}

/** The bytes a file needs in memory: its size, or the arm64 header's image_size (BSS included) when larger. */
export function componentSpan(component: Pick<BootComponent, 'size' | 'head'>): number {
  const detected = detectFile(component.head, component.size);
  return detected.arm64 ? Math.max(component.size, detected.arm64.imageSize) : component.size;
}

/** Lays files out from a start address, each on the next 2 MiB boundary after the previous one's span. */
class Placement {
  readonly entries: MemoryMapEntry[] = [];
  readonly loadLines: string[] = [];
  constructor(
    public next: number,
    private readonly loadCommand: string,
    private readonly prefix: string | undefined,
  ) {}

  /** Loads `component` at the next boundary, with `loadCommand` when the file has its own (XEN_LOAD, DOM0_LOAD, DOMU_LOAD). */
  place(role: string, component: BootComponent, loadCommand = this.loadCommand, span = componentSpan(component)): MemoryMapEntry {
    const address = this.next;
    const entry = { role, file: component.path, address, size: component.size, span, end: address + span };
    this.entries.push(entry);
    const path = this.prefix ? `${this.prefix}/${component.path}` : component.path;
    this.loadLines.push(`${loadCommand} ${hexAddress(address)} ${path}`);
    this.next = alignUp(address + span, ALIGN_2M);
    return entry;
  }

  /** A slot the script fills itself (no load line): `size` bytes at the next boundary. */
  reserve(role: string, file: string, size: number): MemoryMapEntry {
    const entry = { role, file, address: this.next, size, span: size, end: this.next + size };
    this.entries.push(entry);
    this.next = alignUp(entry.end, ALIGN_2M);
    return entry;
  }
}

/** `reg` cells: high and low halves of address and size, each `0x%X` and a space (hence the space before `>`). */
function regCells(address: number, size: number): string {
  return [...splitHalves(address), ...splitHalves(size)].map((v) => `${hexAddress(v)} `).join('');
}

const stringList = (values: string[]) => values.map((v) => ` "${v}"`).join('');

function moduleNode(path: string, entry: MemoryMapEntry, compatible: string[], bootargs?: string): string[] {
  const node = `${path}/module${hexAddress(entry.address)}`;
  const lines = [
    `fdt mknod ${path} module${hexAddress(entry.address)}`,
    `fdt set ${node} compatible ${stringList(compatible)}`,
    `fdt set ${node} reg <${regCells(entry.address, entry.size)}>`,
  ];
  if (bootargs !== undefined) lines.push(`fdt set ${node} bootargs "${bootargs}"`);
  return lines;
}

/** Colours "a-b" as the bitmask ImageBuilder writes. */
function colourMask(colors: string): string {
  const [start, end] = colors.split('-').map((v) => Number.parseInt(v, 10));
  let mask = 0n;
  for (let bit = start ?? 0; bit <= (end ?? start ?? 0); bit++) mask |= 1n << BigInt(bit);
  return `0x${mask.toString(16)}`;
}

interface PlacedDomU {
  index: number;
  domU: Stage2DomU;
  kernel: MemoryMapEntry;
  ramdisk?: MemoryMapEntry;
  passthroughDtb?: MemoryMapEntry;
}

function domUMemoryKb(domU: Stage2DomU): number {
  if (domU.staticMemory?.length) {
    // With static allocation the domain's memory must equal its banks' total.
    return Math.floor(domU.staticMemory.reduce((sum, bank) => sum + bank.size, 0) / 1024);
  }
  return (domU.memoryMb ?? DEFAULT_DOMU_MEMORY_MB) * 1024;
}

function domULines(placed: PlacedDomU, hasDom0: boolean, evtchnPhandles: Map<string, string>): string[] {
  const { domU, index } = placed;
  const node = `/chosen/domU${index}`;
  const lines = [
    `fdt mknod /chosen domU${index}`,
    `fdt set ${node} compatible "xen,domain"`,
    `fdt set ${node} \\#address-cells <0x2>`,
    `fdt set ${node} \\#size-cells <0x2>`,
    `fdt set ${node} memory <0 ${domUMemoryKb(domU)}>`,
    `fdt set ${node} cpus <${domU.vcpus ?? 1}>`,
  ];
  if (domU.staticMemory?.length) {
    const cells = domU.staticMemory
      .flatMap((bank) => [bank.base, bank.size])
      .map((v) =>
        splitHalves(v)
          .map((half) => `0x${half.toString(16)}`)
          .join(' '),
      );
    lines.push(
      `fdt set ${node} \\#xen,static-mem-address-cells <0x2>`,
      `fdt set ${node} \\#xen,static-mem-size-cells <0x2>`,
      `fdt set ${node} xen,static-mem <${cells.join(' ')}>`,
    );
    if (domU.directMap ?? true) lines.push(`fdt set ${node} direct-map`);
  }
  const vpl011 = domU.vpl011 ?? true;
  if (vpl011) lines.push(`fdt set ${node} vpl011`);
  if (domU.nrSpis) lines.push(`fdt set ${node} nr_spis <${domU.nrSpis}>`);
  if (domU.enhanced ?? hasDom0) lines.push(`fdt set ${node} xen,enhanced "enabled"`);
  else if (domU.noXenstore) lines.push(`fdt set ${node} xen,enhanced "no-xenstore"`);
  lines.push(...newerDomULines(node, index, domU));
  if (domU.colors) lines.push(`fdt set ${node} colors <${colourMask(domU.colors)}>`);
  if (domU.viommu) lines.push(`fdt set ${node} viommu "smmuv3"`);
  if (domU.vcpuHardAffinity) lines.push(...vcpuLines(node, domU.vcpuHardAffinity));
  if (domU.staticEventChannels) lines.push(...eventChannelLines(node, index, domU.staticEventChannels, evtchnPhandles));
  const commandLine = domU.commandLine || (vpl011 ? DEFAULT_DOMU_COMMAND_LINE : '');
  lines.push(...moduleNode(node, placed.kernel, ['multiboot,kernel', 'multiboot,module'], commandLine));
  if (placed.ramdisk) lines.push(...moduleNode(node, placed.ramdisk, ['multiboot,ramdisk', 'multiboot,module']));
  if (placed.passthroughDtb) lines.push(...moduleNode(node, placed.passthroughDtb, ['multiboot,device-tree', 'multiboot,module']));
  return lines;
}

/** Grant-table limits, capabilities, unmapped-access traps and shared memory, in current ImageBuilder's order. */
function newerDomULines(node: string, index: number, domU: Stage2DomU): string[] {
  const lines: string[] = [];
  if (domU.grantVersion) lines.push(`fdt set ${node} max_grant_version <${domU.grantVersion}>`);
  if (domU.grantFrames) lines.push(`fdt set ${node} max_grant_frames <${domU.grantFrames}>`);
  if (domU.maptrackFrames) lines.push(`fdt set ${node} max_maptrack_frames <${domU.maptrackFrames}>`);
  if (domU.capabilities) {
    const caps = domainCapabilities(domU.capabilities);
    if (caps === undefined) {
      throw stage2Error(
        'IMAGEBUILDER_CONFIG',
        `DOMU_CAPS[${index}]`,
        `DOMU_CAPS[${index}]="${domU.capabilities}" is not a list of capabilities.`,
        'Join control, hardware, xenstore, dom0 or none with "|" (e.g. "control|hardware"), or give the bits as a number (1 control, 2 hardware, 4 xenstore).',
        `Invalid DOMU_CAPS[${index}] "${domU.capabilities}"`,
      );
    }
    lines.push(`fdt set ${node} capabilities <${caps}>`);
  }
  if (domU.trapUnmappedAccesses) lines.push(`fdt set ${node} trap-unmapped-accesses <${domU.trapUnmappedAccesses}>`);
  if (domU.sharedMemory) {
    const cells = splitValues(sharedMemoryWords(domU.sharedMemory));
    if (!cells) throw numbersError(`DOMU_SHARED_MEM[${index}]`, domU.sharedMemory, '"ID HOST-ADDRESS GUEST-ADDRESS SIZE"');
    lines.push(...sharedMemoryLines(node, domU.sharedMemory, cells));
  }
  return lines;
}

/** A value ImageBuilder would hand to bash arithmetic that is no number: it has no message of its own for it. */
export function numbersError(name: string, text: string, form: string): ImagerError {
  return new ImagerError({
    code: 'IMAGEBUILDER_CONFIG',
    subject: name,
    message: `${name}="${text}" has a word that is not a decimal or 0x-hex number.`,
    hint: `Write it as ${form}, each number in hex or decimal.`,
    details: { exitStatus: IMAGEBUILDER_FAILURE_STATUS },
  });
}

function staticHeapLines(staticHeap: string | undefined): string[] {
  if (!staticHeap) return [];
  const cells = splitValues(words(staticHeap));
  if (!cells) throw numbersError('XEN_STATIC_HEAP', staticHeap, '"base1 size1 base2 size2 ..."');
  return [`fdt set /chosen xen,static-heap <${cells.join(' ')}>`];
}

function passthroughLines(domUs: Stage2DomU[], index: number): string[] {
  return (domUs[index]!.passthroughPaths ?? []).map((path) => `fdt set ${path} xen,passthrough`);
}

/** The XSM policy module, named as current ImageBuilder names it (`xen-policy@` and the address without 0x). */
function policyLines(policy: MemoryMapEntry): string[] {
  const node = `/chosen/xen-policy@${hexAddress(policy.address).slice(2)}`;
  return [
    `fdt mknod /chosen ${node.slice('/chosen/'.length)}`,
    `fdt set ${node} compatible ${stringList(['xen,xsm-policy', 'xen,multiboot-module', 'multiboot,module'])}`,
    `fdt set ${node} reg <${regCells(policy.address, policy.size)}>`,
  ];
}

function dom0Lines(kernel: MemoryMapEntry, ramdisk: MemoryMapEntry | undefined, commandLine: string): string[] {
  const lines = [
    'fdt mknod /chosen dom0',
    `fdt set /chosen/dom0 compatible ${stringList(['xen,linux-zimage', 'xen,multiboot-module', 'multiboot,module'])}`,
    `fdt set /chosen/dom0 reg <${regCells(kernel.address, kernel.size)}>`,
    `fdt set /chosen xen,dom0-bootargs "${commandLine}"`,
  ];
  if (ramdisk) {
    lines.push(
      'fdt mknod /chosen dom0-ramdisk',
      `fdt set /chosen/dom0-ramdisk compatible ${stringList(['xen,linux-initrd', 'xen,multiboot-module', 'multiboot,module'])}`,
      `fdt set /chosen/dom0-ramdisk reg <${regCells(ramdisk.address, ramdisk.size)}>`,
    );
  }
  return lines;
}

/** The `xen,cpupool` nodes, phandles for CPUs that have none, and each DomU's `domain-cpupool`, as ImageBuilder writes them. */
function cpuPoolLines(input: Stage2Input, phandles: PhandleCounter): string[] {
  const phandleText = (value: number) => `0x${value.toString(16)}`;
  const lines: string[] = [];
  (input.cpuPools ?? []).forEach((pool, index) => {
    const cpuPhandles = pool.cpus.map((cpu) => {
      if (cpu.phandle !== undefined) return phandleText(cpu.phandle);
      const given = phandles.take();
      lines.push(`fdt set ${cpu.path} phandle <${given}>`);
      return given;
    });
    const node = `/chosen/cpupool_${index}`;
    const poolPhandle = phandles.take();
    lines.push(
      `fdt mknod /chosen cpupool_${index}`,
      `fdt set ${node} phandle <${poolPhandle}>`,
      `fdt set ${node} compatible "xen,cpupool"`,
      // every handle follows a space, the first one too (ImageBuilder's list starts with one)
      `fdt set ${node} cpupool-cpus <${cpuPhandles.map((h) => ` ${h}`).join('')}>`,
    );
    if (pool.scheduler) lines.push(`fdt set ${node} cpupool-sched "${pool.scheduler}"`);
    (input.domUs ?? []).forEach((domU, domUIndex) => {
      if (domU.cpupool === index) lines.push(`fdt set /chosen/domU${domUIndex} domain-cpupool <${poolPhandle}>`);
    });
  });
  return lines;
}

/** ImageBuilder's own stage-2 address: 2 MiB above the start of RAM, but never below 12 MiB. */
export function defaultScriptAddress(memoryStart: number): number {
  return Math.max(memoryStart + ALIGN_2M, LOWEST_SCRIPT_ADDRESS);
}

function checkInput(input: Stage2Input): void {
  if (!input.loadCommand.trim()) {
    throw stage2Error(
      'NO_LOAD_COMMAND',
      'loadCommand',
      'No load command is set, so the script cannot say how to fetch the files.',
      'Set LOAD_CMD in the config or pass -t (tftp, sd, scsi, usb or a U-Boot command).',
      'LOAD_CMD not set, either specify it in the config or set it with the -t option',
    );
  }
  if (!input.dom0 && !input.domUs?.length) {
    throw stage2Error(
      'NO_DOMAINS',
      'dom0.kernel',
      'Neither a Dom0 kernel nor any DomU is given: Xen would have nothing to boot.',
      'Give a Dom0 kernel, or at least one dom0less DomU.',
      'Neither dom0 or domUs are specified, exiting.',
    );
  }
}

function placeDomUs(input: Stage2Input, placement: Placement, notices: string[], skipped: Stage2Result['skippedDomUs']): PlacedDomU[] {
  const placed: PlacedDomU[] = [];
  (input.domUs ?? []).forEach((domU, index) => {
    if (domU.rootfsOnDisk || domU.noBoot) {
      if (!domU.noBoot) {
        const notice = `Skipping DomU[${index}]: cannot handle non-ramdisk rootfs for dom0less VMs.`;
        notices.push(notice);
        skipped.push({ index, notice });
      }
      return;
    }
    checkComponentType(domU.kernel, 'executable', `domU${index}-kernel`, true);
    const kernel = placement.place(`domU${index}-kernel`, domU.kernel, domU.loadCommand);
    let ramdisk: MemoryMapEntry | undefined;
    if (domU.ramdisk) {
      checkComponentType(domU.ramdisk, 'cpio archive', `domU${index}-ramdisk`, true);
      ramdisk = placement.place(`domU${index}-ramdisk`, domU.ramdisk, domU.loadCommand);
    }
    let passthroughDtb: MemoryMapEntry | undefined;
    if (domU.passthroughDtb) {
      checkComponentType(domU.passthroughDtb, 'Device Tree Blob', `domU${index}-passthrough-dtb`, true);
      passthroughDtb = placement.place(`domU${index}-passthrough-dtb`, domU.passthroughDtb, domU.loadCommand);
    }
    placed.push({ index, domU, kernel, ...(ramdisk && { ramdisk }), ...(passthroughDtb && { passthroughDtb }) });
  });
  return placed;
}

/** Generates stage 2 and its memory map; throws ImagerError (details.exitStatus = ImageBuilder's) on what ImageBuilder refuses. */
export function generateStage2(input: Stage2Input): Stage2Result {
  const notices: string[] = [];
  try {
    return generate(input, notices);
  } catch (error) {
    // ImageBuilder prints its notices as it goes: the ones before a failure come before its message
    if (!(error instanceof ImagerError) || notices.length === 0 || typeof error.details?.imageBuilderMessage !== 'string') throw error;
    const imageBuilderMessage = [...notices, error.details.imageBuilderMessage].join('\n');
    throw new ImagerError({ ...error.toJSON(), details: { ...error.details, imageBuilderMessage } });
  }
}

function generate(input: Stage2Input, notices: string[]): Stage2Result {
  checkInput(input);
  const skippedDomUs: Stage2Result['skippedDomUs'] = [];
  let xenCommandLine = input.xenCommandLine || defaultXenCommandLine(input);
  const dom0Command = input.dom0 ? dom0CommandLine(input.dom0, input.dom0.loadCommand ?? input.loadCommand) : undefined;
  if (!input.dom0) {
    notices.push('Dom0 kernel is not specified, continue with dom0less setup.');
    xenCommandLine = removeDom0Words(xenCommandLine);
  }
  const scriptAddress = input.scriptAddress ?? defaultScriptAddress(input.memoryStart);
  const placement = new Placement(scriptAddress + ALIGN_2M, input.loadCommand, input.prefix);

  let dom0Kernel: MemoryMapEntry | undefined;
  let dom0Ramdisk: MemoryMapEntry | undefined;
  if (input.dom0) {
    checkComponentType(input.dom0.kernel, 'executable', 'dom0-kernel', true);
    dom0Kernel = placement.place('dom0-kernel', input.dom0.kernel, input.dom0.loadCommand);
    if (input.dom0.ramdisk) {
      checkComponentType(input.dom0.ramdisk, 'cpio archive', 'dom0-ramdisk', true);
      dom0Ramdisk = placement.place('dom0-ramdisk', input.dom0.ramdisk, input.dom0.loadCommand);
    }
  }
  const domUs = placeDomUs(input, placement, notices, skippedDomUs);
  // Xen goes last of the binaries: U-Boot's secure boot expects the last PE image loaded to be the signed one.
  checkComponentType(input.xen, 'executable', 'xen', true);
  const bootm = input.bootCommand === 'bootm';
  const xenArch = xenImageArch(input.xen);
  // bootm moves Xen down over the header to the same address: Xen's BSS still needs its image_size from there
  const xen = bootm
    ? placement.place('xen', xenImageComponent(input.xen), input.xenLoadCommand, componentSpan(input.xen) + UIMAGE_HEADER_SIZE)
    : placement.place('xen', input.xen, input.xenLoadCommand);
  let xenPolicy: MemoryMapEntry | undefined;
  if (input.xenPolicy) {
    checkComponentType(input.xenPolicy, 'SE Linux policy', 'xen-policy', false);
    xenPolicy = placement.place('xen-policy', input.xenPolicy, input.xenLoadCommand);
  }
  const overlays = (input.overlays ?? []).map((overlay, i) => {
    checkComponentType(overlay, 'Device Tree Blob', `overlay${i}`, false);
    return placement.place(`overlay${i}`, overlay);
  });
  const deviceTree = placeDeviceTree(input, placement);
  // one count for the whole tree: the channels' endpoints first, then the CPU pools
  const phandles = new PhandleCounter();
  const evtchnPhandles = eventChannelPhandles(
    (input.domUs ?? []).map((domU) => domU.staticEventChannels),
    phandles,
    notices,
  );

  const lines = [
    ...placement.loadLines,
    ...(input.firmwareDeviceTree
      ? // U-Boot moves only the working tree: select the firmware's first
        ['fdt addr ${fdt_addr}', `fdt move \${fdt_addr} ${hexAddress(deviceTree.address)} ${hexAddress(deviceTree.size)}`]
      : [`fdt addr ${hexAddress(deviceTree.address)}`]),
    'fdt resize 1024',
    ...overlays.map((overlay) => `fdt apply ${hexAddress(overlay.address)}`),
    'fdt set /chosen \\#address-cells <0x2>',
    'fdt set /chosen \\#size-cells <0x2>',
    `fdt set /chosen xen,xen-bootargs "${xenCommandLine}"`,
    ...(xenPolicy ? policyLines(xenPolicy) : []),
    ...(dom0Kernel ? dom0Lines(dom0Kernel, dom0Ramdisk, dom0Command!) : []),
    ...(input.domUs ?? []).flatMap((_, index) => {
      const placed = domUs.find((d) => d.index === index);
      return [...passthroughLines(input.domUs!, index), ...(placed ? domULines(placed, Boolean(input.dom0), evtchnPhandles) : [])];
    }),
    ...cpuPoolLines(input, phandles),
    ...staticHeapLines(input.staticHeap),
    'setenv fdt_high 0xffffffffffffffff',
  ];
  let text = lines.join('\n') + '\n';
  if (input.extraCommands) text += input.extraCommands;
  text +=
    (input.bootCommand ?? 'booti') === 'none'
      ? `setenv host_kernel_addr ${hexAddress(xen.address)}\nsetenv host_fdt_addr ${hexAddress(deviceTree.address)}\n`
      : `${input.bootCommand ?? 'booti'} ${hexAddress(xen.address)} - ${hexAddress(deviceTree.address)}\n`;

  checkMemory(input, placement.next);
  return {
    text,
    scriptAddress,
    memoryMap: placement.entries,
    nextFree: placement.next,
    xenCommandLine,
    dom0CommandLine: dom0Command,
    notices,
    skippedDomUs,
    ...(bootm && { xenImage: { file: xen.file, address: xen.address, arch: xenArch } }),
  };
}

/** ImageBuilder's fixed test (`file -L $XEN` says ARM64 or Aarch64): an arm64 Image header, else 32-bit arm (a gzip Xen too). */
export function xenImageArch(xen: Pick<BootComponent, 'head' | 'size'>): KernelImageArch {
  return detectFile(xen.head, xen.size).kind === 'arm64-image' ? 'arm64' : 'arm';
}

/** `<xen>.ub` as the script loads it: Xen behind a 64-byte header (its span is Xen's, counted by the caller). */
function xenImageComponent(xen: BootComponent): BootComponent {
  return { ...xen, path: `${xen.path}.ub`, size: xen.size + UIMAGE_HEADER_SIZE };
}

/** The firmware's tree may grow by `fdt resize` and overlays; 1 MiB holds any Pi tree many times over. */
export const FIRMWARE_TREE_ROOM = 0x100000;

function placeDeviceTree(input: Stage2Input, placement: Placement): MemoryMapEntry {
  if (input.firmwareDeviceTree) return placement.reserve('device-tree', '${fdt_addr}', FIRMWARE_TREE_ROOM);
  if (!input.deviceTree) {
    throw stage2Error(
      'NO_DEVICE_TREE',
      'device-tree',
      'No device tree is given, and the firmware’s is not chosen either.',
      'Choose the device tree file, or boot with the tree the firmware hands U-Boot.',
      'DEVICE_TREE is not set, exiting.',
    );
  }
  checkComponentType(input.deviceTree, 'Device Tree Blob', 'device-tree', false);
  return placement.place('device-tree', input.deviceTree, input.xenLoadCommand);
}

function checkMemory(input: Stage2Input, nextFree: number): void {
  const spare = input.memoryEnd - nextFree - ALIGN_2M;
  if (spare < 0) {
    throw stage2Error(
      'NOT_ENOUGH_MEMORY',
      'memoryEnd',
      `The files need memory up to ${hexAddress(nextFree + ALIGN_2M)}, beyond the end of RAM at ${hexAddress(input.memoryEnd)} (${-spare} bytes short).`,
      'Use smaller files (a compressed ramdisk, fewer DomUs) or a larger memory end.',
      'Error, not enough memory to load all binaries',
    );
  }
}
