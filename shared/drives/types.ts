// What the app knows about a drive: the writer's scanner fills it, the safety rules and the UI read it.

export interface DriveMountpoint {
  path: string;
  label?: string;
}

export interface DriveInfo {
  /** The device to open: /dev/sdb, /dev/disk2, \\.\PhysicalDrive1 (or an image file path). */
  device: string;
  /** The raw device when the OS has a faster one (/dev/rdisk2 on macOS); else the same as `device`. */
  raw: string;
  /** Vendor and model as the OS reports them ("Generic STORAGE DEVICE"). */
  description: string;
  /** Bytes; null when the OS does not say. */
  size: number | null;
  /** The drive the OS runs from (or holds its files): never written without a typed confirmation. */
  isSystem: boolean;
  isReadOnly: boolean;
  isRemovable: boolean;
  /** An SD/MMC card (reader slot or built-in). */
  isCard: boolean;
  isUSB: boolean;
  isVirtual: boolean;
  mountpoints: DriveMountpoint[];
  busType?: string;
}

/** The short name a user types to confirm a system drive: the device's last path part ("sda"). */
export function driveShortName(drive: Pick<DriveInfo, 'device'>): string {
  const parts = drive.device.split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] ?? drive.device;
}

/** "32 GB", "512 MB": decimal units, as card vendors print them on the label. */
export function formatDriveSize(bytes: number | null): string {
  if (bytes === null) return 'unknown size';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  const rounded = value >= 100 || unit === 0 ? Math.round(value) : Math.round(value * 10) / 10;
  return `${rounded} ${units[unit]}`;
}
