// Drive safety rules: every drive row gets the right statuses, and a system drive is never written without the typed name.
import { describe, expect, it } from 'vitest';
import {
  assertDriveWritable,
  driveStatuses,
  isPathOnMountpoint,
  isShownByDefault,
  LARGE_DRIVE_BYTES,
  sourceDrive,
  unconfirmedStatuses,
  writeBlockers,
} from '../../../shared/drives/safety';
import { driveShortName, formatDriveSize, type DriveInfo } from '../../../shared/drives/types';
import { ImagerError } from '../../../shared/errors';

function drive(overrides: Partial<DriveInfo> = {}): DriveInfo {
  return {
    device: '/dev/sdb',
    raw: '/dev/sdb',
    description: 'Generic SD reader',
    size: 32e9,
    isSystem: false,
    isReadOnly: false,
    isRemovable: true,
    isCard: true,
    isUSB: true,
    isVirtual: false,
    mountpoints: [],
    ...overrides,
  };
}

const codes = (d: DriveInfo, ctx = {}, all?: DriveInfo[]) => driveStatuses(d, ctx, all).map((s) => s.code);

describe('drive statuses', () => {
  it('gives an ordinary SD card no status at all', () => {
    expect(driveStatuses(drive(), { imageSize: 4e9 })).toEqual([]);
  });

  it('marks the system drive as an error unlocked only by typing its name', () => {
    const [status] = driveStatuses(drive({ device: '/dev/sda', isSystem: true }));
    expect(status).toMatchObject({ code: 'system', severity: 'error', override: 'typed' });
    expect(status?.reason).toContain('sda');
  });

  it('marks a drive too small for the image, with both sizes in the reason', () => {
    const [status] = driveStatuses(drive({ size: 2e9 }), { imageSize: 4.5e9 });
    expect(status).toMatchObject({ code: 'too-small', severity: 'error', override: 'never' });
    expect(status?.reason).toContain('2 GB');
    expect(status?.reason).toContain('4.5 GB');
  });

  it('accepts a drive exactly the size of the image', () => {
    expect(codes(drive({ size: 4e9 }), { imageSize: 4e9 })).toEqual([]);
  });

  it('marks a read-only (locked) card and says how to unlock it', () => {
    const [status] = driveStatuses(drive({ isReadOnly: true }));
    expect(status).toMatchObject({ code: 'read-only', severity: 'error', override: 'never' });
    expect(status?.reason).toMatch(/lock/);
  });

  it('warns about drives over 128 GB and asks for a confirmation', () => {
    expect(codes(drive({ size: LARGE_DRIVE_BYTES }))).toEqual([]);
    const [status] = driveStatuses(drive({ size: 256e9 }));
    expect(status).toMatchObject({ code: 'large', severity: 'warning', override: 'confirm' });
  });

  it('warns when the size is unknown', () => {
    expect(driveStatuses(drive({ size: null }), { imageSize: 1e9 })).toEqual([
      expect.objectContaining({ code: 'size-unknown', severity: 'warning', override: 'none' }),
    ]);
  });

  it('marks the drive that holds the source image, by the longest mountpoint', () => {
    const system = drive({ device: '/dev/sda', isSystem: true, mountpoints: [{ path: '/' }] });
    const usb = drive({ device: '/dev/sdc', mountpoints: [{ path: '/media/me/USB' }] });
    const card = drive({ device: '/dev/sdb', mountpoints: [{ path: '/media/me/bootfs' }] });
    const all = [system, usb, card];
    expect(sourceDrive(all, '/media/me/USB/raspios.img.xz')?.device).toBe('/dev/sdc');
    expect(sourceDrive(all, '/home/me/raspios.img')?.device).toBe('/dev/sda');
    expect(codes(usb, { sourcePath: '/media/me/USB/raspios.img.xz' }, all)).toEqual(['source']);
    expect(codes(card, { sourcePath: '/media/me/USB/raspios.img.xz' }, all)).toEqual([]);
    expect(codes(system, { sourcePath: '/home/me/x.img' }, all)).toEqual(['system', 'source']);
  });

  it('compares mountpoints by path parts, and Windows paths without case', () => {
    expect(isPathOnMountpoint('/media/ab/x.img', '/media/a')).toBe(false);
    expect(isPathOnMountpoint('/media/a/x.img', '/media/a/')).toBe(true);
    expect(isPathOnMountpoint('D:\\images\\x.img', 'd:\\')).toBe(true);
    expect(isPathOnMountpoint('E:\\x.img', 'D:\\')).toBe(false);
  });

  it('lists the most severe status first', () => {
    expect(codes(drive({ isSystem: true, isReadOnly: true, size: 500e9 }))).toEqual(['system', 'read-only', 'large']);
  });

  it('hides system drives unless the user asks for all', () => {
    expect(isShownByDefault(drive({ isSystem: true }))).toBe(false);
    expect(isShownByDefault(drive())).toBe(true);
  });
});

describe('write confirmation', () => {
  const system = drive({ device: '/dev/nvme0n1', isSystem: true });

  it('never writes a system drive without its typed name', () => {
    expect(() => assertDriveWritable(system, {})).toThrow(ImagerError);
    expect(() => assertDriveWritable(system, {}, { systemDriveName: 'sda' })).toThrow(/nvme0n1/);
    expect(() => assertDriveWritable(system, {}, { largeDrive: true })).toThrow(ImagerError);
    expect(writeBlockers(system, {}, { systemDriveName: 'nvme0n1' })).toEqual([]);
    expect(writeBlockers(system, {}, { systemDriveName: '/dev/nvme0n1' })).toEqual([]);
  });

  it('says what to type in the refusal', () => {
    try {
      assertDriveWritable(system, {});
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'DRIVE_REFUSED', subject: '/dev/nvme0n1' });
      expect((error as ImagerError).hint).toContain('--yes-system-drive nvme0n1');
    }
  });

  it('lets a large drive through after a click, but nothing lets a too-small one through', () => {
    const large = drive({ size: 1e12 });
    expect(writeBlockers(large, {}).map((s) => s.code)).toEqual(['large']);
    expect(writeBlockers(large, {}, { largeDrive: true })).toEqual([]);
    const small = drive({ size: 1e9, isSystem: true });
    expect(writeBlockers(small, { imageSize: 2e9 }, { systemDriveName: 'sdb', largeDrive: true }).map((s) => s.code)).toEqual([
      'too-small',
    ]);
  });

  it('lifts the statuses a drive list showed by the same rule the writer applies', () => {
    const shown = driveStatuses(drive({ device: '/dev/sdb', isSystem: true, size: 1e12 }));
    expect(unconfirmedStatuses({ device: '/dev/sdb' }, shown, { systemDriveName: 'sdb' }).map((s) => s.code)).toEqual(['large']);
    expect(unconfirmedStatuses({ device: '/dev/sdb' }, shown, { systemDriveName: ' /dev/sdb ', largeDrive: true })).toEqual([]);
    expect(unconfirmedStatuses({ device: '/dev/sdb' }, shown, { systemDriveName: 'sda', largeDrive: true }).map((s) => s.code)).toEqual([
      'system',
    ]);
  });
});

describe('drive names and sizes', () => {
  it('uses the device name users see in lsblk', () => {
    expect(driveShortName({ device: '/dev/mmcblk0' })).toBe('mmcblk0');
    expect(driveShortName({ device: '\\\\.\\PhysicalDrive2' })).toBe('PhysicalDrive2');
  });

  it('prints sizes in decimal units like card labels', () => {
    expect(formatDriveSize(31_914_983_424)).toBe('31.9 GB');
    expect(formatDriveSize(512e6)).toBe('512 MB');
    expect(formatDriveSize(null)).toBe('unknown size');
  });
});
