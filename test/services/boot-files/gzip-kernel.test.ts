// A Dom0 kernel stored gzip'd: the copy unpacks to the very Image, the sizes say what is saved, and only a plain Image is taken.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cachedGzipKernel, gunzipKernelFile, gzipComponent } from '../../../electron/services/boot-files/gzip-kernel';
import { inspectComponent } from '../../../electron/services/boot-files/service';
import { arm64Head } from '../../shared/boot/fixtures';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xpi-gzip-kernel-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** An arm64 Image: the header, then text that compresses as a kernel's does (about 3:1), then noise. */
function writeImage(name: string): Buffer {
  const body = Buffer.concat([
    Buffer.from(arm64Head(4 << 20)),
    Buffer.from('Linux version 6.1.0-57-arm64 (debian-kernel) '.repeat(60_000)),
    randomBytes(256 * 1024),
  ]);
  fs.writeFileSync(path.join(dir, name), body);
  return body;
}

describe('a gzip’d Dom0 kernel', () => {
  it('is written beside the Image, named as the profile names it, and unpacks to the same bytes', async () => {
    const image = writeImage('vmlinuz');
    const stored = await gzipComponent('vmlinuz', path.join(dir, 'vmlinuz'));
    expect(stored).toMatchObject({ path: 'vmlinuz.gz', resolvedPath: path.join(dir, 'vmlinuz.gz'), originalSize: image.length });
    const gz = fs.readFileSync(stored.resolvedPath);
    expect(stored.size).toBe(gz.length);
    expect(stored.size).toBeLessThan(image.length / 3);
    expect(gunzipSync(gz).equals(image)).toBe(true);
    // the wizard's line: the size once unpacked comes from the gzip trailer
    expect(inspectComponent(dir, 'vmlinuz.gz')).toMatchObject({
      kind: 'gzip',
      size: gz.length,
      unpackedSize: image.length,
      linuxVersion: '6.1.0-57-arm64',
    });
    await gunzipKernelFile(stored.resolvedPath, path.join(dir, 'again'));
    expect(fs.readFileSync(path.join(dir, 'again')).equals(image)).toBe(true);
  });

  it('refuses what is not a plain Image, saying what it is', async () => {
    writeImage('vmlinuz');
    const { resolvedPath } = await gzipComponent('vmlinuz', path.join(dir, 'vmlinuz'));
    await expect(gzipComponent('vmlinuz.gz', resolvedPath)).rejects.toMatchObject({
      code: 'WRONG_FILE_TYPE',
      hint: expect.stringMatching(/gzip’d already/),
    });
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'hello\n');
    await expect(gzipComponent('notes.txt', path.join(dir, 'notes.txt'))).rejects.toMatchObject({
      code: 'WRONG_FILE_TYPE',
      message: expect.stringMatching(/not a plain arm64 kernel Image/),
    });
    expect(fs.existsSync(path.join(dir, 'notes.txt.gz'))).toBe(false);
  });

  it('is made once for a cached kernel and made again only when the kernel changes', async () => {
    writeImage('vmlinuz-6.1.0-57-arm64');
    const kernel = path.join(dir, 'vmlinuz-6.1.0-57-arm64');
    const first = await cachedGzipKernel(kernel, os.tmpdir());
    expect(first).toBe(`${kernel}.gz`);
    const made = fs.statSync(first).mtimeMs;
    expect(await cachedGzipKernel(kernel, os.tmpdir())).toBe(first);
    expect(fs.statSync(first).mtimeMs).toBe(made);
    const later = new Date(made + 5000);
    fs.utimesSync(kernel, later, later);
    await cachedGzipKernel(kernel, os.tmpdir());
    expect(fs.statSync(first).mtimeMs).toBeGreaterThan(made);
  });

  it('falls back to a spare folder when the cache cannot be written', async () => {
    writeImage('vmlinuz');
    const spare = fs.mkdtempSync(path.join(os.tmpdir(), 'xpi-spare-'));
    // root writes through permissions: a read-only bind mount is what refuses it
    const root = process.getuid?.() === 0;
    if (root) {
      execFileSync('mount', ['--bind', dir, dir]);
      execFileSync('mount', ['-o', 'remount,ro,bind', dir]);
    } else fs.chmodSync(dir, 0o555);
    try {
      const made = await cachedGzipKernel(path.join(dir, 'vmlinuz'), spare);
      expect(made).toBe(path.join(spare, 'vmlinuz.gz'));
      expect(fs.existsSync(made)).toBe(true);
      expect(fs.existsSync(path.join(dir, 'vmlinuz.gz'))).toBe(false);
    } finally {
      if (root) execFileSync('umount', [dir]);
      else fs.chmodSync(dir, 0o755);
      fs.rmSync(spare, { recursive: true, force: true });
    }
  });
});
