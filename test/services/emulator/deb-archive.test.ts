// Our .deb reader must extract exactly what `dpkg-deb -x` extracts, for every compression dpkg uses.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractDeb, readArMembers, readDebFiles } from '../../../electron/services/emulator/deb-archive';

const hasDpkgDeb = (() => {
  try {
    execFileSync('dpkg-deb', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Everything about a tree that extraction must reproduce. */
function describeTree(root: string): string[] {
  const lines: string[] = [];
  const walk = (dir: string) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const rel = path.relative(root, full);
      const stat = fs.lstatSync(full);
      const mode = (stat.mode & 0o7777).toString(8);
      if (stat.isSymbolicLink()) lines.push(`l ${rel} -> ${fs.readlinkSync(full)}`);
      else if (stat.isDirectory()) {
        lines.push(`d ${rel} ${mode}`);
        walk(full);
      } else {
        const digest = createHash('sha256').update(fs.readFileSync(full)).digest('hex');
        lines.push(`f ${rel} ${mode} ${stat.size} ${digest} nlink=${stat.nlink} mtime=${Math.floor(stat.mtimeMs / 1000)}`);
      }
    }
  };
  walk(root);
  return lines;
}

describe.skipIf(!hasDpkgDeb)('extracting Debian packages without dpkg', () => {
  let work: string;
  const debs: Record<string, string> = {};

  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'deb-archive-'));
    const tree = path.join(work, 'tree');
    fs.mkdirSync(path.join(tree, 'DEBIAN'), { recursive: true });
    fs.writeFileSync(
      path.join(tree, 'DEBIAN', 'control'),
      'Package: xpi-sample\nVersion: 1.0\nArchitecture: arm64\nMaintainer: Test <t@example.invalid>\nDescription: sample\n',
    );
    fs.mkdirSync(path.join(tree, 'boot'), { recursive: true });
    fs.mkdirSync(path.join(tree, 'usr/lib/deep/er/still'), { recursive: true });
    fs.writeFileSync(path.join(tree, 'boot/xen-4.17-arm64'), Buffer.alloc(300_000, 7));
    fs.writeFileSync(path.join(tree, 'usr/lib/deep/er/still/module.ko'), 'not really a module\n');
    fs.writeFileSync(path.join(tree, 'usr/lib/run'), '#!/bin/sh\n');
    fs.chmodSync(path.join(tree, 'usr/lib/run'), 0o4755);
    fs.writeFileSync(path.join(tree, 'usr/lib/empty'), '');
    fs.symlinkSync('xen-4.17-arm64', path.join(tree, 'boot/xen'));
    fs.symlinkSync('../../boot/xen', path.join(tree, 'usr/lib/xen-link'));
    fs.linkSync(path.join(tree, 'usr/lib/run'), path.join(tree, 'usr/lib/run-again'));
    fs.writeFileSync(path.join(tree, 'usr/lib', 'a'.repeat(120)), 'a long name needs a GNU or pax header\n');
    for (const compression of ['xz', 'zstd', 'gzip', 'none']) {
      debs[compression] = path.join(work, `sample-${compression}.deb`);
      execFileSync('dpkg-deb', ['--root-owner-group', `-Z${compression}`, '-b', tree, debs[compression]!], { stdio: 'ignore' });
    }
  });

  afterAll(() => {
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('lists the ar members of a package', async () => {
    const members = await readArMembers(debs.xz!);
    expect(members.map((m) => m.name)).toEqual(['debian-binary', 'control.tar.xz', 'data.tar.xz']);
    const version = fs.readFileSync(debs.xz!).subarray(members[0]!.offset, members[0]!.offset + members[0]!.size);
    expect(version.toString()).toBe('2.0\n');
  });

  for (const compression of ['xz', 'zstd', 'gzip', 'none']) {
    it(`extracts a ${compression} package identically to dpkg-deb -x`, async () => {
      const ours = path.join(work, `ours-${compression}`);
      const theirs = path.join(work, `theirs-${compression}`);
      execFileSync('dpkg-deb', ['-x', debs[compression]!, theirs]);
      await extractDeb(debs[compression]!, ours);
      expect(describeTree(ours)).toEqual(describeTree(theirs));
      expect(describeTree(ours).length).toBeGreaterThan(10);
    });
  }

  it('extracts only the wanted files when asked', async () => {
    const dest = path.join(work, 'selected');
    const written = await extractDeb(debs.xz!, dest, { wanted: (p) => p.endsWith('.ko') });
    expect(written).toEqual(['usr/lib/deep/er/still/module.ko']);
    expect(fs.readFileSync(path.join(dest, written[0]!), 'utf8')).toBe('not really a module\n');
    expect(fs.existsSync(path.join(dest, 'boot'))).toBe(false);
  });

  it('reads chosen files into memory', async () => {
    const files = await readDebFiles(debs.zstd!, (p) => p.startsWith('boot/'));
    expect([...files.keys()]).toEqual(['boot/xen-4.17-arm64']);
    expect(files.get('boot/xen-4.17-arm64')!.length).toBe(300_000);
  });

  it('rejects a file that is not a package', async () => {
    const bogus = path.join(work, 'bogus.deb');
    fs.writeFileSync(bogus, 'hello');
    await expect(extractDeb(bogus, path.join(work, 'bogus'))).rejects.toMatchObject({ code: 'BAD_PACKAGE' });
  });
});
