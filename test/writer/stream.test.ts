// The writer's fast paths on real loop devices: an .img.xz streamed to the card while xz decompresses it, and the boot partition composed in memory.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WriterClient } from '../../electron/services/drives/writer-client';
import type { BootEditRequest, FlashRequest } from '../../shared/drives/flash';
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
  sha256,
  tempDir,
  type LoopDevice,
  loopDrive,
  type TestImageLayout,
} from '../helpers/disk-images';

const dir = tempDir('xpi-stream-');
const uboot = randomBytes(300_000);
const bootEdit: BootEditRequest = {
  configTxt: { consoleUart: 'mini', kernel: 'u-boot.bin' },
  files: [{ name: 'u-boot.bin', base64: uboot.toString('base64') }],
};
let writer: WriterClient;
let image: TestImageLayout;
let xz: string;

beforeAll(async () => {
  image = buildRpiLikeImage(dir, 'base.img', { rootDataBytes: 6 * MiB });
  xz = `${image.path}.xz`;
  execFileSync('xz', ['-1', '-T0', '-k', image.path]);
  writer = await WriterClient.start();
});
afterEach(detachAllLoops);
afterAll(async () => {
  await writer?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function usedCard(name: string): LoopDevice {
  const backing = path.join(dir, name);
  fs.writeFileSync(backing, randomBytes(96 * MiB));
  return attachLoop(backing);
}

function streamRequest(targets: FlashRequest['targets'], cacheAs: string, overrides: Partial<FlashRequest> = {}): FlashRequest {
  return {
    image: xz,
    stream: { format: 'xz', cacheAs, imageBytes: image.size },
    bootEdit,
    targets,
    verify: true,
    eject: false,
    mode: 'used',
    confirmations: {},
    ...overrides,
  };
}

/** The card (or file) holds the composed image: table, both file systems clean, the boot files added, config.txt merged, root files intact. */
function expectComposedCard(card: string): void {
  const head = Buffer.alloc(512);
  const fd = fs.openSync(card, 'r');
  fs.readSync(fd, head, 0, 512, 0);
  fs.closeSync(fd);
  expect(head.equals(fs.readFileSync(image.path).subarray(0, 512))).toBe(true);
  fsckFat(card, image.boot.offset, image.boot.size, dir);
  fsckExt4(card, image.root.offset, image.root.size, dir);
  expect(mtoolsRead(card, image.boot.offset, 'u-boot.bin').equals(uboot)).toBe(true);
  const config = mtoolsRead(card, image.boot.offset, 'config.txt').toString();
  expect(config.startsWith(RPI_OS_CONFIG_TXT)).toBe(true);
  expect(config).toMatch(/^kernel=u-boot\.bin$/m);
  const ext4 = extractRange(card, image.root.offset, image.root.size, path.join(dir, `root-${Date.now()}.ext4`));
  for (const [name, bytes] of image.rootFiles) expect(debugfsRead(ext4, name).equals(bytes)).toBe(true);
  fs.rmSync(ext4);
}

describe.skipIf(!isRoot)('streaming and composing in the writer (needs root for loop devices)', () => {
  it('streams an .img.xz to a used card and an image file while it decompresses, composing the boot partition on the way', async () => {
    const loop = usedCard('stream-card.img');
    const file = path.join(dir, 'stream-out.img');
    const cacheAs = path.join(dir, 'cache-1.partial');
    const result = await writer.flash(
      'stream',
      streamRequest(
        [
          { kind: 'drive', device: loop.device, drive: loopDrive(loop) },
          { kind: 'file', path: file },
        ],
        cacheAs,
      ),
    );
    expect(result.targets).toEqual([
      { target: loop.device, ok: true, verified: true },
      { target: file, ok: true, verified: true },
    ]);
    expect(result).toMatchObject({
      imageBytes: image.size,
      sourceSha256: sha256(fs.readFileSync(xz)),
      cachedAs: cacheAs,
      bootEdit: { written: ['config.txt', 'u-boot.bin'], configTxtChanged: true },
    });
    // The cache keeps the image as downloaded; the edit went only to the targets.
    expect(fs.readFileSync(cacheAs).equals(fs.readFileSync(image.path))).toBe(true);
    expectComposedCard(loop.device);
    expectComposedCard(file);
    expect(fs.statSync(file).size).toBe(image.size);
  });

  it('writes a raw image with the boot partition composed in memory, leaving the image file untouched', async () => {
    const loop = usedCard('raw-card.img');
    const before = sha256(fs.readFileSync(image.path));
    const result = await writer.flash('raw', {
      image: image.path,
      bootEdit,
      targets: [{ kind: 'drive', device: loop.device, drive: loopDrive(loop) }],
      verify: true,
      eject: false,
      mode: 'used',
      confirmations: {},
    });
    expect(result.targets[0]).toMatchObject({ ok: true, verified: true });
    expect(result.writtenBytes).toBeLessThan(image.size / 2);
    expect(sha256(fs.readFileSync(image.path))).toBe(before);
    expectComposedCard(loop.device);
  });

  it('reports a damaged .img.xz as corrupt, keeps no partial cache, and stays alive', async () => {
    const loop = usedCard('broken-card.img');
    const broken = path.join(dir, 'broken.img.xz');
    const damaged = fs.readFileSync(xz);
    damaged.fill(0x55, Math.floor(damaged.length / 2), Math.floor(damaged.length / 2) + 4096);
    fs.writeFileSync(broken, damaged);
    const cacheAs = path.join(dir, 'cache-broken.partial');
    await expect(
      writer.flash('broken', streamRequest([{ kind: 'drive', device: loop.device, drive: loopDrive(loop) }], cacheAs, { image: broken })),
    ).rejects.toMatchObject({ code: 'SOURCE_CORRUPT', subject: broken, details: { phase: 'decompressing' } });
    expect(fs.existsSync(cacheAs)).toBe(false);
    expect(await writer.ping()).toEqual({ pid: writer.pid });
  });

  it('says the cards hold the wrong image when the streamed source does not match the expected SHA-256', async () => {
    const loop = usedCard('sum-card.img');
    const cacheAs = path.join(dir, 'cache-sum.partial');
    const wrong = 'ab'.repeat(32);
    const request = streamRequest([{ kind: 'drive', device: loop.device, drive: loopDrive(loop) }], cacheAs);
    await expect(writer.flash('sum', { ...request, stream: { ...request.stream!, sha256: wrong } })).rejects.toMatchObject({
      code: 'CHECKSUM_MISMATCH',
      details: { expected: wrong, actual: sha256(fs.readFileSync(xz)) },
    });
  });
});
