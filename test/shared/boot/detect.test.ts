// File recognition by content agrees with what `file -L | grep` decides in ImageBuilder, on real files made by real tools.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { detectFile, findLinuxVersion, kernelMajorMinor, readArm64Header } from '../../../shared/boot/detect';
import { arm64Head } from './fixtures';

const dir = mkdtempSync(path.join(tmpdir(), 'detect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sample(name: string, bytes: Uint8Array | string): string {
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

function policyHeader(config: number): Uint8Array {
  const bytes = new Uint8Array(64);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 0xf97cff8c, true);
  view.setUint32(4, 8, true);
  bytes.set(new TextEncoder().encode('XenFlask'), 8);
  [30, config, 8, 7].forEach((value, i) => view.setUint32(16 + 4 * i, value, true));
  return bytes;
}

function makeSamples(): Record<string, string> {
  const image = new Uint8Array(8192);
  image.set(arm64Head(3 * 1024 * 1024));
  const dts = sample('t.dts', '/dts-v1/;\n/ { compatible = "test"; chosen { }; };\n');
  execFileSync('dtc', ['-I', 'dts', '-O', 'dtb', '-o', path.join(dir, 'tree.dtb'), dts], { stdio: 'pipe' });
  sample('hello.txt', 'hello\n');
  execFileSync('sh', ['-c', `cd ${dir} && echo hello.txt | cpio -o -H newc > initrd.cpio 2>/dev/null`]);
  sample('initrd.cpio.gz', gzipSync(readFileSync(path.join(dir, 'initrd.cpio'))));
  execFileSync(
    'mkimage',
    ['-A', 'arm64', '-T', 'kernel', '-C', 'none', '-a', '0', '-e', '0', '-d', path.join(dir, 'hello.txt'), path.join(dir, 'uImage')],
    { stdio: 'pipe' },
  );
  return {
    image: sample('Image', image),
    dtb: path.join(dir, 'tree.dtb'),
    cpio: path.join(dir, 'initrd.cpio'),
    gzip: path.join(dir, 'initrd.cpio.gz'),
    text: path.join(dir, 'hello.txt'),
    utf8: sample('utf8.txt', 'grüße\n'),
    data: sample(
      'random.bin',
      Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 251),
    ),
    empty: sample('empty', ''),
    // the header of Xen's XSM/FLASK policy: SELinux's magic, "XenFlask", version 30, then config, symbols, ocons
    policy: sample('xenpolicy', policyHeader(0)),
    policyMls: sample('xenpolicy-mls', policyHeader(1)),
    uimage: path.join(dir, 'uImage'),
    elf: process.execPath,
  };
}

describe('file type recognition', () => {
  const samples = makeSamples();
  const patterns = {
    executable: /executable|data/,
    cpio: /cpio archive/,
    dtb: /Device Tree Blob|data/,
    text: /ASCII text/,
    policy: /SE Linux policy/,
  };

  it.each(Object.keys(samples))('decides the %s sample like file(1) + grep does for every ImageBuilder check', (name) => {
    const file = samples[name]!;
    const bytes = readFileSync(file);
    const ours = detectFile(bytes.subarray(0, 65536), bytes.length).description;
    const theirs = execFileSync('file', ['-L', file], { encoding: 'utf8' });
    for (const [check, pattern] of Object.entries(patterns)) {
      expect({ check, ours: pattern.test(ours) }).toEqual({ check, ours: pattern.test(theirs) });
    }
  });

  it('describes an XSM policy as file(1) does', () => {
    for (const name of ['policy', 'policyMls']) {
      const bytes = readFileSync(samples[name]!);
      const theirs = execFileSync('file', ['-L', '-b', samples[name]!], { encoding: 'utf8' }).trim();
      expect(detectFile(bytes, bytes.length).description).toBe(theirs);
    }
    expect(detectFile(readFileSync(samples.policy!).subarray(0, 4), 4).description).toBe('SE Linux policy');
  });

  it('reads the arm64 Image header: image_size, page size, endianness', () => {
    const header = readArm64Header(arm64Head(0x1_2345_6789));
    expect(header).toMatchObject({ imageSize: 0x1_2345_6789, pageSizeKiB: 4, bigEndian: false });
    expect(readArm64Header(new Uint8Array(64))).toBeUndefined();
    expect(detectFile(arm64Head(100), 100).kind).toBe('arm64-image');
  });

  it('recognises gzip, cpio, device trees and U-Boot images by their magic', () => {
    const kinds = Object.fromEntries(
      Object.entries(samples).map(([name, file]) => {
        const bytes = readFileSync(file);
        return [name, detectFile(bytes.subarray(0, 65536), bytes.length).kind];
      }),
    );
    expect(kinds).toEqual({
      image: 'arm64-image',
      dtb: 'dtb',
      cpio: 'cpio',
      gzip: 'gzip',
      text: 'text',
      utf8: 'text',
      data: 'data',
      empty: 'empty',
      policy: 'selinux-policy',
      policyMls: 'selinux-policy',
      uimage: 'uimage',
      elf: 'elf',
    });
  });

  it('finds the Linux version banner and its major.minor', () => {
    const bytes = new TextEncoder().encode('\0\0Linux version 5.10.0-28-arm64 (debian-kernel@lists.debian.org) #1 SMP\0');
    expect(findLinuxVersion(bytes)).toBe('5.10.0-28-arm64');
    expect(findLinuxVersion(new TextEncoder().encode('Linux version string missing'))).toBeUndefined();
    expect(kernelMajorMinor('6.1.0-13-arm64')).toEqual([6, 1]);
  });
});
