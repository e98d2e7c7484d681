// Debian's real arm64 packages, fetched with apt-get on a private list (cached), unpacked by our code and checked against dpkg.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractDeb, readDebFiles } from '../../../electron/services/emulator/deb-archive';
import { decompressModule, fetchDebianParts, partsCacheRoot, type DebianParts } from '../../../electron/services/emulator/debian-parts';
import { findExecutable } from '../../../electron/node/host-tools';

const repoRoot = path.resolve(__dirname, '../../..');
const cacheDir = process.env.XEN_PI_IMAGER_CACHE ?? path.join(repoRoot, '.cache', 'emulator');
const canFetch = Boolean(findExecutable('apt-get') && findExecutable('dpkg-deb'));
if (!canFetch) console.warn('Skipping the Debian parts tests: they need apt-get and dpkg-deb (a Debian or Ubuntu machine).');

const ARM64_IMAGE_MAGIC = 'ARM\x64';

describe('where the parts are cached', () => {
  it('uses XEN_PI_IMAGER_CACHE when set, else the app’s cache folder', () => {
    expect(partsCacheRoot({ XEN_PI_IMAGER_CACHE: '/ci/cache' })).toBe('/ci/cache');
    expect(partsCacheRoot({ XEN_PI_IMAGER_HOME: '/home/u/xpi' })).toBe('/home/u/xpi/cache');
  });
});

describe('uncompressing kernel modules', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'modules-'));
  const module = Buffer.from('\x7fELF a pretend module '.repeat(100));
  fs.writeFileSync(path.join(dir, 'm.ko'), module);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const [tool, ext] of [
    ['xz', '.xz'],
    ['zstd', '.zst'],
    ['gzip', '.gz'],
  ] as const) {
    it.skipIf(!findExecutable(tool))(`reads .ko${ext} as newer kernels ship them`, async () => {
      const packed = execFileSync(tool, tool === 'xz' ? ['--check=crc32', '-c', 'm.ko'] : ['-c', 'm.ko'], { cwd: dir });
      expect(Buffer.from(await decompressModule(`xenfs.ko${ext}`, new Uint8Array(packed)))).toEqual(module);
    });
  }
});

describe.skipIf(!canFetch)('Debian’s arm64 Xen 4.17, kernel and busybox', () => {
  let parts: DebianParts;
  let work: string;
  const debOf = (name: string) => {
    const dir = path.join(cacheDir, 'debian-arm64', 'debs');
    const version = Object.values(parts.packages).find((p) => p.name === name)!.version;
    return path.join(dir, `${name}_${version.replace(/:/g, '%3a')}_arm64.deb`);
  };

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'debian-parts-'));
    parts = await fetchDebianParts({ xenVersion: '4.17', cacheDir });
  }, 300_000);
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  it('resolves the kernel through the linux-image-arm64 metapackage', () => {
    expect(parts.packages.kernel.name).toBe(`linux-image-${parts.kernelAbi}`);
    expect(parts.kernelAbi).toMatch(/^\d+\.\d+\.\d+-\d+-arm64$/);
    expect(parts.packages.xen.version).toMatch(/^4\.17\./);
  });

  it('gives Xen and the Dom0 kernel as arm64 Images', () => {
    for (const file of [parts.xen, parts.kernel]) {
      expect(fs.readFileSync(file).subarray(56, 60).toString('latin1')).toBe(ARM64_IMAGE_MAGIC);
    }
  });

  it('unpacks the Xen package exactly as dpkg-deb -x does', async () => {
    execFileSync('dpkg-deb', ['-x', debOf(parts.packages.xen.name), path.join(work, 'theirs')]);
    await extractDeb(debOf(parts.packages.xen.name), path.join(work, 'ours'));
    const list = (root: string) =>
      execFileSync('sh', ['-c', 'find . -printf "%y %m %s %T@ %p %l\\n" | sort; find . -type f -exec sha256sum {} + | sort'], {
        cwd: root,
      }).toString();
    expect(list(path.join(work, 'ours'))).toBe(list(path.join(work, 'theirs')));
  });

  it('puts the package’s own busybox and Xen modules in the initramfs, with an /init', async () => {
    const theirs = await readDebFiles(debOf('busybox-static'), (p) => p === 'bin/busybox' || p === 'usr/bin/busybox');
    const busybox = Buffer.from([...theirs.values()][0]!);
    const archive = gunzipSync(fs.readFileSync(parts.initramfs));
    const listing = execFileSync('cpio', ['-it', '--quiet'], { input: archive }).toString().split('\n');
    expect(listing).toEqual(
      expect.arrayContaining(['init', 'bin/busybox', 'dev/console', 'lib/modules/xen-privcmd.ko', 'lib/modules/xenfs.ko']),
    );
    expect(archive.includes(busybox)).toBe(true);
  });

  it('reuses the cached set without asking Debian again', async () => {
    const started = Date.now();
    const again = await fetchDebianParts({ xenVersion: '4.17', cacheDir, env: { PATH: '' } }); // no apt-get on this PATH
    expect(again).toEqual(parts);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
