// The Dom0 test initramfs: a newc cpio the real `cpio` unpacks, with busybox, the Xen modules and an /init that reports and powers off.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { writeCpio } from '../../../electron/services/emulator/cpio';
import {
  boardDom0InitScript,
  buildBoardDom0Initramfs,
  buildDom0Initramfs,
  dom0InitScript,
} from '../../../electron/services/emulator/initramfs';
import { findExecutable } from '../../../electron/node/host-tools';

const cpio = findExecutable('cpio');

function listCpio(archive: Uint8Array): string {
  return execFileSync('cpio', ['-itv', '--quiet'], { input: archive }).toString();
}

describe('writing cpio archives', () => {
  it('ends with the TRAILER!!! entry and pads every entry to 4 bytes', () => {
    const archive = writeCpio([{ kind: 'file', path: 'a', data: new Uint8Array([1, 2, 3]) }]);
    expect(archive.length % 4).toBe(0);
    expect(new TextDecoder().decode(archive.subarray(0, 6))).toBe('070701');
    expect(new TextDecoder().decode(archive)).toContain('TRAILER!!!');
  });

  it.skipIf(!cpio)('writes what GNU cpio reads: files, folders, symlinks, device nodes, modes', () => {
    const archive = writeCpio([
      { kind: 'directory', path: 'bin' },
      { kind: 'file', path: 'bin/tool', data: new TextEncoder().encode('#!/bin/sh\n'), mode: 0o755 },
      { kind: 'symlink', path: 'bin/sh', target: 'tool' },
      { kind: 'directory', path: 'dev' },
      { kind: 'char-device', path: 'dev/console', major: 5, minor: 1 },
      { kind: 'file', path: 'odd-size', data: new Uint8Array(5) },
    ]);
    const listing = listCpio(archive).split('\n').filter(Boolean);
    expect(listing).toHaveLength(6);
    expect(listing[0]).toMatch(/^drwxr-xr-x .* bin$/);
    expect(listing[1]).toMatch(/^-rwxr-xr-x .* 10 .* bin\/tool$/);
    expect(listing[2]).toMatch(/^lrwxrwxrwx .* bin\/sh -> tool$/);
    expect(listing[4]).toMatch(/^crw------- .* 5,\s+1 .* dev\/console$/);
    expect(listing[5]).toMatch(/ 5 .* odd-size$/);
  });
});

describe('the Dom0 test initramfs', () => {
  const busybox = new Uint8Array(4096).fill(0x7f);
  const modules = [
    { name: 'xen-privcmd.ko', data: new TextEncoder().encode('privcmd') },
    { name: 'xenfs.ko', data: new TextEncoder().encode('xenfs') },
  ];

  it('loads privcmd before xenfs, reports Xen’s version and capabilities, then powers off', () => {
    const script = dom0InitScript(modules.map((m) => m.name));
    const lines = script.split('\n');
    expect(lines[0]).toBe('#!/bin/sh');
    expect(lines.findIndex((l) => l.startsWith('insmod /lib/modules/xen-privcmd.ko'))).toBeLessThan(
      lines.findIndex((l) => l.startsWith('insmod /lib/modules/xenfs.ko')),
    );
    expect(script).toContain('mount -t xenfs xenfs /proc/xen');
    expect(script).toContain('echo "XEN-PI-IMAGER-DOM0 xen-version $(cat $v/major).$(cat $v/minor)$(cat $v/extra)"');
    expect(script).toContain('echo "XEN-PI-IMAGER-DOM0 capabilities $(cat /proc/xen/capabilities)"');
    expect(lines.filter(Boolean).at(-1)).toBe('poweroff -f');
  });

  it.skipIf(!cpio)('unpacks with gunzip and cpio into a root with /init, busybox, /dev/console and the modules', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'initramfs-'));
    try {
      const archive = gunzipSync(buildDom0Initramfs({ busybox, modules }));
      execFileSync('cpio', ['-idm', '--quiet', '--no-absolute-filenames'], { cwd: dir, input: archive });
      expect(fs.statSync(path.join(dir, 'init')).mode & 0o777).toBe(0o755);
      expect(fs.readFileSync(path.join(dir, 'init'), 'utf8')).toBe(dom0InitScript(['xen-privcmd.ko', 'xenfs.ko']));
      expect(new Uint8Array(fs.readFileSync(path.join(dir, 'bin/busybox')))).toEqual(busybox);
      expect(fs.readlinkSync(path.join(dir, 'bin/sh'))).toBe('busybox');
      expect(fs.readFileSync(path.join(dir, 'lib/modules/xenfs.ko'), 'utf8')).toBe('xenfs');
      expect(listCpio(new Uint8Array(archive))).toMatch(/crw------- .* dev\/console/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the board’s Dom0 initramfs (busybox, modules, xl and its libraries, a shell on hvc0)', () => {
  const inputs = {
    busybox: new Uint8Array(4096).fill(0x7f),
    modules: [{ name: 'xen-evtchn.ko', data: new TextEncoder().encode('evtchn') }],
    xenVersion: '4.17',
    programs: [{ name: 'xl', data: new TextEncoder().encode('xl') }],
    libraries: [
      { soname: 'libc.so.6', data: new TextEncoder().encode('libc') },
      { soname: 'ld-linux-aarch64.so.1', data: new TextEncoder().encode('ld') },
    ],
    interpreter: '/lib/ld-linux-aarch64.so.1',
  };

  it.skipIf(!cpio)('lays the toolstack out as Debian does, with the loader where the programs look for it', () => {
    const listing = listCpio(gunzipSync(buildBoardDom0Initramfs(inputs)));
    expect(listing).toMatch(/ usr\/lib\/xen-4\.17\/bin\/xl$/m);
    expect(listing).toMatch(/ usr\/sbin\/xl -> \.\.\/lib\/xen-4\.17\/bin\/xl$/m);
    expect(listing).toMatch(/ lib\/aarch64-linux-gnu\/libc\.so\.6$/m);
    expect(listing).toMatch(/ lib\/ld-linux-aarch64\.so\.1 -> aarch64-linux-gnu\/ld-linux-aarch64\.so\.1$/m);
    expect(listing).toMatch(/ lib\/modules\/xen-evtchn\.ko$/m);
    expect(listing).toMatch(/ etc\/xen\/xl\.conf$/m);
  });

  it('starts the toolstack, says so, and keeps a shell on the console instead of powering off', () => {
    const script = boardDom0InitScript(['xen-evtchn.ko'], '4.17');
    expect(script).toContain('insmod /lib/modules/xen-evtchn.ko');
    expect(script).toMatch(/xenstored --pid-file=\S+ && xen-init-dom0; then echo "XEN-PI-IMAGER-DOM0 toolstack ready"/);
    expect(script).toMatch(/while true; do setsid cttyhack sh -l/);
    expect(script).not.toMatch(/^poweroff -f$/m);
  });
});
