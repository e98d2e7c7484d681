// Describes a Linux block device drivelist does not list (loop devices, some virtual disks) from sysfs and /proc/mounts.
import fs from 'node:fs';
import path from 'node:path';
import type { DriveInfo } from '../../../shared/drives/types';

const SYSTEM_MOUNTS = new Set(['/', '/boot', '/boot/efi', '/usr', '/var', '/home']);

function sys(name: string, file: string): string | undefined {
  try {
    return fs.readFileSync(`/sys/class/block/${name}/${file}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** undefined when `device` is not a block device. */
export function describeBlockDevice(device: string): DriveInfo | undefined {
  if (process.platform !== 'linux' || !fs.statSync(device, { throwIfNoEntry: false })?.isBlockDevice()) return undefined;
  const name = path.basename(fs.realpathSync(device));
  const sectors = Number(sys(name, 'size'));
  let mounts: { source: string; target: string }[] = [];
  try {
    mounts = fs
      .readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((line) => line.split(' '))
      .filter((parts) => parts.length > 2)
      .map(([source, target]) => ({ source: source ?? '', target: (target ?? '').replace(/\\040/g, ' ') }));
  } catch {
    // no /proc: no mount facts
  }
  const mine = mounts.filter(
    (m) =>
      m.source === device ||
      m.source.startsWith(device + 'p') ||
      (/^\d+$/.test(m.source.slice(device.length)) && m.source.startsWith(device)),
  );
  return {
    device,
    raw: device,
    description: sys(name, 'loop/backing_file') ?? sys(name, 'device/model') ?? name,
    size: Number.isFinite(sectors) ? sectors * 512 : null,
    isSystem: mine.some((m) => SYSTEM_MOUNTS.has(m.target)),
    isReadOnly: sys(name, 'ro') === '1',
    isRemovable: sys(name, 'removable') === '1',
    isCard: name.startsWith('mmcblk'),
    isUSB: false,
    isVirtual: name.startsWith('loop'),
    mountpoints: mine.map((m) => ({ path: m.target })),
  };
}
