// The FAT toolkit against real tools: images it creates and edits pass fsck.vfat and read back with mtools.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  createFatDiskImage,
  findFatPartition,
  listFatFiles,
  openFatPartition,
  readFatFiles,
  writeFatFiles,
} from '../../../electron/node/fat';
import { readPartitionTableOf } from '../../../electron/node/fat/region';
import { ImagerError } from '../../../shared/errors';
import {
  attachLoop,
  buildRpiLikeImage,
  detachAllLoops,
  fsckFat,
  isRoot,
  MiB,
  mtoolsRead,
  RPI_OS_CONFIG_TXT,
  run,
  tempDir,
} from '../../helpers/disk-images';

const dir = tempDir('xpi-fat-');
afterEach(detachAllLoops);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const text = (s: string) => new TextEncoder().encode(s);
const pattern = (length: number, seed: number) => Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 255);

describe('createFatDiskImage', () => {
  it.each([
    [16, 16],
    [32, 64],
  ] as const)('builds an MBR image with one bootable FAT%i partition that fsck.vfat and mtools accept', async (fatType, sizeMiB) => {
    const image = path.join(dir, `fat${fatType}.img`);
    const kernel = pattern(3 * MiB + 123, fatType);
    const result = await createFatDiskImage(image, {
      sizeMiB,
      label: 'bootfs',
      fatType,
      files: [
        { name: 'config.txt', bytes: text('arm_64bit=1\nkernel=u-boot.bin\n') },
        { name: 'bcm2711-rpi-4-b.dtb', bytes: pattern(50_000, 1) },
        { name: 'overlays/disable-bt.dtbo', bytes: pattern(1000, 2) },
        { name: 'Image', bytes: kernel },
      ],
    });
    expect(result).toMatchObject({ partitionOffset: MiB, partitionSize: (sizeMiB - 1) * MiB, fatType });
    expect(fs.statSync(image).size).toBe(sizeMiB * MiB);

    const table = readPartitionTableOf(image);
    expect(table?.partitions).toEqual([
      { index: 1, offset: MiB, size: (sizeMiB - 1) * MiB, type: fatType === 32 ? '0c' : '0e', bootable: true },
    ]);
    expect(run('sfdisk', ['--dump', image])).toContain('bootable');

    const fsck = fsckFat(image, MiB, result.partitionSize, dir);
    expect(fsck).toMatch(/6 files/); // 4 files, the overlays folder and the volume label
    expect(mtoolsRead(image, MiB, 'Image').equals(Buffer.from(kernel))).toBe(true);
    expect(mtoolsRead(image, MiB, 'overlays/disable-bt.dtbo').equals(Buffer.from(pattern(1000, 2)))).toBe(true);
    expect(mtoolsRead(image, MiB, 'bcm2711-rpi-4-b.dtb').length).toBe(50_000);
    expect(run('minfo', ['-i', `${image}@@${MiB}`, '::'])).toMatch(fatType === 32 ? /disk type="FAT32/ : /disk type="FAT16/);
    expect(run('mlabel', ['-s', '-i', `${image}@@${MiB}`, '::'])).toContain('BOOTFS');
  });

  it('picks FAT32 from 64 MiB on and FAT16 below', async () => {
    expect((await createFatDiskImage(path.join(dir, 'a.img'), { sizeMiB: 8, files: [] })).fatType).toBe(16);
    expect((await createFatDiskImage(path.join(dir, 'b.img'), { sizeMiB: 64, files: [] })).fatType).toBe(32);
  });

  it('refuses a size FAT32 cannot hold and an invalid label, leaving no file behind', async () => {
    const image = path.join(dir, 'tiny.img');
    await expect(createFatDiskImage(image, { sizeMiB: 8, fatType: 32, files: [] })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      subject: 'sizeMiB',
    });
    await expect(createFatDiskImage(image, { sizeMiB: 8, label: 'a/b', files: [] })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      subject: 'label',
    });
    expect(fs.existsSync(image)).toBe(false);
  });

  it('reports a full partition as NO_SPACE', async () => {
    const image = path.join(dir, 'full.img');
    await expect(
      createFatDiskImage(image, { sizeMiB: 4, files: [{ name: 'big.bin', bytes: new Uint8Array(8 * MiB) }] }),
    ).rejects.toMatchObject({
      code: 'NO_SPACE',
      subject: 'big.bin',
    });
  });
});

describe('editing the first FAT partition in place', () => {
  it('replaces config.txt and adds boot files in a Raspberry Pi OS-like image, keeping the rest', async () => {
    const layout = buildRpiLikeImage(dir, 'rpi.img');
    const before = fs.readFileSync(layout.path);
    expect(findFatPartition(layout.path)).toEqual({ path: layout.path, offset: layout.boot.offset, size: layout.boot.size });

    const uboot = pattern(600_000, 9);
    await writeFatFiles(layout.path, [
      { name: 'config.txt', bytes: text(RPI_OS_CONFIG_TXT + 'kernel=u-boot.bin\n') },
      { name: 'u-boot.bin', bytes: uboot },
      { name: 'xen/boot2.scr', bytes: text('boot script') },
    ]);

    fsckFat(layout.path, layout.boot.offset, layout.boot.size, dir);
    expect(mtoolsRead(layout.path, layout.boot.offset, 'config.txt').toString()).toBe(RPI_OS_CONFIG_TXT + 'kernel=u-boot.bin\n');
    expect(mtoolsRead(layout.path, layout.boot.offset, 'u-boot.bin').equals(Buffer.from(uboot))).toBe(true);
    expect(mtoolsRead(layout.path, layout.boot.offset, 'xen/boot2.scr').toString()).toBe('boot script');
    const after = fs.readFileSync(layout.path);
    // Only the boot partition changed: the MBR, the gap and the ext4 root are untouched.
    expect(after.subarray(0, layout.boot.offset).equals(before.subarray(0, layout.boot.offset))).toBe(true);
    expect(after.subarray(layout.root.offset).equals(before.subarray(layout.root.offset))).toBe(true);

    const read = await readFatFiles(layout.path, ['u-boot.bin', 'cmdline.txt', 'missing.txt']);
    expect(read.get('u-boot.bin')).toEqual(uboot);
    expect(new TextDecoder().decode(read.get('cmdline.txt'))).toContain('rootwait');
    expect(read.get('missing.txt')).toBeUndefined();
    const names = (await listFatFiles(layout.path)).map((entry) => entry.path);
    expect(names).toEqual(expect.arrayContaining(['config.txt', 'cmdline.txt', 'start4.elf', 'u-boot.bin', 'xen', 'xen/boot2.scr']));
  });

  it('removes files and reports free space', async () => {
    const layout = buildRpiLikeImage(dir, 'rm.img');
    const volume = await openFatPartition(layout.path);
    try {
      const free = volume.freeBytes();
      expect(free).toBeGreaterThan(30 * MiB);
      expect(volume.remove('start4.elf')).toBe(true);
      expect(volume.remove('start4.elf')).toBe(false);
      expect(volume.exists('start4.elf')).toBe(false);
      expect(volume.freeBytes()).toBeGreaterThan(free);
    } finally {
      volume.close();
    }
    fsckFat(layout.path, layout.boot.offset, layout.boot.size, dir);
    expect(run('mdir', ['-b', '-i', `${layout.path}@@${layout.boot.offset}`, '::'])).not.toContain('start4.elf');
  });

  it('refuses names that climb out of the partition', async () => {
    const image = path.join(dir, 'climb.img');
    await createFatDiskImage(image, { sizeMiB: 8, files: [] });
    await expect(writeFatFiles(image, [{ name: '../etc/passwd', bytes: text('x') }])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('says clearly when a target has no FAT partition', async () => {
    const blank = path.join(dir, 'blank.img');
    fs.writeFileSync(blank, new Uint8Array(4 * MiB));
    const error = await openFatPartition(blank).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImagerError);
    expect(error).toMatchObject({ code: 'NO_PARTITION_TABLE', subject: blank });
    expect((error as ImagerError).hint).toBeTruthy();

    const linuxOnly = path.join(dir, 'linux.img');
    fs.writeFileSync(linuxOnly, new Uint8Array(8 * MiB));
    run('sfdisk', ['--quiet', linuxOnly], { input: 'label: dos\nstart=2048, type=83\n' });
    await expect(openFatPartition(linuxOnly)).rejects.toMatchObject({ code: 'NO_FAT_PARTITION' });
  });

  it.skipIf(!isRoot)('edits the boot partition of a card (loop device) in place', async () => {
    const layout = buildRpiLikeImage(dir, 'card.img');
    const loop = attachLoop(layout.path);
    try {
      const region = findFatPartition(loop.device);
      expect(region.offset).toBe(layout.boot.offset);
      await writeFatFiles(loop.device, [{ name: 'boot.scr', bytes: pattern(4096, 5) }]);
      const back = await readFatFiles(loop.device, ['boot.scr']);
      expect(back.get('boot.scr')).toEqual(pattern(4096, 5));
    } finally {
      loop.detach();
    }
    fsckFat(layout.path, layout.boot.offset, layout.boot.size, dir);
    expect(mtoolsRead(layout.path, layout.boot.offset, 'boot.scr').equals(Buffer.from(pattern(4096, 5)))).toBe(true);
  });
});
