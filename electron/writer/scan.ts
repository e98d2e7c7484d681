// Lists drives with drivelist and reports attach/detach by polling, the way balenaEtcher's scanner does.
import * as drivelist from 'drivelist';
import type { DriveInfo } from '../../shared/drives/types';

export type DrivelistDrive = drivelist.Drive;

export function toDriveInfo(drive: DrivelistDrive): DriveInfo {
  return {
    device: drive.device,
    raw: drive.raw,
    description: drive.description || drive.device,
    size: drive.size,
    isSystem: drive.isSystem,
    isReadOnly: drive.isReadOnly,
    isRemovable: drive.isRemovable,
    isCard: Boolean(drive.isCard),
    isUSB: Boolean(drive.isUSB),
    isVirtual: Boolean(drive.isVirtual),
    mountpoints: drive.mountpoints.map((m) => ({ path: m.path, ...(m.label ? { label: m.label } : {}) })),
    ...(drive.busType ? { busType: drive.busType } : {}),
  };
}

/** The drivelist shape etcher-sdk's BlockDevice wants, for a drive we know only as DriveInfo (loop devices). */
export function toDrivelistDrive(drive: DriveInfo): DrivelistDrive {
  return {
    enumerator: 'xen-pi-imager',
    busType: (drive.busType ?? 'UNKNOWN') as DrivelistDrive['busType'],
    busVersion: null,
    device: drive.device,
    devicePath: null,
    raw: drive.raw,
    description: drive.description,
    error: null,
    size: drive.size,
    blockSize: 512,
    logicalBlockSize: 512,
    mountpoints: drive.mountpoints.map((m) => ({ path: m.path, label: m.label ?? null }) as drivelist.Mountpoint),
    isReadOnly: drive.isReadOnly,
    isSystem: drive.isSystem,
    isVirtual: drive.isVirtual,
    isRemovable: drive.isRemovable,
    // drivelist's types only allow null for these two.
    isCard: null,
    isSCSI: false,
    isUSB: drive.isUSB,
    isUAS: null,
    partitionTableType: null,
  };
}

export async function listDrives(): Promise<{ drives: DriveInfo[]; raw: DrivelistDrive[] }> {
  const raw = await drivelist.list();
  // Drives without a size are empty readers or zram swap: nothing to write.
  const usable = raw.filter((drive) => drive.size !== null || drive.isRemovable === false);
  return { drives: usable.map(toDriveInfo), raw };
}

export interface DriveChange {
  drives: DriveInfo[];
  attached: string[];
  detached: string[];
}

/** Polls the drive list and calls `onChange` when a drive appears, disappears or changes (mounts, size). */
export class DriveWatcher {
  private timer: NodeJS.Timeout | undefined;
  private known = new Map<string, string>();
  private running = false;
  latest: DriveInfo[] = [];

  constructor(
    private readonly onChange: (change: DriveChange) => void,
    private readonly onError: (error: Error) => void,
    private readonly intervalMs = 2000,
  ) {}

  async start(): Promise<DriveInfo[]> {
    this.running = true;
    await this.poll();
    return this.latest;
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async poll(): Promise<void> {
    try {
      const { drives } = await listDrives();
      this.update(drives);
    } catch (error) {
      this.onError(error as Error);
    }
    if (this.running) this.timer = setTimeout(() => void this.poll(), this.intervalMs);
  }

  private update(drives: DriveInfo[]): void {
    const next = new Map(drives.map((drive) => [drive.device, JSON.stringify(drive)]));
    const attached = [...next.keys()].filter((device) => !this.known.has(device));
    const detached = [...this.known.keys()].filter((device) => !next.has(device));
    const changed = [...next].some(([device, text]) => this.known.has(device) && this.known.get(device) !== text);
    const first = this.latest.length === 0 && this.known.size === 0;
    this.known = next;
    this.latest = drives;
    if (attached.length || detached.length || changed || first) this.onChange({ drives, attached: first ? [] : attached, detached });
  }
}
