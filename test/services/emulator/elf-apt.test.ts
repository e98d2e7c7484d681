// What the loader reads of ELF files (on this machine's own programs), module dependencies, and the private apt list.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAptSources, privateSourceList } from '../../../electron/services/emulator/apt-sources';
import { isElf, libraryClosure, moduleDepends, readElfDynamic } from '../../../electron/services/emulator/elf';

const ls = new Uint8Array(fs.readFileSync('/bin/ls'));

describe('ELF dynamic information', () => {
  it('reads /bin/ls as ldd would: its loader and its libraries', () => {
    const info = readElfDynamic(ls)!;
    expect(info.interpreter).toMatch(/^\/lib.*\/ld-linux.*\.so\.\d$/);
    expect(info.needed).toContain('libc.so.6');
    expect(info.soname).toBeUndefined();
  });

  it('finds the closure among candidate libraries by their DT_SONAME, and names what is missing', () => {
    const libcPath = ['/lib/x86_64-linux-gnu/libc.so.6', '/lib/aarch64-linux-gnu/libc.so.6'].find((p) => fs.existsSync(p))!;
    const libc = new Uint8Array(fs.readFileSync(libcPath));
    expect(readElfDynamic(libc)!.soname).toBe('libc.so.6');
    const closure = libraryClosure([ls], new Map([['/renamed/on/purpose.so', libc]]));
    expect([...closure.libraries.keys()]).toContain('libc.so.6');
    expect(closure.missing.length).toBeGreaterThan(0); // libselinux and the loader were not offered
    expect(libraryClosure([ls], new Map()).missing).toContain('libc.so.6');
  });

  it('refuses what is not a 64-bit little-endian ELF file', () => {
    expect(isElf(new TextEncoder().encode('#!/bin/sh\necho hi\n'.padEnd(80)))).toBe(false);
    expect(readElfDynamic(new Uint8Array(64))).toBeUndefined();
  });

  it('reads a module’s depends= from its .modinfo strings', () => {
    const ko = new TextEncoder().encode('\0license=GPL\0depends=libphy,of_mdio,fixed_phy\0intree=Y\0');
    expect(moduleDepends(ko)).toEqual(['libphy', 'of_mdio', 'fixed_phy']);
    expect(moduleDepends(new TextEncoder().encode('\0depends=\0'))).toEqual([]);
  });
});

describe('the private apt list', () => {
  const deb822 = [
    'Types: deb',
    'URIs: http://mirror.example.invalid/debian',
    'Suites: bookworm bookworm-updates',
    'Components: main',
    'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
    '',
    'Types: deb',
    'URIs: http://security.example.invalid/debian-security',
    'Suites: bookworm-security',
    'Components: main',
    'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
  ].join('\n');

  it('keeps the machine’s mirror and keys, adds non-free-firmware and the release’s backports', () => {
    const list = privateSourceList(parseAptSources(deb822, false), { backports: true })!;
    expect(list.split('\n').filter(Boolean)).toEqual([
      'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.example.invalid/debian bookworm main non-free-firmware',
      'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.example.invalid/debian bookworm-updates main non-free-firmware',
      'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://security.example.invalid/debian-security bookworm-security main non-free-firmware',
      'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.example.invalid/debian bookworm-backports main',
    ]);
    expect(privateSourceList(parseAptSources(deb822, false))).not.toContain('backports');
  });

  it('reads one-line sources.list entries, and gives up (undefined) when there is no Debian release to extend', () => {
    const sources = parseAptSources(
      '# comment\ndeb [arch=amd64 signed-by=/k.gpg] http://m.example.invalid/debian bookworm main contrib\ndeb-src http://x.invalid/debian bookworm main\n',
      true,
    );
    expect(sources).toEqual([
      { uri: 'http://m.example.invalid/debian', suites: ['bookworm'], components: ['main', 'contrib'], signedBy: '/k.gpg' },
    ]);
    expect(privateSourceList(parseAptSources('deb http://x.invalid/ubuntu stable main\n', true))).toBeUndefined();
  });
});
