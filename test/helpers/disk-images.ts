// Test fixtures for drives: small Raspberry-Pi-OS-like images (MBR, FAT32 boot, ext4 root) and loop devices that always get detached.
import type { DriveInfo } from '../../shared/drives/types';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const MiB = 1024 * 1024;
export const isRoot = process.getuid?.() === 0;

export const RPI_OS_CONFIG_TXT = [
  '# For more options and information see',
  '# http://rptl.io/configtxt',
  '',
  'dtparam=audio=on',
  'camera_auto_detect=1',
  'display_auto_detect=1',
  'auto_initramfs=1',
  'dtoverlay=vc4-kms-v3d',
  'max_framebuffers=2',
  'disable_fw_kms_setup=1',
  'arm_64bit=1',
  'disable_overscan=1',
  'arm_boost=1',
  '',
  '[cm4]',
  'otg_mode=1',
  '',
  '[all]',
  '',
].join('\n');

export function run(command: string, args: string[], options: { input?: string | Uint8Array } = {}): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...options });
}

export function tempDir(prefix = 'xpi-drives-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface TestImageLayout {
  path: string;
  size: number;
  boot: { offset: number; size: number };
  root: { offset: number; size: number };
  /** The root file system's files: name → bytes, to compare after a flash. */
  rootFiles: Map<string, Buffer>;
}

export interface TestImageOptions {
  bootMiB?: number;
  rootMiB?: number;
  /** Bytes of random data in the root file system (so "used" space is not all zeros). */
  rootDataBytes?: number;
  /** Extra files for the boot partition; null leaves out one the image has by default (start4.elf, say). */
  bootFiles?: Record<string, string | Uint8Array | null>;
}

/**
 * An image shaped like Raspberry Pi OS, in miniature: MBR, partition 1 FAT32 "bootfs" with a
 * config.txt, partition 2 ext4 "rootfs" filled from a folder with `mkfs.ext4 -d`.
 */
export function buildRpiLikeImage(dir: string, name = 'base.img', options: TestImageOptions = {}): TestImageLayout {
  const bootMiB = options.bootMiB ?? 40;
  const rootMiB = options.rootMiB ?? 24;
  const imagePath = path.join(dir, name);
  const work = fs.mkdtempSync(path.join(dir, 'parts-'));
  try {
    const bootFat = path.join(work, 'boot.fat');
    run('mkfs.vfat', ['-F', '32', '-n', 'bootfs', '-C', bootFat, String(bootMiB * 1024)]);
    const bootFiles = {
      'config.txt': RPI_OS_CONFIG_TXT,
      'cmdline.txt': 'console=serial0,115200 root=PARTUUID=1234-02 rootfstype=ext4 fsck.repair=yes rootwait\n',
      'start4.elf': randomBytes(200_000),
      'fixup4.dat': randomBytes(5_000),
      ...options.bootFiles,
    };
    for (const [file, content] of Object.entries(bootFiles)) {
      if (content === null) continue;
      const local = path.join(work, 'f-' + file.replace(/\//g, '_'));
      fs.writeFileSync(local, content);
      run('mcopy', ['-i', bootFat, local, `::${file}`]);
    }
    const rootDir = path.join(work, 'rootfs');
    fs.mkdirSync(path.join(rootDir, 'etc'), { recursive: true });
    fs.mkdirSync(path.join(rootDir, 'usr', 'lib'), { recursive: true });
    const rootFiles = new Map<string, Buffer>();
    rootFiles.set('etc/hostname', Buffer.from('raspberrypi\n'));
    rootFiles.set('usr/lib/blob.bin', randomBytes(options.rootDataBytes ?? 4 * MiB));
    for (const [file, bytes] of rootFiles) fs.writeFileSync(path.join(rootDir, file), bytes);
    const rootExt4 = path.join(work, 'root.ext4');
    run('mkfs.ext4', ['-q', '-F', '-L', 'rootfs', '-d', rootDir, rootExt4, `${rootMiB}M`]);

    const bootOffset = 4 * MiB;
    const rootOffset = bootOffset + bootMiB * MiB;
    const size = rootOffset + rootMiB * MiB;
    fs.writeFileSync(imagePath, new Uint8Array(0));
    fs.truncateSync(imagePath, size);
    run('sfdisk', ['--quiet', imagePath], {
      input: `label: dos\nlabel-id: 0x1234abcd\nstart=${bootOffset / 512}, size=${(bootMiB * MiB) / 512}, type=c\nstart=${rootOffset / 512}, size=${(rootMiB * MiB) / 512}, type=83\n`,
    });
    copyInto(bootFat, imagePath, bootOffset);
    copyInto(rootExt4, imagePath, rootOffset);
    return {
      path: imagePath,
      size,
      boot: { offset: bootOffset, size: bootMiB * MiB },
      root: { offset: rootOffset, size: rootMiB * MiB },
      rootFiles,
    };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function copyInto(source: string, target: string, offset: number): void {
  const bytes = fs.readFileSync(source);
  const fd = fs.openSync(target, 'r+');
  try {
    fs.writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    fs.closeSync(fd);
  }
}

/** Copies a byte range of a file or device into a new temp file (for fsck of one partition). */
export function extractRange(source: string, offset: number, size: number, into: string): string {
  const fd = fs.openSync(source, 'r');
  const out = fs.openSync(into, 'w');
  try {
    const chunk = Buffer.alloc(4 * MiB);
    for (let done = 0; done < size;) {
      const got = fs.readSync(fd, chunk, 0, Math.min(chunk.length, size - done), offset + done);
      if (got === 0) break;
      fs.writeSync(out, chunk, 0, got);
      done += got;
    }
  } finally {
    fs.closeSync(fd);
    fs.closeSync(out);
  }
  return into;
}

/** Runs `fsck.vfat -n` on the FAT partition at `offset`; returns its output, throws when it finds errors. */
export function fsckFat(source: string, offset: number, size: number, dir: string): string {
  const copy = extractRange(source, offset, size, path.join(dir, `fsck-${Date.now()}-${Math.random()}.fat`));
  try {
    return run('fsck.vfat', ['-n', copy]);
  } finally {
    fs.rmSync(copy, { force: true });
  }
}

/** Runs `e2fsck -fn` on the ext4 partition at `offset`; throws when it finds errors. */
export function fsckExt4(source: string, offset: number, size: number, dir: string): string {
  const copy = extractRange(source, offset, size, path.join(dir, `fsck-${Date.now()}-${Math.random()}.ext4`));
  try {
    return run('e2fsck', ['-fn', copy]);
  } finally {
    fs.rmSync(copy, { force: true });
  }
}

/** Reads one file from a FAT partition with mtools (an independent reader). */
export function mtoolsRead(image: string, offset: number, name: string): Buffer {
  return execFileSync('mcopy', ['-n', '-i', `${image}@@${offset}`, `::${name}`, '-'], { maxBuffer: 256 * MiB });
}

/** Reads one file from an ext4 partition image with debugfs. */
export function debugfsRead(ext4Image: string, name: string): Buffer {
  return execFileSync('debugfs', ['-R', `cat /${name}`, ext4Image], { maxBuffer: 256 * MiB, stdio: ['ignore', 'pipe', 'ignore'] });
}

/** A loop device backed by a file; `detach()` is idempotent so tests can call it in finally and afterEach. */
export interface LoopDevice {
  device: string;
  name: string;
  size: number;
  detach(): void;
}

const attached = new Set<LoopDevice>();

export function attachLoop(backingFile: string): LoopDevice {
  const device = run('losetup', ['-f', '--show', backingFile]).trim();
  let detached = false;
  const loop: LoopDevice = {
    device,
    name: path.basename(device),
    size: Number(fs.readFileSync(`/sys/class/block/${path.basename(device)}/size`, 'utf8').trim()) * 512,
    detach() {
      if (detached) return;
      detached = true;
      attached.delete(loop);
      try {
        run('losetup', ['-d', device]);
      } catch {
        // already gone (a test detached it on purpose)
      }
    },
  };
  attached.add(loop);
  return loop;
}

/** Detaches every loop device a test attached; call from afterEach. */
export function detachAllLoops(): void {
  for (const loop of [...attached]) loop.detach();
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** drivelist hides loop devices: describe one by hand, sized by the kernel. */
export function loopDrive(loop: Pick<LoopDevice, 'device' | 'size'>, overrides: Partial<DriveInfo> = {}): DriveInfo {
  return {
    device: loop.device,
    raw: loop.device,
    description: 'Loop test card',
    size: loop.size,
    isSystem: false,
    isReadOnly: false,
    isRemovable: true,
    isCard: true,
    isUSB: false,
    isVirtual: true,
    mountpoints: [],
    ...overrides,
  };
}
