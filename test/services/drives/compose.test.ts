// Composing the card image from real compressed sources: decompress once, merge config.txt, add boot files, save, and fail clearly.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkFreeSpace, cleanCache, composeImage, saveImage, type ComposeOptions } from '../../../electron/services/drives/compose';
import { CONFIG_TXT_MARKER } from '../../../shared/boot/config-txt';
import {
  buildRpiLikeImage,
  fsckExt4,
  fsckFat,
  MiB,
  mtoolsRead,
  RPI_OS_CONFIG_TXT,
  sha256,
  tempDir,
  type TestImageLayout,
} from '../../helpers/disk-images';

const dir = tempDir('xpi-compose-');
let base: TestImageLayout;
const uboot = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 7) & 255);
const bootScr = new TextEncoder().encode('boot script image');

function compressed(ext: 'xz' | 'gz' | 'zip' | 'bz2'): string {
  const out = path.join(dir, `base.img.${ext}`);
  if (fs.existsSync(out)) return out;
  if (ext === 'xz') execFileSync('xz', ['-1', '-T0', '-c', base.path], { stdio: ['ignore', fs.openSync(out, 'w'), 'inherit'] });
  if (ext === 'gz') execFileSync('gzip', ['-c', base.path], { stdio: ['ignore', fs.openSync(out, 'w'), 'inherit'] });
  if (ext === 'bz2') execFileSync('bzip2', ['-c', base.path], { stdio: ['ignore', fs.openSync(out, 'w'), 'inherit'] });
  if (ext === 'zip') execFileSync('zip', ['-j', '-q', out, base.path]);
  return out;
}

function options(source: string, overrides: Partial<ComposeOptions> = {}): ComposeOptions {
  return {
    source,
    cacheDir: path.join(dir, 'cache'),
    configTxt: { consoleUart: 'mini', kernel: 'u-boot.bin' },
    files: [
      { name: 'u-boot.bin', bytes: uboot },
      { name: 'boot.scr', bytes: bootScr },
    ],
    ...overrides,
  };
}

beforeAll(() => {
  base = buildRpiLikeImage(dir, 'base.img');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function expectComposed(image: string): void {
  const config = mtoolsRead(image, base.boot.offset, 'config.txt').toString();
  expect(config.startsWith(RPI_OS_CONFIG_TXT)).toBe(true); // the user's lines are kept
  expect(config).toContain(CONFIG_TXT_MARKER);
  expect(config).toMatch(/^kernel=u-boot\.bin$/m);
  expect(config).toMatch(/^enable_uart=1$/m);
  expect(mtoolsRead(image, base.boot.offset, 'u-boot.bin').equals(Buffer.from(uboot))).toBe(true);
  expect(mtoolsRead(image, base.boot.offset, 'boot.scr').equals(Buffer.from(bootScr))).toBe(true);
  fsckFat(image, base.boot.offset, base.boot.size, dir);
  fsckExt4(image, base.root.offset, base.root.size, dir);
  // Only the boot partition changed.
  const original = fs.readFileSync(base.path);
  const composed = fs.readFileSync(image);
  expect(composed.subarray(0, base.boot.offset).equals(original.subarray(0, base.boot.offset))).toBe(true);
  expect(composed.subarray(base.root.offset).equals(original.subarray(base.root.offset))).toBe(true);
}

describe('composing the card image', () => {
  it('decompresses an .img.xz with xz -T0, merges config.txt, adds the boot files, and reuses the base next time', async () => {
    const source = compressed('xz');
    const first = await composeImage(options(source));
    try {
      expect(first).toMatchObject({
        imageBytes: base.size,
        reusedBase: false,
        sha256Checked: false,
        configTxtChanged: true,
        written: ['config.txt', 'u-boot.bin', 'boot.scr'],
      });
      expect(first.sourceSha256).toBe(sha256(fs.readFileSync(source)));
      expect(first.configTxtDiff).toContain('+kernel=u-boot.bin');
      expectComposed(first.image);
    } finally {
      first.discard();
    }
    expect(fs.existsSync(first.image)).toBe(false);
    const second = await composeImage(options(source, { sha256: first.sourceSha256.toUpperCase() }));
    expect(second).toMatchObject({ reusedBase: true, sha256Checked: true });
    second.discard();
  });

  it.each(['gz', 'zip', 'raw'] as const)('reads a .%s source the same way', async (ext) => {
    const source = ext === 'raw' ? base.path : compressed(ext);
    const result = await composeImage(options(source));
    try {
      expectComposed(result.image);
    } finally {
      result.discard();
    }
    expect(fs.readFileSync(base.path).subarray(base.boot.offset, base.boot.offset + MiB).length).toBe(MiB); // the source itself is untouched
  });

  it('downloads an http source (checking its SHA-256) and leaves no download behind', async () => {
    const source = compressed('xz');
    const server = http.createServer((req, res) => {
      if (req.url !== '/images/base.img.xz') return res.writeHead(404).end();
      res.writeHead(200, { 'content-length': fs.statSync(source).size });
      fs.createReadStream(source).pipe(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const cacheDir = path.join(dir, 'cache-http');
      const result = await composeImage(
        options(`http://127.0.0.1:${port}/images/base.img.xz`, { cacheDir, sha256: sha256(fs.readFileSync(source)) }),
      );
      expectComposed(result.image);
      result.discard();
      expect(fs.readdirSync(path.join(cacheDir, 'downloads'))).toEqual([]);
      await expect(composeImage(options(`http://127.0.0.1:${port}/missing.img.xz`, { cacheDir }))).rejects.toMatchObject({
        code: 'DOWNLOAD_FAILED',
        details: { status: 404 },
      });
    } finally {
      server.close();
    }
  });

  it('takes config.txt from a callback when the caller merges it', async () => {
    const result = await composeImage(options(base.path, { configTxt: (existing) => `${existing ?? ''}# custom\n` }));
    try {
      expect(mtoolsRead(result.image, base.boot.offset, 'config.txt').toString()).toBe(`${RPI_OS_CONFIG_TXT}# custom\n`);
    } finally {
      result.discard();
    }
  });

  it('refuses a wrong SHA-256, showing both sums', async () => {
    const wrong = 'ab'.repeat(32);
    await expect(composeImage(options(compressed('xz'), { sha256: wrong }))).rejects.toMatchObject({
      code: 'CHECKSUM_MISMATCH',
      details: { expected: wrong },
    });
  });

  it('rejects .bz2 with a way out, and a broken .xz as corrupt, leaving nothing half-done', async () => {
    const cacheDir = path.join(dir, 'cache-bad');
    const bz2 = await composeImage(options(compressed('bz2'), { cacheDir })).catch((e: unknown) => e);
    expect(bz2).toMatchObject({ code: 'UNSUPPORTED_FORMAT', details: { phase: 'decompressing' } });
    expect((bz2 as Error & { hint: string }).hint).toContain('bunzip2');

    const broken = path.join(dir, 'broken.img.xz');
    const good = fs.readFileSync(compressed('xz'));
    const damaged = Buffer.from(good);
    damaged.fill(0x55, 2000, 6000);
    fs.writeFileSync(broken, damaged);
    await expect(composeImage(options(broken, { cacheDir }))).rejects.toMatchObject({
      code: 'SOURCE_CORRUPT',
      subject: broken,
      details: { phase: 'decompressing' },
    });
    expect(fs.readdirSync(path.join(cacheDir, 'bases'))).toEqual([]);
    expect(fs.readdirSync(path.join(cacheDir, 'work'))).toEqual([]);

    await expect(composeImage(options(path.join(dir, 'nope.img.xz'), { cacheDir }))).rejects.toMatchObject({ code: 'SOURCE_NOT_FOUND' });
  });

  it('says how much space decompressing needs when it is not there', () => {
    expect(() => checkFreeSpace(dir, 2 ** 60, 'decompress raspios.img.xz')).toThrow(/needs 1073741824\.0 GiB/);
  });

  it('cleans up what a crashed run left in the cache, but not the files of a running job', () => {
    const cacheDir = path.join(dir, 'cache-crash');
    fs.mkdirSync(path.join(cacheDir, 'bases'), { recursive: true });
    fs.mkdirSync(path.join(cacheDir, 'work'), { recursive: true });
    const gone = 2 ** 22 + 12345; // above Linux's default pid_max: no such process
    fs.writeFileSync(path.join(cacheDir, 'bases', `abc.${gone}.partial`), 'x');
    fs.writeFileSync(path.join(cacheDir, 'bases', `def.${process.pid}.partial`), 'x');
    fs.writeFileSync(path.join(cacheDir, 'bases', 'abc.img'), 'x');
    fs.writeFileSync(path.join(cacheDir, 'work', `old.${gone}.img`), 'x');
    fs.writeFileSync(path.join(cacheDir, 'work', `mine.${process.pid}.img`), 'x');
    cleanCache(cacheDir);
    expect(fs.readdirSync(path.join(cacheDir, 'bases')).sort()).toEqual(['abc.img', `def.${process.pid}.partial`]);
    expect(fs.readdirSync(path.join(cacheDir, 'work'))).toEqual([`mine.${process.pid}.img`]);
  });

  it('saves the composed image as .img and as .img.xz', async () => {
    const result = await composeImage(options(base.path));
    try {
      const img = path.join(dir, 'saved', 'card.img');
      fs.mkdirSync(path.dirname(img), { recursive: true });
      const xz = path.join(dir, 'saved', 'card.img.xz');
      await saveImage(result.image, img);
      await saveImage(result.image, xz);
      const composed = fs.readFileSync(result.image);
      expect(fs.readFileSync(img).equals(composed)).toBe(true);
      expect(execFileSync('xz', ['-dc', xz], { maxBuffer: 512 * MiB }).equals(composed)).toBe(true);
      expect(fs.readdirSync(path.join(dir, 'saved')).sort()).toEqual(['card.img', 'card.img.xz']);
    } finally {
      result.discard();
    }
  });
});
