// The page's file browser (browser mode): a folder's entries inside the allowed places, and nothing outside them,
// however the path is written — `..`, symlinks out, quoted or `~` paths, NUL bytes, devices.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowsePlace } from '../../../shared/api/files';
import { browsePlaces, listFolder, MAX_ENTRIES } from '../../../electron/services/files/folders';
import { cleanTypedPath } from '../../../shared/text/typed-path';

let root: string;
let home: string;
let places: BrowsePlace[];
const outsideDir = () => path.join(root, 'outside');

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'xpi-folders-'));
  home = path.join(root, 'home');
  mkdirSync(path.join(home, 'parts', 'rpi4'), { recursive: true });
  mkdirSync(path.join(home, '.secret'), { recursive: true });
  mkdirSync(outsideDir(), { recursive: true });
  writeFileSync(path.join(home, 'parts', 'xen'), 'x'.repeat(1234));
  writeFileSync(path.join(home, 'parts', 'vmlinuz'), 'k');
  writeFileSync(path.join(outsideDir(), 'shadow'), 'secret');
  symlinkSync(outsideDir(), path.join(home, 'parts', 'escape'));
  symlinkSync(path.join(home, 'parts', 'xen'), path.join(home, 'parts', 'xen-link'));
  symlinkSync('/dev/null', path.join(home, 'parts', 'null-device'));
  // the components folder is a place of its own, wherever it is
  places = (await browsePlaces(path.join(home, 'parts', 'rpi4'), home)).filter((p) => p.path.startsWith(root));
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the file browser’s folders', () => {
  it('lists folders first, then files with their sizes, hiding dot files', async () => {
    const listing = await listFolder(path.join(home, 'parts'), places, home);
    expect(listing.entries.map((e) => `${e.kind} ${e.name}`)).toEqual(['folder rpi4', 'file vmlinuz', 'file xen', 'file xen-link']);
    expect(listing.entries.find((e) => e.name === 'xen')).toMatchObject({ size: 1234, path: path.join(home, 'parts', 'xen') });
    expect(listing.parent).toBe(home);
    expect((await listFolder(undefined, places, home)).path).toBe(home);
    expect((await listFolder(home, places, home)).entries.map((e) => e.name)).toEqual(['parts']);
  });

  it('leaves out symlinks that lead outside the places, and devices', async () => {
    const names = (await listFolder(path.join(home, 'parts'), places, home)).entries.map((e) => e.name);
    expect(names).not.toContain('escape');
    expect(names).not.toContain('null-device');
  });

  it('refuses every way out of the places, naming the places', async () => {
    for (const hostile of [
      outsideDir(),
      path.join(home, '..', 'outside'),
      path.join(home, 'parts', 'escape'),
      '/',
      '/etc',
      '../../..',
      `${home}\0/../outside`,
    ]) {
      await expect(listFolder(hostile, places, home), hostile).rejects.toMatchObject({
        code: 'PERMISSION_DENIED',
        message: expect.stringContaining(home),
      });
    }
    const top = await listFolder(home, places, home);
    expect(top.parent).toBeUndefined(); // the folder above home is not a place
  });

  it('understands ~ and quoted paths as typed, and says what is missing or not a folder', async () => {
    expect((await listFolder('~/parts', places, home)).path).toBe(path.join(home, 'parts'));
    expect((await listFolder(`'${home}/parts'`, places, home)).path).toBe(path.join(home, 'parts'));
    await expect(listFolder('~/nowhere', places, home)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: `There is no folder ${path.join(home, 'nowhere')}.`,
    });
    await expect(listFolder('~/parts/xen', places, home)).rejects.toMatchObject({ code: 'NOT_A_FOLDER' });
  });

  it('carries at most MAX_ENTRIES names and says it cut the rest', async () => {
    const big = path.join(home, 'big');
    mkdirSync(big);
    for (let i = 0; i < MAX_ENTRIES + 5; i++) writeFileSync(path.join(big, `f${String(i).padStart(5, '0')}`), '');
    const listing = await listFolder(big, places, home);
    expect(listing.entries).toHaveLength(MAX_ENTRIES);
    expect(listing.truncated).toBe(true);
  });
});

describe('paths as people type them', () => {
  it('takes off the quotes of "Copy as path" and reads ~ as the home folder', () => {
    expect(cleanTypedPath(`'/home/me/My Pi/xen'`, '/home/me')).toBe('/home/me/My Pi/xen');
    expect(cleanTypedPath(`"/home/me/xen"  `, '/home/me')).toBe('/home/me/xen');
    expect(cleanTypedPath('~/parts/xen', '/home/me/')).toBe('/home/me/parts/xen');
    expect(cleanTypedPath('~', '/home/me')).toBe('/home/me');
    expect(cleanTypedPath('~other/xen', '/home/me')).toBe('~other/xen');
    expect(cleanTypedPath('parts/xen', '/home/me')).toBe('parts/xen');
    expect(cleanTypedPath(`'unbalanced`, '/home/me')).toBe(`'unbalanced`);
  });
});
