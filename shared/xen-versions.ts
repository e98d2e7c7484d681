// Xen releases that can run on a Raspberry Pi 4, as data, and the checks the wizard shows about versions.
import { boards, type BoardId } from './boards';
import { kernelMajorMinor } from './boot/detect';

export interface XenVersion {
  version: string;
  year: number;
  /** What changed for Arm / Raspberry Pi 4 users, in one or two sentences the wizard can show. */
  notes: string;
  /** Debian ships it as xen-hypervisor-<version>-arm64 in this release. */
  debian?: string;
}

export const MINIMUM_RPI4_XEN = '4.14';

export const xenVersions: XenVersion[] = [
  {
    version: '4.14',
    year: 2020,
    notes:
      "First release that boots on the Raspberry Pi 4: Dom0's memory is allocated low enough for the Pi's devices, which reach only the first 1 GiB by DMA.",
  },
  { version: '4.15', year: 2021, notes: 'Arm and dom0less fixes on top of 4.14; works on the Pi 4 the same way.' },
  { version: '4.16', year: 2021, notes: 'Dom0less DomUs can get static memory (fixed physical addresses, optionally direct-mapped).' },
  {
    version: '4.17',
    year: 2022,
    notes: 'Dom0less DomUs can use PV drivers from Dom0 (xen,enhanced) and static event channels. The version Debian 12 ships.',
    debian: 'bookworm',
  },
  {
    version: '4.18',
    year: 2023,
    notes: 'Device-tree overlays can be applied at runtime (xl dt-overlay); more dom0less work. Nothing changes for booting a Pi 4.',
  },
  { version: '4.19', year: 2024, notes: 'More dom0less and Arm firmware-interface work; nothing changes for booting a Pi 4.' },
  { version: '4.20', year: 2025, notes: 'Arm gains last-level-cache colouring (experimental); nothing changes for booting a Pi 4.' },
];

function versionParts(version: string): [number, number] | undefined {
  const match = /^(\d+)\.(\d+)/.exec(version.trim());
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

function compare(a: [number, number], b: [number, number]): number {
  return a[0] - b[0] || a[1] - b[1];
}

export type VersionSeverity = 'ok' | 'warning' | 'error';

export interface VersionCheck {
  severity: VersionSeverity;
  message: string;
}

/** Whether this Xen can boot the board; below 4.14 a Pi 4 cannot run Dom0, and the reason is explained. */
export function checkXenVersion(version: string, board: BoardId): VersionCheck {
  const parts = versionParts(version);
  if (!parts)
    return { severity: 'warning', message: `"${version}" is not a Xen version number such as 4.17; the version could not be checked.` };
  const minimum = versionParts(MINIMUM_RPI4_XEN)!;
  if (board === 'rpi4' && compare(parts, minimum) < 0) {
    return {
      severity: 'error',
      message: `Xen ${version} cannot boot a Raspberry Pi 4: before Xen 4.14 Dom0's memory could land above the 1 GiB the Pi's DMA devices reach, so Dom0 fails to use its disks and network. Use Xen 4.14 or newer.`,
    };
  }
  if (!xenVersions.some((known) => compare(versionParts(known.version)!, parts) === 0)) {
    return {
      severity: 'warning',
      message: `Xen ${version} is not one of the releases this imager knows (4.14 to ${xenVersions.at(-1)!.version}); it should work, but it was not tried.`,
    };
  }
  return { severity: 'ok', message: `Xen ${version} runs on the ${boards[board].name}.` };
}

/** Warns when a Dom0 kernel read from the Image is older than the board needs (5.9 on the Pi 4). */
export function checkDom0KernelVersion(release: string | undefined, board: BoardId): VersionCheck {
  if (!release)
    return { severity: 'ok', message: 'The Dom0 kernel version could not be read from the Image; make sure it is 5.9 or newer.' };
  const parts = kernelMajorMinor(release);
  const minimum = boards[board].minimumDom0Kernel;
  if (parts && compare(parts, minimum) < 0) {
    return {
      severity: 'warning',
      message: `Dom0 Linux ${release} is older than ${minimum.join('.')}: kernels before 5.9 lack the DMA address-translation fixes Xen on the Pi 4 needs, so devices may fail (5.4-rc4 was reported to work).`,
    };
  }
  return { severity: 'ok', message: `Dom0 Linux ${release} is recent enough.` };
}

/**
 * What a Xen version Debian's archive offers means on a board, in one or two sentences: whether it can boot it (the
 * 4.14 rule), what the release brought, and the Dom0 kernel it needs.
 */
export function xenOfferMeaning(version: string, board: BoardId): VersionCheck {
  const check = checkXenVersion(version, board);
  if (check.severity === 'error') return check;
  const known = xenVersions.find((v) => v.version === version);
  const kernel = `Dom0 needs Linux ${boards[board].minimumDom0Kernel.join('.')} or newer; the Components step reads the kernel’s version.`;
  const parts = [check.message, known?.notes, kernel].filter(Boolean);
  return { severity: check.severity, message: parts.join(' ') };
}
