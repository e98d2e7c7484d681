// Validates a profile: migrates it, checks its shape (zod), then the rules that span fields; every problem carries its JSON path.
import type { z } from 'zod';
import { boards, domainMemoryLimit, ramLabel, XEN_RESERVED_MIB } from '../boards';
import { ALIGN_2M, hexAddress, parseNumber } from '../boot/address';
import { bundleBoot, type BootProblem } from '../boot/bundle';
import { BAUD_RATES, DEFAULT_BAUD } from '../boot/config-txt';
import { componentCopies, isFreshCard, type ComponentFacts } from '../boot/generate';
import { checkStage2Placement } from '../boot/stage1';
import { SAFE_BLOCKSIZE } from '../boot/tftp-transfer';
import { ImagerError } from '../errors';
import { hostAddressProblem, isLoopback, LIMITED_BROADCAST, netmaskProblem, sameSubnet } from '../network/ipv4';
import { checkXenVersion } from '../xen-versions';
import { fieldProblemSentence } from './field-words';
import { migrateProfile } from './migrate';
import { profileSchema, type Profile } from './schema';

/** A problem of a profile, at the JSON path of the field to change ($.boot.network.serverIp, $.domUs[0].kernel). */
export type ProfileProblem = BootProblem;

export interface ProfileValidation {
  /** The migrated, defaulted profile when its shape is valid (even if cross-field errors remain). */
  profile?: Profile;
  problems: ProfileProblem[];
  migratedFrom?: number;
  /** True when no problem is an error. */
  ok: boolean;
}

export function jsonPath(segments: ReadonlyArray<PropertyKey>): string {
  return (
    '$' +
    segments
      .map((s) =>
        typeof s === 'number' ? `[${s}]` : /^[A-Za-z_$][\w$]*$/.test(String(s)) ? `.${String(s)}` : `[${JSON.stringify(String(s))}]`,
      )
      .join('')
  );
}

function zodProblems(issues: z.core.$ZodIssue[]): ProfileProblem[] {
  return issues.map((issue) => {
    const path = jsonPath(issue.path);
    return { path, severity: 'error', message: fieldProblemSentence(path, issue) };
  });
}

/** What the Pi 4's firmware needs at the card's root before anything of ours runs. */
export const PI4_FIRMWARE_FILES = ['start4.elf', 'fixup4.dat'];

const STAGE1_BOUND = 4096; // stage 1 is a few lines; 4 KiB bounds its image generously

function addressProblems(profile: Profile): ProfileProblem[] {
  const problems: ProfileProblem[] = [];
  const board = boards[profile.board];
  const start = parseNumber(profile.boot.memoryStart)!;
  const end = parseNumber(profile.boot.memoryEnd)!;
  const stage2 = parseNumber(profile.boot.stage2Address)!;
  if (end <= start)
    problems.push({
      path: '$.boot.memoryEnd',
      severity: 'error',
      message: `The memory end ${profile.boot.memoryEnd} is not above the memory start ${profile.boot.memoryStart}.`,
    });
  if (stage2 < start || stage2 + 2 * ALIGN_2M > end) {
    problems.push({
      path: '$.boot.stage2Address',
      severity: 'error',
      message: `Stage 2 at ${profile.boot.stage2Address} and the first file 2 MiB above it must lie inside memory (${profile.boot.memoryStart} to ${profile.boot.memoryEnd}).`,
    });
  }
  if (start < board.ramBase)
    problems.push({
      path: '$.boot.memoryStart',
      severity: 'error',
      message: `The ${board.name}'s RAM starts at ${hexAddress(board.ramBase)}, above ${profile.boot.memoryStart}.`,
    });
  try {
    checkStage2Placement(board.scriptAddress, STAGE1_BOUND, stage2);
  } catch (error) {
    problems.push({ path: '$.boot.stage2Address', severity: 'error', message: (error as Error).message });
  }
  return problems;
}

function networkProblems(profile: Profile): ProfileProblem[] {
  const network = profile.boot.network;
  if (profile.boot.mode !== 'tftp') return [];
  if (!network)
    return [
      {
        path: '$.boot.network',
        severity: 'error',
        message: 'Network boot needs network settings: a static address or DHCP, and the TFTP server.',
      },
    ];
  if (network.method === 'dhcp') return [];
  const problems: ProfileProblem[] = [];
  const netmask = network.netmask && netmaskProblem(network.netmask);
  if (netmask) problems.push({ path: '$.boot.network.netmask', severity: 'error', message: netmask });
  const usableMask = netmask ? undefined : network.netmask;
  const board = hostAddressProblem(network.boardIp, usableMask);
  const severityOf = (address: string) => (isLoopback(address) ? 'warning' : 'error');
  if (board)
    problems.push({ path: '$.boot.network.boardIp', severity: severityOf(network.boardIp), message: `The board’s address: ${board}` });
  // the server and the gateway are checked against the board's network only when they are on it
  const onBoardNetwork = (address: string) =>
    usableMask && sameSubnet(address, network.boardIp, usableMask) === false ? null : usableMask;
  const server =
    network.serverIp === LIMITED_BROADCAST ? undefined : hostAddressProblem(network.serverIp, onBoardNetwork(network.serverIp));
  if (server)
    problems.push({
      path: '$.boot.network.serverIp',
      severity: severityOf(network.serverIp),
      message: `The TFTP server’s address: ${server}`,
    });
  const gateway = network.gateway && hostAddressProblem(network.gateway, onBoardNetwork(network.gateway));
  if (gateway)
    problems.push({ path: '$.boot.network.gateway', severity: severityOf(network.gateway!), message: `The gateway’s address: ${gateway}` });
  if (network.serverIp === network.boardIp)
    problems.push({ path: '$.boot.network.boardIp', severity: 'error', message: "The board cannot have the TFTP server's address." });
  if (
    network.netmask &&
    sameSubnet(network.serverIp, network.boardIp, network.netmask) === false &&
    !network.gateway &&
    network.serverIp !== '255.255.255.255'
  ) {
    problems.push({
      path: '$.boot.network.serverIp',
      severity: 'warning',
      message: `The TFTP server ${network.serverIp} is outside the board's subnet (${network.boardIp}/${network.netmask}) and no gateway is set.`,
    });
  }
  if (network.gateway && network.netmask && sameSubnet(network.gateway, network.boardIp, network.netmask) === false) {
    problems.push({
      path: '$.boot.network.gateway',
      severity: 'warning',
      message: `The gateway ${network.gateway} is outside the board's subnet.`,
    });
  }
  return problems;
}

/** TFTP settings some U-Boots or servers do not take as asked (U-Boot caps or ignores them; it never fails on them). */
function tftpTransferProblems(profile: Profile): ProfileProblem[] {
  const tftp = profile.boot.tftp;
  if (profile.boot.mode !== 'tftp' || !tftp) return [];
  const problems: ProfileProblem[] = [];
  if (tftp.server === 'external' && (tftp.windowsize ?? 1) > 1) {
    problems.push({
      path: '$.boot.tftp.windowsize',
      severity: 'warning',
      message:
        `Windowsize ${tftp.windowsize} with another TFTP server: U-Boot 2020.10 to 2023.01 (Debian bookworm's) falls out of step with a server that resends whole windows, ` +
        'and every later window then waits for a timeout. Keep 1 unless this server and U-Boot are known to work together, or use the built-in server.',
    });
  }
  if (profile.board === 'qemu-virt' && (tftp.windowsize ?? 0) > 16) {
    problems.push({
      path: '$.boot.tftp.windowsize',
      severity: 'warning',
      message:
        `Windowsize ${tftp.windowsize} on QEMU virt: U-Boot’s virtio-net driver holds 32 packets, and a window of 32 timed out there (U-Boot printed "T T T"). ` +
        'Keep 16 or less; the Pi 4’s own network driver (GENET) holds 256.',
    });
  }
  if ((tftp.blocksize ?? SAFE_BLOCKSIZE) > SAFE_BLOCKSIZE) {
    problems.push({
      path: '$.boot.tftp.blocksize',
      severity: 'warning',
      message:
        `Block size ${tftp.blocksize}: a U-Boot without IP reassembly (CONFIG_IP_DEFRAG; Debian's and the Raspberry Pi builds) lowers it to ${SAFE_BLOCKSIZE}, ` +
        `and lwIP U-Boots reassemble at most 4 fragments. ${SAFE_BLOCKSIZE} is the largest that fits one Ethernet frame.`,
    });
  }
  return problems;
}

/** The board's RAM size, and Dom0 plus the DomUs that boot against what U-Boot declares on it (less what Xen keeps). */
function memoryProblems(profile: Profile, booted: Profile['domUs']): ProfileProblem[] {
  const board = boards[profile.board];
  if (profile.ramMb !== undefined && !board.ramSizesMiB.includes(profile.ramMb)) {
    const sizes = board.ramSizesMiB.map(ramLabel).join(', ');
    return [
      {
        path: '$.ramMb',
        severity: 'error',
        message: `A ${board.name} has ${sizes} of RAM, not ${profile.ramMb} MB: choose the size printed on your board.`,
      },
    ];
  }
  const { ramMiB, declaredMiB, limitMiB } = domainMemoryLimit(board, profile.ramMb);
  const dom0 = profile.dom0?.memoryMb ?? 0;
  const domUs = booted.reduce((sum, d) => sum + d.memoryMb, 0);
  if (dom0 + domUs <= limitMiB) return [];
  const which =
    profile.ramMb === undefined
      ? `a ${ramLabel(ramMiB)} ${board.name} (the profile names no RAM size; set ramMb)`
      : `a ${ramLabel(ramMiB)} ${board.name}`;
  const asked = domUs > 0 ? `Dom0 (${dom0} MB) and the DomUs (${domUs} MB) need ${dom0 + domUs} MB` : `Dom0 needs ${dom0} MB`;
  const fix =
    profile.dom0 && dom0 > 0 && limitMiB - domUs >= 128
      ? `Lower Dom0's memory to ${limitMiB - domUs} MB or less`
      : "Lower the domains' memory";
  return [
    {
      path: profile.dom0 ? '$.dom0.memoryMb' : '$.domUs',
      severity: 'error',
      message: `${asked}, but U-Boot declares ${declaredMiB} MiB on ${which}, and Xen keeps about ${XEN_RESERVED_MIB} MiB of it: Xen would stop with "Failed to allocate requested dom0 memory". ${fix}, or choose the board's real RAM size.`,
    },
  ];
}

/** The console's rate and the device-tree source: what only some boards can do. */
function consoleAndTreeProblems(profile: Profile): ProfileProblem[] {
  const problems: ProfileProblem[] = [];
  const board = boards[profile.board];
  if (!BAUD_RATES.includes(profile.console.baud)) {
    problems.push({
      path: '$.console.baud',
      severity: 'error',
      message: `${profile.console.baud} is not a baud rate the Pi's UARTs offer: choose one of ${BAUD_RATES.join(', ')}.`,
    });
  } else if (!board.usesConfigTxt && profile.console.baud !== DEFAULT_BAUD) {
    problems.push({
      path: '$.console.baud',
      severity: 'warning',
      message: `The ${board.name} has no config.txt to set the rate in; its console runs at whatever the terminal uses, so ${profile.console.baud} changes nothing.`,
    });
  }
  if (profile.deviceTreeSource === 'firmware') {
    if (!board.usesConfigTxt) {
      problems.push({
        path: '$.deviceTreeSource',
        severity: 'error',
        message: `The ${board.name} has no Raspberry Pi firmware to hand U-Boot a tree: choose the device tree file instead.`,
      });
    } else if (isFreshCard(profile) && !profile.firmware.some((f) => /\.dtb$/i.test(f))) {
      problems.push({
        path: '$.firmware',
        severity: 'error',
        message:
          "Booting with the firmware's tree needs one among the firmware files (bcm2711-rpi-4-b.dtb), which a fresh card has no other way to get: add it, or load the device tree file instead.",
      });
    }
  }
  return problems;
}

/** The profile's own Xen options ask for the null scheduler (the default line has it only when the Xen binary does). */
function asksNullScheduler(profile: Profile): boolean {
  return /(^|\s)sched=null(\s|$)/.test(profile.xen.commandLine ?? profile.xen.extraArgs);
}

function domainProblems(profile: Profile): ProfileProblem[] {
  const problems: ProfileProblem[] = [];
  const board = boards[profile.board];
  const booted = profile.domUs.filter((d) => !d.noBoot);
  if (!profile.dom0 && booted.length === 0)
    problems.push({
      path: '$.dom0',
      severity: 'error',
      message: 'Neither Dom0 nor a DomU that boots is configured: Xen would have nothing to run.',
    });
  const vcpus = (profile.dom0?.vcpus ?? 0) + booted.reduce((sum, d) => sum + d.vcpus, 0);
  if (profile.dom0 && profile.dom0.vcpus > board.cpus) {
    problems.push({
      path: '$.dom0.vcpus',
      severity: 'error',
      message: `Dom0 asks for ${profile.dom0.vcpus} vCPUs but the ${board.name} has ${board.cpus} cores: give it ${board.cpus} or fewer.`,
    });
  }
  booted.forEach((domU, index) => {
    if (domU.vcpus > board.cpus)
      problems.push({
        path: `$.domUs[${index}].vcpus`,
        severity: 'error',
        message: `This DomU asks for ${domU.vcpus} vCPUs but the ${board.name} has ${board.cpus} cores: give it ${board.cpus} or fewer.`,
      });
  });
  if (vcpus > board.cpus && asksNullScheduler(profile) && !problems.some((p) => p.path.endsWith('.vcpus'))) {
    problems.push({
      path: '$.domUs',
      severity: 'warning',
      message: `The domains have ${vcpus} vCPUs but the ${board.name} has ${board.cpus} cores; Xen's null scheduler needs one core per vCPU.`,
    });
  }
  problems.push(...memoryProblems(profile, booted));
  const version = checkXenVersion(profile.xen.version, profile.board);
  if (version.severity !== 'ok') problems.push({ path: '$.xen.version', severity: version.severity, message: version.message });
  if (isFreshCard(profile) && profile.console.uart === 'pl011' && !profile.firmware.some((f) => /(^|\/)disable-bt\.dtbo$/.test(f))) {
    problems.push({
      path: '$.console.uart',
      severity: 'warning',
      message:
        'The PL011 console needs overlays/disable-bt.dtbo, which a fresh card does not have (Debian does not package the Raspberry Pi overlays): use the mini UART, or add disable-bt.dtbo to the firmware files, or write onto a Raspberry Pi OS base image.',
    });
  }
  if (profile.board === 'qemu-virt' && profile.console.uart === 'mini') {
    problems.push({ path: '$.console.uart', severity: 'warning', message: 'QEMU virt has no mini UART; its PL011 at 0x9000000 is used.' });
  }
  return problems;
}

/** With the files' facts: generate once, so types, memory fit and kernel version are checked exactly as generation will. */
function componentProblems(profile: Profile, components: Record<string, ComponentFacts>): ProfileProblem[] {
  return bundleBoot(profile, components, { timestamp: 0 }).problems;
}

/** The rules that span fields of a parsed profile (addresses, network, domains, memory, console); no files needed. */
export function profileRuleProblems(profile: Profile): ProfileProblem[] {
  return [
    ...addressProblems(profile),
    ...networkProblems(profile),
    ...tftpTransferProblems(profile),
    ...domainProblems(profile),
    ...consoleAndTreeProblems(profile),
  ];
}

/** The base name of a profile path, for messages. */
const fileName = (file: string) => file.replace(/\\/g, '/').split('/').pop() ?? file;

/**
 * What the files are, against the fields that name them: a Linux kernel given as Xen, Xen given as a kernel (the two
 * swapped), a Xen of another series than the profile says, and a `sched=` this Xen was built without.
 */
export function componentIdentityProblems(profile: Profile, components: Record<string, ComponentFacts>): ProfileProblem[] {
  const problems: ProfileProblem[] = [];
  const xen = components[profile.xen.binary];
  const kernel = profile.dom0 ? components[profile.dom0.kernel] : undefined;
  const swapped = Boolean(xen?.linuxVersion && kernel?.xen);
  const swapHint = swapped ? ' The Xen and Dom0 kernel files look swapped: exchange them.' : '';
  if (xen?.linuxVersion) {
    problems.push({
      path: '$.xen.binary',
      severity: 'error',
      message: `${fileName(profile.xen.binary)} is a Linux kernel (Linux ${xen.linuxVersion}), not Xen: U-Boot would start Linux instead of the hypervisor.${swapHint || ' Choose the Xen binary (Debian: /boot/xen-4.17-arm64 from xen-hypervisor-4.17-arm64).'}`,
    });
  }
  if (profile.dom0 && kernel?.xen) {
    problems.push({
      path: '$.dom0.kernel',
      severity: 'error',
      message: `${fileName(profile.dom0.kernel)} is Xen${kernel.xen.series ? ` ${kernel.xen.series}` : ''}, not a Linux kernel: Xen cannot boot itself as Dom0.${swapHint || ' Choose the Dom0 Linux kernel (vmlinuz).'}`,
    });
  }
  profile.domUs.forEach((domU, index) => {
    if (!components[domU.kernel]?.xen) return;
    problems.push({
      path: `$.domUs[${index}].kernel`,
      severity: 'error',
      message: `${fileName(domU.kernel)} is Xen, not a guest kernel: choose the DomU's Linux kernel (or Zephyr) image.`,
    });
  });
  if (xen?.xen?.series && versionSeries(profile.xen.version) && versionSeries(profile.xen.version) !== xen.xen.series) {
    problems.push({
      path: '$.xen.version',
      severity: 'warning',
      message: `${fileName(profile.xen.binary)} is Xen ${xen.xen.series}, but the profile says ${profile.xen.version}: the checks and notes follow the version you set, so set it to ${xen.xen.series}.`,
    });
  }
  if (xen?.xen) problems.push(...schedulerProblems(profile, xen.xen.schedulers));
  return problems;
}

function versionSeries(version: string): string | undefined {
  return /^(\d+\.\d+)/.exec(version.trim())?.[1];
}

/** A `sched=` the Xen binary lacks: Xen prints "Could not find scheduler" and falls back to its default. */
function schedulerProblems(profile: Profile, schedulers: string[]): ProfileProblem[] {
  const own = profile.xen.commandLine
    ? { path: '$.xen.commandLine', line: profile.xen.commandLine }
    : { path: '$.xen.extraArgs', line: profile.xen.extraArgs };
  const asked = /(?:^|\s)sched=(\S+)/.exec(own.line)?.[1];
  if (!asked || schedulers.length === 0 || schedulers.includes(asked)) return [];
  return [
    {
      path: own.path,
      severity: 'warning',
      message: `This Xen has no "${asked}" scheduler (it has ${schedulers.join(', ')}): it would print "Could not find scheduler: ${asked}" and use its default. Remove sched=${asked}, or choose ${schedulers.map((name) => `sched=${name}`).join(' or ')}.`,
    },
  ];
}

/** Migrates, parses and checks a profile; `components` (facts of the files it names) enables the memory-fit and type checks. */
export function validateProfile(raw: unknown, components?: Record<string, ComponentFacts>): ProfileValidation {
  let migrated: { profile: unknown; migratedFrom?: number };
  try {
    migrated = migrateProfile(raw);
  } catch (error) {
    if (!(error instanceof ImagerError)) throw error;
    return { problems: [{ path: error.subject ?? '$', severity: 'error', message: error.message }], ok: false };
  }
  const parsed = profileSchema.safeParse(migrated.profile);
  const from = migrated.migratedFrom !== undefined ? { migratedFrom: migrated.migratedFrom } : {};
  if (!parsed.success) return { problems: zodProblems(parsed.error.issues), ok: false, ...from };
  const profile = parsed.data;
  const problems = profileRuleProblems(profile);
  if (components) problems.push(...componentIdentityProblems(profile, components));
  const filesKnown = components && componentCopies(profile).every((copy) => copy.role === 'u-boot' || components[copy.source]);
  if (components && filesKnown && !problems.some((p) => p.severity === 'error')) problems.push(...componentProblems(profile, components));
  return { profile, problems, ok: !problems.some((p) => p.severity === 'error'), ...from };
}
