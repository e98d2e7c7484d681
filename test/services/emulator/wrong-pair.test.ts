// A trial of a profile whose Xen and Dom0 kernel are swapped fails with the reason before anything boots, on either machine.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readComponentFacts } from '../../../electron/services/boot-files/facts';
import { runTrial } from '../../../electron/services/emulator/run';
import { defaultProfile } from '../../../shared/profile/defaults';
import type { Profile } from '../../../shared/profile/schema';
import { arm64Image, xenImage } from '../../helpers/components';

const cache = process.env.XEN_PI_IMAGER_CACHE ?? '/work/main/.cache/emulator';
const debianXen = path.join(cache, 'debian-arm64/xen-4.17/xen-4.17-arm64');
const debianKernel = path.join(cache, 'debian-arm64/xen-4.17/vmlinuz-6.1.0-57-arm64');
const haveDebianParts = fs.existsSync(debianXen) && fs.existsSync(debianKernel);

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wrong-pair-'));
  fs.writeFileSync(path.join(dir, 'xen'), xenImage(256 * 1024));
  fs.writeFileSync(path.join(dir, 'vmlinuz'), arm64Image(512 * 1024, 'Linux version 6.1.0-57-arm64 (debian-kernel@lists.debian.org)'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A Pi 4 profile with the two files in each other's field. */
function swapped(xen: string, kernel: string): Profile {
  const profile = defaultProfile('rpi4');
  profile.xen.binary = kernel;
  profile.dom0 = { ...profile.dom0!, kernel: xen, ramdisk: undefined as unknown as string };
  delete profile.dom0.ramdisk;
  return profile;
}

describe('reading what a file is', () => {
  it('reads a Xen binary’s series and schedulers from its bytes, and a kernel’s release', () => {
    expect(readComponentFacts(path.join(dir, 'xen')).xen).toEqual({ series: '4.17', schedulers: ['credit', 'credit2'] });
    const kernel = readComponentFacts(path.join(dir, 'vmlinuz'));
    expect(kernel.linuxVersion).toBe('6.1.0-57-arm64');
    expect(kernel.xen).toBeUndefined();
  });

  it.skipIf(!haveDebianParts)('finds Debian’s Xen 4.17 built without the null scheduler (it says "Could not find scheduler: null")', () => {
    expect(readComponentFacts(debianXen).xen).toEqual({ series: '4.17', schedulers: ['credit', 'credit2'] });
    expect(readComponentFacts(debianKernel)).toMatchObject({ linuxVersion: expect.stringMatching(/^6\.1\.0-\d+-arm64$/) });
  });
});

describe('a trial of a swapped Xen and Dom0 kernel', () => {
  for (const machine of ['virt', 'raspi4b', 'auto'] as const) {
    it(`fails with the reason before QEMU starts (machine ${machine})`, async () => {
      const progress: string[] = [];
      const trial = runTrial(
        {
          profile: swapped('xen', 'vmlinuz'),
          options: { machine },
          componentsDir: dir,
          cacheDir: path.join(dir, 'cache'),
          env: { ...process.env, XEN_PI_IMAGER_CACHE: path.join(dir, 'cache') },
        },
        { onProgress: (message) => progress.push(message) },
      );
      await expect(trial).rejects.toMatchObject({
        code: 'INVALID_PROFILE',
        message: expect.stringMatching(
          /\$\.xen\.binary: vmlinuz is a Linux kernel \(Linux 6\.1\.0-57-arm64\), not Xen.*\$\.dom0\.kernel: xen is Xen 4\.17, not a Linux kernel/,
        ),
        hint: expect.stringContaining('the trial boots your own Xen and kernel'),
      });
      expect(progress).toEqual([]);
    });
  }

  it.skipIf(!haveDebianParts)('fails with Debian’s own files swapped too', async () => {
    const trial = runTrial({ profile: swapped(debianXen, debianKernel), options: { machine: 'virt' }, componentsDir: dir });
    await expect(trial).rejects.toMatchObject({ code: 'INVALID_PROFILE', message: expect.stringMatching(/look swapped: exchange them/) });
  });
});
