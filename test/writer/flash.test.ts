// The writer process on real loop devices: flash, verify, progress, cancel, a card pulled mid-write, corruption, refusals.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FlashProgress, FlashRequest } from '../../shared/drives/flash';
import { WriterClient } from '../../electron/services/drives/writer-client';
import {
  attachLoop,
  buildRpiLikeImage,
  debugfsRead,
  detachAllLoops,
  extractRange,
  fsckExt4,
  fsckFat,
  isRoot,
  MiB,
  mtoolsRead,
  RPI_OS_CONFIG_TXT,
  tempDir,
  type LoopDevice,
  loopDrive,
  type TestImageLayout,
} from '../helpers/disk-images';

const dir = tempDir('xpi-writer-');
let writer: WriterClient;
let image: TestImageLayout;

beforeAll(async () => {
  image = buildRpiLikeImage(dir, 'base.img');
  writer = await WriterClient.start();
});
afterEach(detachAllLoops);
afterAll(async () => {
  await writer?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A "used card": a backing file full of random bytes, attached as a loop device. */
function usedCard(name: string, size = 96 * MiB): { loop: LoopDevice; backing: string } {
  const backing = path.join(dir, name);
  fs.writeFileSync(backing, randomBytes(size));
  return { loop: attachLoop(backing), backing };
}

function request(targets: FlashRequest['targets'], overrides: Partial<FlashRequest> = {}): FlashRequest {
  return { image: image.path, targets, verify: true, eject: false, mode: 'full', confirmations: {}, ...overrides };
}

/** The card holds the image: partition table, both file systems clean, every file identical. */
function expectCardHoldsImage(card: string, layout: TestImageLayout, byteForByte: boolean): void {
  const expected = fs.readFileSync(layout.path);
  const actual = Buffer.alloc(expected.length);
  const fd = fs.openSync(card, 'r');
  fs.readSync(fd, actual, 0, actual.length, 0);
  fs.closeSync(fd);
  expect(actual.subarray(0, 512).equals(expected.subarray(0, 512))).toBe(true);
  fsckFat(card, layout.boot.offset, layout.boot.size, dir);
  fsckExt4(card, layout.root.offset, layout.root.size, dir);
  expect(mtoolsRead(card, layout.boot.offset, 'config.txt').toString()).toBe(RPI_OS_CONFIG_TXT);
  const ext4 = extractRange(card, layout.root.offset, layout.root.size, path.join(dir, `root-${Date.now()}.ext4`));
  for (const [name, bytes] of layout.rootFiles) expect(debugfsRead(ext4, name).equals(bytes)).toBe(true);
  fs.rmSync(ext4);
  if (byteForByte) expect(actual.equals(expected)).toBe(true);
}

describe.skipIf(!isRoot)('the writer process (needs root for loop devices)', () => {
  it('writes an image to a loop device and a file at once, verifies both, and reports progress by phase', async () => {
    const { loop } = usedCard('two-a.img');
    const file = path.join(dir, 'out', 'copy.img');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const events: FlashProgress[] = [];
    const onProgress = (p: FlashProgress) => events.push(p);
    writer.on('progress', onProgress);
    try {
      const result = await writer.flash(
        'two',
        request([
          { kind: 'drive', device: loop.device, drive: loopDrive(loop) },
          { kind: 'file', path: file },
        ]),
      );
      expect(result.targets).toEqual([
        { target: loop.device, ok: true, verified: true },
        { target: file, ok: true, verified: true },
      ]);
      expect(result).toMatchObject({ imageBytes: image.size, writtenBytes: image.size, mode: 'full' });
    } finally {
      writer.off('progress', onProgress);
    }
    expectCardHoldsImage(loop.device, image, true);
    expect(fs.readFileSync(file).equals(fs.readFileSync(image.path))).toBe(true);
    const phases = [...new Set(events.map((e) => e.phase))];
    expect(phases).toEqual(['preparing', 'flashing', 'verifying']);
    for (const phase of ['flashing', 'verifying'] as const) {
      const inPhase = events.filter((e) => e.phase === phase);
      expect(inPhase.at(-1)).toMatchObject({ percent: 100, bytes: image.size, totalBytes: image.size, activeTargets: 2, failedTargets: 0 });
      const percents = inPhase.map((e) => e.percent);
      expect([...percents].sort((a, b) => a - b)).toEqual(percents);
    }
  });

  it('writes only what the file systems use to a used card, and the card still reads back right', async () => {
    const { loop } = usedCard('used.img');
    const result = await writer.flash('used', request([{ kind: 'drive', device: loop.device, drive: loopDrive(loop) }], { mode: 'used' }));
    expect(result.targets[0]).toMatchObject({ ok: true, verified: true });
    expect(result.mode).toBe('used');
    expect(result.writtenBytes).toBeLessThan(image.size / 2);
    expectCardHoldsImage(loop.device, image, false);
  });

  it('cancels a write on request and stays alive for the next one', async () => {
    const big = path.join(dir, 'big.img');
    fs.copyFileSync(image.path, big);
    fs.truncateSync(big, 512 * MiB);
    const backing = path.join(dir, 'cancel.img');
    fs.writeFileSync(backing, '');
    fs.truncateSync(backing, 512 * MiB);
    const loop = attachLoop(backing);
    const onProgress = (p: FlashProgress) => {
      if (p.phase === 'flashing') void writer.cancel('cancel-me');
    };
    writer.on('progress', onProgress);
    try {
      const outcome = writer.flash('cancel-me', request([{ kind: 'drive', device: loop.device, drive: loopDrive(loop) }], { image: big }));
      await expect(outcome).rejects.toMatchObject({ code: 'CANCELLED' });
    } finally {
      writer.off('progress', onProgress);
      fs.rmSync(big);
    }
    expect(await writer.ping()).toEqual({ pid: writer.pid });
  });

  it('reports a card pulled out mid-write with the phase, device and byte range, and stays alive', async () => {
    const big = path.join(dir, 'big2.img');
    fs.copyFileSync(image.path, big);
    fs.truncateSync(big, 512 * MiB);
    const backing = path.join(dir, 'pulled.img');
    fs.writeFileSync(backing, '');
    fs.truncateSync(backing, 512 * MiB);
    const loop = attachLoop(backing);
    let pulled = false;
    // A card pulled from a USB reader leaves a device of size 0: shrink the loop device and detach it.
    const onProgress = (p: FlashProgress) => {
      if (p.phase !== 'flashing' || pulled) return;
      pulled = true;
      fs.truncateSync(backing, 0);
      execFileSync('losetup', ['-c', loop.device]);
      loop.detach();
    };
    writer.on('progress', onProgress);
    try {
      const result = await writer.flash(
        'pulled',
        request([{ kind: 'drive', device: loop.device, drive: loopDrive(loop) }], { image: big }),
      );
      expect(pulled).toBe(true);
      const [target] = result.targets;
      expect(target).toMatchObject({ target: loop.device, ok: false, verified: false });
      expect(target?.error).toMatchObject({
        code: 'TARGET_REMOVED',
        subject: loop.device,
        details: { phase: 'flashing', device: loop.device },
      });
      expect(target?.error?.details?.offset).toEqual(expect.any(Number));
      expect(target?.error?.hint).toBeTruthy();
    } finally {
      writer.off('progress', onProgress);
      fs.rmSync(big);
    }
    expect(await writer.ping()).toEqual({ pid: writer.pid });
  });

  it('reports a card that changed size mid-write as gone, not as a full disk', async () => {
    const big = path.join(dir, 'big3.img');
    fs.copyFileSync(image.path, big);
    fs.truncateSync(big, 512 * MiB);
    const backing = path.join(dir, 'swapped.img');
    fs.writeFileSync(backing, '');
    fs.truncateSync(backing, 512 * MiB);
    const loop = attachLoop(backing);
    let swapped = false;
    // Another, smaller card in the reader: the device stays, its size drops (not to zero), writes past it say ENOSPC.
    const onProgress = (p: FlashProgress) => {
      if (p.phase !== 'flashing' || swapped) return;
      swapped = true;
      fs.truncateSync(backing, MiB);
      execFileSync('losetup', ['-c', loop.device]);
    };
    writer.on('progress', onProgress);
    try {
      const result = await writer.flash(
        'swapped',
        request([{ kind: 'drive', device: loop.device, drive: loopDrive(loop) }], { image: big }),
      );
      expect(swapped).toBe(true);
      expect(result.targets[0]?.error).toMatchObject({
        code: 'TARGET_REMOVED',
        subject: loop.device,
        details: { phase: 'flashing', systemCode: 'ENOSPC' },
      });
    } finally {
      writer.off('progress', onProgress);
      loop.detach();
      fs.rmSync(big);
    }
  });

  /** A 4 MiB tmpfs, much smaller than the 68 MiB test image: a disk that fills up mid-write. Unmounted afterwards. */
  async function withFullDisk(name: string, work: (mountpoint: string) => Promise<void>): Promise<void> {
    const mountpoint = path.join(dir, name);
    fs.mkdirSync(mountpoint);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountpoint]);
    try {
      await work(mountpoint);
    } finally {
      detachAllLoops();
      execFileSync('umount', [mountpoint]);
      fs.rmdirSync(mountpoint);
    }
  }

  /** The last 'flashing' progress event of a flash. */
  async function flashWatchingProgress(jobId: string, flashRequest: FlashRequest) {
    let last: FlashProgress | undefined;
    const onProgress = (p: FlashProgress) => {
      if (p.jobId === jobId && p.phase === 'flashing') last = p;
    };
    writer.on('progress', onProgress);
    try {
      return { result: await writer.flash(jobId, flashRequest), last: () => last };
    } finally {
      writer.off('progress', onProgress);
    }
  }

  it('names a full disk under a loop device as no space, with the byte where the write stopped', async () => {
    await withFullDisk('full-loop', async (mountpoint) => {
      const backing = path.join(mountpoint, 'card.img');
      fs.writeFileSync(backing, '');
      fs.truncateSync(backing, 96 * MiB);
      const loop = attachLoop(backing);
      const { result, last } = await flashWatchingProgress(
        'full-loop',
        request([{ kind: 'drive', device: loop.device, drive: loopDrive(loop) }]),
      );
      const [target] = result.targets;
      expect(target).toMatchObject({
        target: loop.device,
        ok: false,
        verified: false,
        error: { code: 'NO_SPACE', details: { phase: 'flashing', systemCode: 'ENOSPC' } },
      });
      expect(target?.error?.message).toMatch(/no space left \(ENOSPC\) at byte \d+/);
      expect(target?.error?.message).not.toMatch(/removed/);
      const stoppedAt = target?.error?.details?.offset as number;
      expect(stoppedAt).toBeLessThan(image.size);
      expect(target?.error?.message).toContain(`at byte ${stoppedAt}`);
      expect(result.writtenBytes).toBe(stoppedAt);
      expect(last()?.bytes ?? 0).toBeLessThanOrEqual(stoppedAt);
    });
    expect(await writer.ping()).toEqual({ pid: writer.pid });
  });

  it('says the disk holding an image file is full, and counts only what got written', async () => {
    await withFullDisk('full-file', async (mountpoint) => {
      const file = path.join(mountpoint, 'card.img');
      const { result, last } = await flashWatchingProgress('full-file', request([{ kind: 'file', path: file }]));
      const [target] = result.targets;
      expect(target).toMatchObject({
        target: file,
        ok: false,
        error: { code: 'NO_SPACE', subject: file, details: { systemCode: 'ENOSPC' } },
      });
      expect(target?.error?.message).toMatch(new RegExp(`The disk holding ${file} is full \\(ENOSPC\\): writing stopped at byte \\d+`));
      const stoppedAt = target?.error?.details?.offset as number;
      expect(target?.error?.message).toContain(`writing stopped at byte ${stoppedAt}.`);
      expect(stoppedAt).toBeLessThanOrEqual(4 * MiB);
      expect(result.writtenBytes).toBe(stoppedAt);
      expect(last()?.bytes ?? 0).toBeLessThanOrEqual(stoppedAt);
      expect(fs.existsSync(file)).toBe(false); // a failed image file is not left behind
    });
  });

  it('finds a byte corrupted after writing and reports its range', async () => {
    const { loop } = usedCard('corrupt.img');
    const target = { kind: 'drive' as const, device: loop.device, drive: loopDrive(loop) };
    const written = await writer.flash('corrupt', request([target], { verify: false }));
    expect(written.targets[0]).toMatchObject({ ok: true, verified: false });
    const offset = image.root.offset + 3 * MiB + 12345;
    const fd = fs.openSync(loop.device, 'r+');
    const byte = Buffer.alloc(1);
    fs.readSync(fd, byte, 0, 1, offset);
    byte[0] = (byte[0] ?? 0) ^ 0xff;
    fs.writeSync(fd, byte, 0, 1, offset);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    const checked = await writer.verify('check', request([target]));
    expect(checked.targets[0]?.error).toMatchObject({ code: 'VERIFY_FAILED', details: { phase: 'verifying', offset, end: offset + 1 } });
    expect(checked.targets[0]?.error?.message).toContain(`${offset}`);
  });

  it('refuses a system drive unless its name is typed, before touching it', async () => {
    const { loop, backing } = usedCard('system.img', 80 * MiB);
    const before = fs.readFileSync(backing).subarray(0, 1 * MiB);
    const target = { kind: 'drive' as const, device: loop.device, drive: loopDrive(loop, { isSystem: true }) };
    await expect(writer.flash('sys', request([target]))).rejects.toMatchObject({ code: 'DRIVE_REFUSED', subject: loop.device });
    await expect(writer.flash('sys2', request([target], { confirmations: { systemDriveName: 'sda' } }))).rejects.toMatchObject({
      code: 'DRIVE_REFUSED',
    });
    expect(
      fs
        .readFileSync(backing)
        .subarray(0, 1 * MiB)
        .equals(before),
    ).toBe(true);
    const allowed = await writer.flash('sys3', request([target], { confirmations: { systemDriveName: loop.name } }));
    expect(allowed.targets[0]).toMatchObject({ ok: true, verified: true });
  });

  it('edits only the boot partition of a card in place and reads it back', async () => {
    const backing = path.join(dir, 'inplace.img');
    fs.copyFileSync(image.path, backing);
    const loop = attachLoop(backing);
    const before = fs.readFileSync(backing);
    const uboot = randomBytes(200_000);
    const result = await writer.editBoot({
      target: { kind: 'drive', device: loop.device, drive: loopDrive(loop) },
      configTxt: { consoleUart: 'pl011', kernel: 'u-boot.bin' },
      files: [{ name: 'u-boot.bin', base64: uboot.toString('base64') }],
      confirmations: {},
    });
    expect(result).toMatchObject({ written: ['config.txt', 'u-boot.bin'], configTxtChanged: true });
    expect(result.configTxtDiff).toContain('+dtoverlay=disable-bt');
    loop.detach();
    fsckFat(backing, image.boot.offset, image.boot.size, dir);
    expect(mtoolsRead(backing, image.boot.offset, 'u-boot.bin').equals(uboot)).toBe(true);
    expect(mtoolsRead(backing, image.boot.offset, 'config.txt').toString()).toContain('kernel=u-boot.bin');
    const after = fs.readFileSync(backing);
    expect(after.subarray(image.root.offset).equals(before.subarray(image.root.offset))).toBe(true);
    const again = await writer.editBoot({
      target: { kind: 'file', path: backing },
      configTxt: { consoleUart: 'pl011', kernel: 'u-boot.bin' },
      files: [],
      confirmations: {},
    });
    expect(again).toMatchObject({ written: [], configTxtChanged: false });
  });

  it('refuses a card smaller than the image', async () => {
    const backing = path.join(dir, 'small.img');
    fs.writeFileSync(backing, '');
    fs.truncateSync(backing, 32 * MiB);
    const loop = attachLoop(backing);
    await expect(writer.flash('small', request([{ kind: 'drive', device: loop.device, drive: loopDrive(loop) }]))).rejects.toMatchObject({
      code: 'DRIVE_REFUSED',
      details: { statuses: ['too-small'] },
    });
  });

  it('says so when the image is missing', async () => {
    await expect(
      writer.flash('missing', request([{ kind: 'file', path: path.join(dir, 'x.img') }], { image: path.join(dir, 'nope.img') })),
    ).rejects.toMatchObject({ code: 'SOURCE_NOT_FOUND' });
  });
});

describe('the writer process without root', () => {
  it('lists drives, and the real system drive carries the system flag', async () => {
    const drives = await writer.scan();
    expect(Array.isArray(drives)).toBe(true);
    for (const drive of drives)
      expect(drive).toMatchObject({ device: expect.any(String), isSystem: expect.any(Boolean), mountpoints: expect.any(Array) });
    const rootDrive = drives.find((d) => d.mountpoints.some((m) => m.path === '/'));
    if (rootDrive) expect(rootDrive.isSystem).toBe(true);
  });

  // Through 'verify' (read-only) so that even a broken rule could not write the system drive.
  it('refuses the real system drive without its typed name, before opening it', async (context) => {
    const system = (await writer.scan()).find((d) => d.isSystem && d.size !== null);
    if (!system) context.skip('no system drive visible to drivelist here');
    else
      await expect(writer.verify('real-system', request([{ kind: 'drive', device: system.device }]))).rejects.toMatchObject({
        code: 'DRIVE_REFUSED',
        subject: system.device,
      });
  });
});
