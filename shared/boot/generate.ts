// From a profile (and facts about its files) to every generated boot file as plain data: name -> bytes, plus previews and a memory map.
import { boards, consoleUart } from '../boards';
import type { Profile } from '../profile/schema';
import { parseNumber } from './address';
import { configTxtWantedFor, mergeConfigTxt } from './config-txt';
import { stage1Script, type Stage1Network } from './stage1';
import {
  DEFAULT_DOM0_COMMAND_LINE,
  dom0CommandLine,
  generateStage2,
  type BootComponent,
  type MemoryMapEntry,
  type Stage2DomU,
  type Stage2Input,
  type Stage2Result,
} from './stage2';
import { writeScriptImage } from './script-image';
import { tftpTransferFor } from './tftp-transfer';
import { checkDom0KernelVersion } from '../xen-versions';
import type { XenFacts } from './detect';

/** What the caller read from a file (shared code reads no files). */
export interface ComponentFacts {
  size: number;
  /** The first bytes (64 KiB is plenty). */
  head: Uint8Array;
  /** For gzip files: the first bytes once decompressed. */
  gunzippedHead?: Uint8Array;
  /** The kernel's "Linux version" release, when found in the file. */
  linuxVersion?: string;
  /** When the file is a Xen binary: its series and schedulers. */
  xen?: XenFacts;
}

/** Where a file goes: the card's FAT boot partition, or the TFTP server's root folder. */
export type Destination = 'boot-partition' | 'tftp-root';

export interface GeneratedFile {
  name: string;
  bytes: Uint8Array;
  /** Human-readable content (the script text; the config.txt fragment). */
  preview: string;
  destination: Destination;
  description: string;
}

/** A file the profile names that must be copied next to the scripts, under `target`. */
export interface ComponentCopy {
  role: string;
  /** The JSON path of the profile field naming the file ($.xen.binary, $.domUs[0].kernel...). */
  field: string;
  /** The path as the profile gives it (the key of the components record). */
  source: string;
  /** Name relative to the destination root, as the scripts load it. */
  target: string;
  destination: Destination;
}

export interface BootFiles {
  files: GeneratedFile[];
  components: ComponentCopy[];
  memoryMap: MemoryMapEntry[];
  stage2: Stage2Result;
  warnings: string[];
}

export interface GenerateOptions {
  /** Script image timestamp: SOURCE_DATE_EPOCH when set, else now (see scriptTimestamp). */
  timestamp: number;
}

const textOf = (bytes: string) => new TextEncoder().encode(bytes);

/** The name a file gets in the TFTP root / boot partition: a relative path stays as it is, anything else becomes its base name. */
export function targetName(path: string): string {
  const normal = path.replace(/\\/g, '/');
  const relative = !normal.startsWith('/') && !/^[A-Za-z]:/.test(normal) && !normal.split('/').includes('..');
  return relative ? normal.replace(/^\.\//, '') : normal.slice(normal.lastIndexOf('/') + 1);
}

/**
 * The Xen command line a profile asks for: its own when given, else built from console and Dom0 settings. `sched=null`
 * (one vCPU per core, least overhead) only when the Xen binary is known to have that scheduler: Debian's has not.
 */
export function xenCommandLineFor(profile: Profile, xen?: XenFacts): string {
  if (profile.xen.commandLine) return profile.xen.commandLine;
  const uart = consoleUart(boards[profile.board], profile.console.uart);
  const words = [`console=dtuart dtuart=${uart.dtuart}`];
  if (profile.console.syncConsole) words.push('sync_console');
  if (profile.dom0) words.push(`dom0_mem=${profile.dom0.memoryMb}M dom0_max_vcpus=${profile.dom0.vcpus}`);
  words.push('bootscrub=0 vwfi=native');
  if (xen?.schedulers.includes('null')) words.push('sched=null');
  if (profile.console.logLevel !== 'default') words.push(`loglvl=${profile.console.logLevel}`);
  if (profile.console.guestLogLevel !== 'default') words.push(`guest_loglvl=${profile.console.guestLogLevel}`);
  if (profile.xen.extraArgs.trim()) words.push(profile.xen.extraArgs.trim());
  return words.join(' ');
}

/** The U-Boot command that fetches files: tftpb, or the board's card command. */
export function loadCommandFor(profile: Profile): string {
  return profile.boot.loadCommand || (profile.boot.mode === 'tftp' ? 'tftpb' : boards[profile.board].sdLoadCommand);
}

function componentOf(path: string, field: string, components: Record<string, ComponentFacts>): BootComponent {
  const facts = components[path];
  if (!facts) throw new Error(`No facts were given for ${path}: the caller must read every file the profile names.`);
  return {
    path: targetName(path),
    size: facts.size,
    head: facts.head,
    ...(facts.gunzippedHead && { gunzippedHead: facts.gunzippedHead }),
    field,
  };
}

/** Dom0's command line as the profile gives it, with root= and rootwait when its root is on the card. */
function profileDom0CommandLine(dom0: NonNullable<Profile['dom0']>, board: Profile['board']): string | undefined {
  if (!dom0.rootOnCard) return dom0.commandLine;
  // The board says which partition (ImageBuilder's guess from `load mmc 0:1` names U-Boot's device, not Linux's),
  // and rootwait: without it the kernel looks for the root before the SD driver has found the card, and panics.
  const given = dom0.commandLine || DEFAULT_DOM0_COMMAND_LINE;
  const withRoot = /(^|\s)root=/.test(given) ? given : `${given} root=${boards[board].rootPartition}`;
  return /(^|\s)rootwait(\s|=|$)/.test(withRoot) ? withRoot : `${withRoot} rootwait`;
}

/** The command line Dom0's Linux boots with (what stage 2 writes into xen,dom0-bootargs); undefined without Dom0. */
export function dom0CommandLineFor(profile: Profile): string | undefined {
  if (!profile.dom0) return undefined;
  const commandLine = profileDom0CommandLine(profile.dom0, profile.board);
  return dom0CommandLine({ ...(commandLine !== undefined && { commandLine }), rootfsOnDisk: false }, loadCommandFor(profile));
}

type ComponentGetter = (path: string, field: string) => BootComponent;

function dom0Input(profile: Profile, get: ComponentGetter): Stage2Input['dom0'] {
  const dom0 = profile.dom0;
  if (!dom0) return undefined;
  const commandLine = profileDom0CommandLine(dom0, profile.board);
  return {
    kernel: get(dom0.kernel, '$.dom0.kernel'),
    ...(dom0.ramdisk && { ramdisk: get(dom0.ramdisk, '$.dom0.ramdisk') }),
    ...(commandLine !== undefined && { commandLine }),
    rootfsOnDisk: false,
  };
}

/** The ImageBuilder-level input a profile stands for. */
export function stage2InputFor(profile: Profile, components: Record<string, ComponentFacts>): Stage2Input {
  const get: ComponentGetter = (path, field) => componentOf(path, field, components);
  const loadCommand = loadCommandFor(profile);
  const dom0 = dom0Input(profile, get);
  return {
    memoryStart: parseNumber(profile.boot.memoryStart)!,
    memoryEnd: parseNumber(profile.boot.memoryEnd)!,
    scriptAddress: parseNumber(profile.boot.stage2Address)!,
    loadCommand,
    bootCommand: profile.boot.bootCommand,
    xen: get(profile.xen.binary, '$.xen.binary'),
    xenCommandLine: xenCommandLineFor(profile, components[profile.xen.binary]?.xen),
    ...(dom0 && { dom0 }),
    domUs: profile.domUs.map((domU, i): Stage2DomU => {
      const { kernel, ramdisk, passthroughDtb, staticMemory, name: _name, ...settings } = domU;
      return {
        ...settings,
        kernel: get(kernel, `$.domUs[${i}].kernel`),
        ...(ramdisk && { ramdisk: get(ramdisk, `$.domUs[${i}].ramdisk`) }),
        ...(passthroughDtb && { passthroughDtb: get(passthroughDtb, `$.domUs[${i}].passthroughDtb`) }),
        ...(staticMemory && {
          staticMemory: staticMemory.map((bank) => ({ base: parseNumber(bank.base)!, size: parseNumber(bank.size)! })),
        }),
      };
    }),
    ...(profile.deviceTreeSource === 'firmware' ? { firmwareDeviceTree: true } : { deviceTree: get(profile.deviceTree, '$.deviceTree') }),
    overlays: profile.overlays.map((overlay, i) => get(overlay, `$.overlays[${i}]`)),
    ...(profile.boot.extraCommands && { extraCommands: profile.boot.extraCommands }),
    ...(profile.boot.pathPrefix && { prefix: profile.boot.pathPrefix }),
  };
}

function stage1Network(profile: Profile): Stage1Network | undefined {
  const network = profile.boot.network;
  if (!network) return undefined;
  if (network.method === 'dhcp') return { method: 'dhcp', ...(network.serverIp && { serverIp: network.serverIp }) };
  return {
    method: 'static',
    serverIp: network.serverIp,
    boardIp: network.boardIp,
    ...(network.netmask && { netmask: network.netmask }),
    ...(network.gateway && { gateway: network.gateway }),
  };
}

function scriptFiles(
  baseName: string,
  text: string,
  address: number,
  destination: Destination,
  what: string,
  profile: Profile,
  options: GenerateOptions,
): GeneratedFile[] {
  const image = writeScriptImage(text, {
    loadAddress: address,
    timestamp: options.timestamp,
    ...(profile.output.scriptImageName && { name: profile.output.scriptImageName }),
  });
  return [
    { name: `${baseName}.source`, bytes: textOf(text), preview: text, destination, description: `${what} (source)` },
    {
      name: `${baseName}.scr`,
      bytes: image,
      preview: text,
      destination,
      description: `${what} (U-Boot script image, loaded at 0x${address.toString(16).toUpperCase()})`,
    },
  ];
}

/** Every generated file of a profile, the components to copy beside them, the memory map and warnings. */
export function generateBootFiles(profile: Profile, components: Record<string, ComponentFacts>, options: GenerateOptions): BootFiles {
  const board = boards[profile.board];
  const stage2 = generateStage2(stage2InputFor(profile, components));
  const stage2Where: Destination = profile.boot.mode === 'tftp' ? 'tftp-root' : 'boot-partition';
  const stage2File = `${profile.boot.pathPrefix ? `${profile.boot.pathPrefix}/` : ''}${profile.output.stage2Name}.scr`;
  const stage1 = stage1Script({
    mode: profile.boot.mode,
    ...(profile.boot.network && { network: stage1Network(profile)! }),
    tftp: tftpTransferFor(profile),
    sdLoadCommand: loadCommandFor(profile),
    stage2Address: stage2.scriptAddress,
    stage2Name: stage2File,
    stage1Address: board.scriptAddress,
  });
  const files = [
    ...scriptFiles(
      profile.output.stage1Name,
      stage1,
      board.scriptAddress,
      'boot-partition',
      'Stage 1: network or card setup, then stage 2',
      profile,
      options,
    ),
    ...scriptFiles(
      profile.output.stage2Name,
      stage2.text,
      stage2.scriptAddress,
      stage2Where,
      'Stage 2: loads Xen, Dom0 and the device tree, then boots Xen',
      profile,
      options,
    ),
  ];
  if (board.usesConfigTxt && profile.output.writeConfigTxt) {
    const fragment = mergeConfigTxt(undefined, configTxtWantedFor(profile)).text;
    const whole = isFreshCard(profile);
    files.push({
      name: 'config.txt',
      bytes: textOf(fragment),
      preview: fragment,
      destination: 'boot-partition',
      description: whole
        ? 'Raspberry Pi firmware settings: the whole config.txt of the fresh card'
        : 'Raspberry Pi firmware settings to merge into the base image’s config.txt',
    });
  }
  const copies = componentCopies(profile, stage2Where);
  return {
    files,
    components: copies,
    memoryMap: stage2.memoryMap,
    stage2,
    warnings: [...stage2.notices, ...kernelWarnings(profile, components)],
  };
}

/** Firmware files go to the card's root, overlays (…/overlays/x.dtbo) into overlays/ where the firmware looks. */
export function firmwareTarget(source: string): string {
  const parts = source.replace(/\\/g, '/').split('/');
  const name = parts.pop()!;
  return parts[parts.length - 1] === 'overlays' ? `overlays/${name}` : name;
}

/** The app builds the whole card (MBR, FAT32 boot partition, firmware, config.txt written whole) when no base image is named. */
export function isFreshCard(profile: Profile): boolean {
  return !profile.baseImage && boards[profile.board].usesConfigTxt;
}

/** Every file a profile names, with the name the scripts load it by. */
export function componentCopies(
  profile: Profile,
  where: Destination = profile.boot.mode === 'tftp' ? 'tftp-root' : 'boot-partition',
): ComponentCopy[] {
  const entries: Array<[role: string, source: string | undefined, field: string]> = [
    ['xen', profile.xen.binary, '$.xen.binary'],
    ['dom0-kernel', profile.dom0?.kernel, '$.dom0.kernel'],
    ['dom0-ramdisk', profile.dom0?.ramdisk, '$.dom0.ramdisk'],
    ...profile.domUs.flatMap((d, i): Array<[string, string | undefined, string]> => [
      [`domU${i}-kernel`, d.kernel, `$.domUs[${i}].kernel`],
      [`domU${i}-ramdisk`, d.ramdisk, `$.domUs[${i}].ramdisk`],
      [`domU${i}-passthrough-dtb`, d.passthroughDtb, `$.domUs[${i}].passthroughDtb`],
    ]),
    ...profile.overlays.map((o, i): [string, string, string] => [`overlay${i}`, o, `$.overlays[${i}]`]),
    // the firmware's own tree comes with the firmware files, not beside the scripts
    ['device-tree', profile.deviceTreeSource === 'firmware' ? undefined : profile.deviceTree, '$.deviceTree'],
  ];
  const prefix = profile.boot.pathPrefix ? `${profile.boot.pathPrefix}/` : '';
  const copies: ComponentCopy[] = entries
    .filter((entry): entry is [string, string, string] => Boolean(entry[1]))
    .map(([role, source, field]) => ({ role, field, source, target: prefix + targetName(source), destination: where }));
  if (profile.ubootBinary && boards[profile.board].usesConfigTxt) {
    copies.push({
      role: 'u-boot',
      field: '$.ubootBinary',
      source: profile.ubootBinary,
      target: 'u-boot.bin',
      destination: 'boot-partition',
    });
  }
  // A fresh card has no firmware of its own; a base image (Raspberry Pi OS) keeps its own, and its own tree.
  if (isFreshCard(profile)) {
    profile.firmware.forEach((source, i) =>
      copies.push({
        role: `firmware${i}`,
        field: `$.firmware[${i}]`,
        source,
        target: firmwareTarget(source),
        destination: 'boot-partition',
      }),
    );
  }
  return copies;
}

/** The Dom0 kernel's version against what the board needs: a warning when it is older. */
export function kernelWarnings(profile: Profile, components: Record<string, ComponentFacts>): string[] {
  const release = profile.dom0 ? components[profile.dom0.kernel]?.linuxVersion : undefined;
  const check = checkDom0KernelVersion(release, profile.board);
  return check.severity === 'warning' ? [check.message] : [];
}
