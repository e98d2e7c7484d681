// A FAT file system inside a file or block device at a byte offset, driven by js-fatfs with synchronous disk I/O.
import fs from 'node:fs';
import * as FatFs from 'js-fatfs';
import { ImagerError } from '../../../shared/errors';
import type { ImageOverlay } from './overlay';

const SECTOR = 512;
const CHUNK = 1 << 20;

/** Where the FAT volume sits: a file or block device, and the byte range inside it. */
export interface FatRegion {
  path: string;
  offset: number;
  size: number;
  /** Writes land here instead of in the file, and reads see them: the file stays untouched. */
  overlay?: ImageOverlay;
}

export interface FatEntry {
  /** Path inside the volume, with forward slashes and no leading slash ("overlays/x.dtbo"). */
  path: string;
  size: number;
  directory: boolean;
}

const RESULT_TEXT: Record<number, string> = {
  [FatFs.FR_DISK_ERR]: 'a read or write of the disk failed',
  [FatFs.FR_INT_ERR]: 'the file system is inconsistent',
  [FatFs.FR_NOT_READY]: 'the disk is not ready',
  [FatFs.FR_NO_FILE]: 'no such file',
  [FatFs.FR_NO_PATH]: 'no such folder',
  [FatFs.FR_INVALID_NAME]: 'the name is not valid on FAT',
  [FatFs.FR_DENIED]: 'the volume is full or the entry is read-only',
  [FatFs.FR_EXIST]: 'the name already exists',
  [FatFs.FR_WRITE_PROTECTED]: 'the disk is write-protected',
  [FatFs.FR_NO_FILESYSTEM]: 'there is no FAT file system here',
  [FatFs.FR_MKFS_ABORTED]: 'the size does not fit a FAT16 or FAT32 file system',
  [FatFs.FR_NOT_ENOUGH_CORE]: 'out of memory',
  [FatFs.FR_INVALID_PARAMETER]: 'an invalid parameter was given',
};

export function fatResultText(result: number): string {
  return RESULT_TEXT[result] ?? `FatFs error ${result}`;
}

/** Synchronous sector I/O on one region of a file descriptor; the first error is kept for the report. */
class RegionDisk implements FatFs.DiskIO {
  lastError: Error | undefined;

  constructor(
    private readonly fd: number,
    private readonly region: FatRegion,
    private readonly writable: boolean,
  ) {}

  initialize() {
    return 0;
  }

  status() {
    return this.writable ? 0 : FatFs.STA_PROTECT;
  }

  read(ff: FatFs.FatFs, _pdrv: number, buff: number, sector: number, count: number) {
    try {
      const length = count * SECTOR;
      const at = this.region.offset + sector * SECTOR;
      const got = fs.readSync(this.fd, ff.HEAPU8, buff, length, at);
      if (got < length) ff.HEAPU8.fill(0, buff + got, buff + length);
      this.region.overlay?.apply(ff.HEAPU8, at, length, buff);
      return FatFs.RES_OK;
    } catch (error) {
      this.lastError = error as Error;
      return FatFs.RES_ERROR;
    }
  }

  write(ff: FatFs.FatFs, _pdrv: number, buff: number, sector: number, count: number) {
    if (!this.writable) return FatFs.RES_WRPRT;
    try {
      const length = count * SECTOR;
      if (this.region.overlay) {
        this.region.overlay.write(ff.HEAPU8, buff, length, this.region.offset + sector * SECTOR);
        return FatFs.RES_OK;
      }
      let done = 0;
      while (done < length) {
        done += fs.writeSync(this.fd, ff.HEAPU8, buff + done, length - done, this.region.offset + sector * SECTOR + done);
      }
      return FatFs.RES_OK;
    } catch (error) {
      this.lastError = error as Error;
      return FatFs.RES_ERROR;
    }
  }

  ioctl(ff: FatFs.FatFs, _pdrv: number, cmd: number, buff: number) {
    switch (cmd) {
      case FatFs.CTRL_SYNC:
        return FatFs.RES_OK;
      case FatFs.GET_SECTOR_COUNT:
        ff.setValue(buff, Math.floor(this.region.size / SECTOR), 'i32');
        return FatFs.RES_OK;
      case FatFs.GET_SECTOR_SIZE:
        ff.setValue(buff, SECTOR, 'i16');
        return FatFs.RES_OK;
      case FatFs.GET_BLOCK_SIZE:
        ff.setValue(buff, 1, 'i32');
        return FatFs.RES_OK;
      default:
        return FatFs.RES_PARERR;
    }
  }
}

function normalise(name: string): string {
  const parts = name
    .replace(/\\/g, '/')
    .split('/')
    .filter((part) => part !== '' && part !== '.');
  if (parts.some((part) => part === '..')) {
    throw new ImagerError({
      code: 'INVALID_ARGUMENT',
      subject: name,
      message: `The boot file name "${name}" climbs out of the partition with "..".`,
      hint: 'Use a plain name or a path below the partition root.',
    });
  }
  return parts.join('/');
}

/**
 * One mounted FAT volume. Every call is synchronous on the device; `close()` unmounts, flushes
 * and closes the descriptor. Writers must call `close()` for the FAT and FSInfo to be complete.
 */
export class FatVolume {
  private closed = false;

  private constructor(
    readonly region: FatRegion,
    private readonly ff: FatFs.FatFs,
    private readonly disk: RegionDisk,
    private readonly fd: number,
    private readonly fatfs: number,
    readonly writable: boolean,
  ) {}

  /** Formats the region (FAT16 or FAT32) without mounting it; used by image creation. */
  static async format(region: FatRegion, fatType: 16 | 32): Promise<void> {
    const fd = fs.openSync(region.path, 'r+');
    try {
      const disk = new RegionDisk(fd, region, true);
      const ff = await FatFs.create({ diskio: disk });
      const workSize = FatFs.FF_MAX_SS * 16;
      const work = ff.malloc(workSize);
      const fmt = (fatType === 32 ? FatFs.FM_FAT32 : FatFs.FM_FAT) | FatFs.FM_SFD;
      const result = ff.f_mkfs('', { fmt, n_fat: 2, align: 0, n_root: 0, au_size: 0 }, work, workSize);
      ff.free(work);
      if (result !== FatFs.FR_OK) {
        throw new ImagerError({
          code: 'IO_ERROR',
          subject: region.path,
          message: `Could not create a FAT${fatType} file system of ${region.size} bytes: ${fatResultText(result)}.`,
          hint:
            fatType === 32
              ? 'FAT32 needs at least 33 MiB; choose a larger size or FAT16.'
              : 'Choose a size between 3 MiB and 2 GiB for FAT16.',
          details: { fatResult: result, systemError: disk.lastError?.message },
        });
      }
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  static async mount(region: FatRegion, writable: boolean): Promise<FatVolume> {
    const fd = fs.openSync(region.path, writable && !region.overlay ? 'r+' : 'r');
    try {
      const disk = new RegionDisk(fd, region, writable);
      const ff = await FatFs.create({ diskio: disk });
      const fatfs = ff.malloc(FatFs.sizeof_FATFS);
      const result = ff.f_mount(fatfs, '', 1);
      if (result !== FatFs.FR_OK) {
        throw new ImagerError({
          code: result === FatFs.FR_NO_FILESYSTEM ? 'NO_FAT_FILESYSTEM' : 'IO_ERROR',
          subject: region.path,
          message: `Could not open the FAT file system at byte ${region.offset}: ${fatResultText(result)}.`,
          hint: 'Check that this is a Raspberry Pi boot partition (FAT16 or FAT32) and that the card is readable.',
          details: { fatResult: result, systemError: disk.lastError?.message },
        });
      }
      return new FatVolume(region, ff, disk, fd, fatfs, writable);
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
  }

  private check(result: number, what: string, subject: string): void {
    if (result === FatFs.FR_OK) return;
    const systemError = this.disk.lastError?.message;
    throw new ImagerError({
      code: result === FatFs.FR_NO_FILE || result === FatFs.FR_NO_PATH ? 'NOT_FOUND' : result === FatFs.FR_DENIED ? 'NO_SPACE' : 'IO_ERROR',
      subject,
      message: `Could not ${what} "${subject}" in the FAT partition of ${this.region.path}: ${fatResultText(result)}${systemError ? ` (${systemError})` : ''}.`,
      hint:
        result === FatFs.FR_DENIED
          ? 'The boot partition is full: remove files from it or use a base image with a larger boot partition.'
          : 'Check that the card or image is still connected and readable, then try again.',
      details: { fatResult: result, ...(systemError && { systemError }) },
    });
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('FatVolume used after close()');
  }

  /** Whether a file or folder exists. */
  exists(name: string): boolean {
    this.assertOpen();
    const info = this.ff.malloc(FatFs.sizeof_FILINFO);
    try {
      return this.ff.f_stat('/' + normalise(name), info) === FatFs.FR_OK;
    } finally {
      this.ff.free(info);
    }
  }

  /** The file's bytes, or undefined when it does not exist. */
  readFile(name: string): Uint8Array | undefined {
    this.assertOpen();
    const clean = normalise(name);
    const { ff } = this;
    const fil = ff.malloc(FatFs.sizeof_FIL);
    const count = ff.malloc(4);
    const buffer = ff.malloc(CHUNK);
    try {
      const opened = ff.f_open(fil, '/' + clean, FatFs.FA_READ);
      if (opened === FatFs.FR_NO_FILE || opened === FatFs.FR_NO_PATH) return undefined;
      this.check(opened, 'open', clean);
      const size = ff.f_size(fil);
      const bytes = new Uint8Array(size);
      let done = 0;
      while (done < size) {
        this.check(ff.f_read(fil, buffer, Math.min(CHUNK, size - done), count), 'read', clean);
        const got = ff.getValue(count, 'i32');
        if (got <= 0) break;
        bytes.set(ff.HEAPU8.subarray(buffer, buffer + got), done);
        done += got;
      }
      this.check(ff.f_close(fil), 'close', clean);
      return done === size ? bytes : bytes.subarray(0, done);
    } finally {
      ff.free(buffer);
      ff.free(count);
      ff.free(fil);
    }
  }

  /** Creates or replaces a file, creating its folders. */
  writeFile(name: string, bytes: Uint8Array): void {
    this.assertOpen();
    const clean = normalise(name);
    this.makeParents(clean);
    const { ff } = this;
    const fil = ff.malloc(FatFs.sizeof_FIL);
    const count = ff.malloc(4);
    const buffer = ff.malloc(Math.min(CHUNK, Math.max(bytes.length, 1)));
    try {
      this.check(ff.f_open(fil, '/' + clean, FatFs.FA_WRITE | FatFs.FA_CREATE_ALWAYS), 'create', clean);
      let done = 0;
      try {
        while (done < bytes.length) {
          const length = Math.min(CHUNK, bytes.length - done);
          ff.HEAPU8.set(bytes.subarray(done, done + length), buffer);
          this.check(ff.f_write(fil, buffer, length, count), 'write', clean);
          const wrote = ff.getValue(count, 'i32');
          if (wrote < length) this.check(FatFs.FR_DENIED, 'write', clean);
          done += wrote;
        }
      } finally {
        this.check(ff.f_close(fil), 'close', clean);
      }
    } finally {
      ff.free(buffer);
      ff.free(count);
      ff.free(fil);
    }
  }

  /** Removes a file (or an empty folder); true when something was removed. */
  remove(name: string): boolean {
    this.assertOpen();
    const clean = normalise(name);
    const result = this.ff.f_unlink('/' + clean);
    if (result === FatFs.FR_NO_FILE || result === FatFs.FR_NO_PATH) return false;
    this.check(result, 'remove', clean);
    return true;
  }

  mkdir(name: string): void {
    this.assertOpen();
    const clean = normalise(name);
    const result = this.ff.f_mkdir('/' + clean);
    if (result !== FatFs.FR_EXIST) this.check(result, 'create the folder', clean);
  }

  private makeParents(clean: string): void {
    const parts = clean.split('/');
    for (let i = 1; i < parts.length; i++) this.mkdir(parts.slice(0, i).join('/'));
  }

  /** Entries of one folder ('' for the root); `recursive` walks every subfolder. */
  list(folder = '', recursive = false): FatEntry[] {
    this.assertOpen();
    const clean = normalise(folder);
    const { ff } = this;
    const dir = ff.malloc(FatFs.sizeof_DIR);
    const info = ff.malloc(FatFs.sizeof_FILINFO);
    const entries: FatEntry[] = [];
    try {
      this.check(ff.f_opendir(dir, '/' + clean), 'list', clean || '/');
      for (;;) {
        this.check(ff.f_readdir(dir, info), 'list', clean || '/');
        const name = ff.FILINFO_fname(info);
        if (name === '') break;
        const directory = (ff.FILINFO_fattrib(info) & FatFs.AM_DIR) !== 0;
        entries.push({ path: clean ? `${clean}/${name}` : name, size: ff.FILINFO_fsize(info), directory });
      }
      ff.f_closedir(dir);
    } finally {
      ff.free(info);
      ff.free(dir);
    }
    if (!recursive) return entries;
    return entries.flatMap((entry) => (entry.directory ? [entry, ...this.list(entry.path, true)] : [entry]));
  }

  /** Free bytes left on the volume. */
  freeBytes(): number {
    this.assertOpen();
    const { ff } = this;
    const clusters = ff.malloc(4);
    const fsPointer = ff.malloc(4);
    try {
      this.check(ff.f_getfree('', clusters, fsPointer), 'measure free space of', '/');
      const free = ff.getValue(clusters, 'i32') >>> 0;
      return free * this.clusterSectors() * SECTOR;
    } finally {
      ff.free(fsPointer);
      ff.free(clusters);
    }
  }

  /** Sectors per cluster, from the boot sector (FatFs keeps it in a struct js-fatfs does not expose). */
  private clusterSectors(): number {
    const boot = new Uint8Array(SECTOR);
    fs.readSync(this.fd, boot, 0, SECTOR, this.region.offset);
    return boot[13] ?? 1;
  }

  /** Unmounts (flushing FAT, FSInfo and directory entries) and closes the device. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.ff.f_unmount('');
      this.ff.free(this.fatfs);
      if (this.writable && !this.region.overlay) fs.fsyncSync(this.fd);
    } finally {
      fs.closeSync(this.fd);
    }
  }
}
