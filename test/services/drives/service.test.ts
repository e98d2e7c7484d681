// The drives domain through the contract: flashStart with the wizard's profile composes the boot partition from real component files.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices, type Services } from '../../../electron/services';
import type { FlashDone } from '../../../shared/api/drives';
import { dispatchCall } from '../../../shared/api/dispatch';
import { CONFIG_TXT_MARKER } from '../../../shared/boot/config-txt';
import { readScriptImage } from '../../../shared/boot/script-image';
import type { FlashProgress } from '../../../shared/drives/flash';
import { defaultProfile } from '../../../shared/profile/defaults';
import type { Profile } from '../../../shared/profile/schema';
import { writeTestComponents } from '../../helpers/components';
import {
  buildRpiLikeImage,
  fsckFat,
  mtoolsRead,
  RPI_OS_CONFIG_TXT,
  sha256,
  tempDir,
  type TestImageLayout,
} from '../../helpers/disk-images';

const dir = tempDir('xpi-drives-service-');
const components = path.join(dir, 'components');
let uboot: Buffer;
let base: TestImageLayout;
let services: Services;
const events: { name: string; payload: unknown }[] = [];

/** An SD-only profile: every component goes to the boot partition, the base image comes from the profile. */
function sdProfile(): Profile {
  const profile = defaultProfile('rpi4');
  return {
    ...profile,
    xen: { ...profile.xen, binary: 'xen' },
    boot: { ...profile.boot, mode: 'sd' },
    dom0: { kernel: 'Image', ramdisk: 'initrd.cpio', memoryMb: 512, vcpus: 1, rootOnCard: false },
    deviceTree: 'board.dtb',
    ubootBinary: 'u-boot.bin',
    baseImage: 'base.img',
  };
}

function waitForDone(jobId: string, timeoutMs = 60_000): Promise<FlashDone> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = () => {
      const done = events.find((e) => e.name === 'flash:done' && (e.payload as FlashDone).jobId === jobId);
      if (done) return resolve(done.payload as FlashDone);
      if (Date.now() - started > timeoutMs) return reject(new Error('no flash:done event'));
      setTimeout(poll, 50);
    };
    poll();
  });
}

beforeAll(() => {
  uboot = fs.readFileSync(writeTestComponents(components).uboot);
  base = buildRpiLikeImage(components, 'base.img', { bootMiB: 36, rootMiB: 12, rootDataBytes: 1024 * 1024 });
  services = createServices({
    transport: 'browser',
    emit: (name, payload) => events.push({ name, payload }),
    openExternal: async () => undefined,
    userDataDir: dir,
  });
});
afterAll(async () => {
  await services?.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('flashStart through the contract', () => {
  it('composes the boot partition from the profile (config.txt merged, U-Boot, scripts, components) and writes an image file', async () => {
    const target = path.join(dir, 'out', 'card.img');
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const reply = await dispatchCall(services, 'flashStart', [{ profile: sdProfile(), targets: [{ kind: 'file', path: target }] }]);
    expect(reply).toMatchObject({ ok: true, value: { jobId: expect.any(String) } });
    const jobId = (reply as { value: { jobId: string } }).value.jobId;
    const done = await waitForDone(jobId);
    expect(done).toMatchObject({ jobId, ok: true, result: { targets: [{ target, ok: true, verified: true }] } });
    expect(done.configTxtDiff).toContain('+kernel=u-boot.bin');
    const phases = new Set(
      events
        .filter((e) => e.name === 'flash:progress' && (e.payload as FlashProgress).jobId === jobId)
        .map((e) => (e.payload as FlashProgress).phase),
    );
    expect([...phases]).toEqual(expect.arrayContaining(['composing', 'flashing', 'verifying']));

    const config = mtoolsRead(target, base.boot.offset, 'config.txt').toString();
    expect(config.startsWith(RPI_OS_CONFIG_TXT)).toBe(true);
    expect(config).toContain(CONFIG_TXT_MARKER);
    expect(config).toMatch(/^kernel=u-boot\.bin$/m);
    expect(mtoolsRead(target, base.boot.offset, 'u-boot.bin').equals(uboot)).toBe(true);
    const stage1 = readScriptImage(mtoolsRead(target, base.boot.offset, 'boot.scr'), 'boot.scr');
    expect(stage1.source).toContain('boot2.scr');
    const stage2 = readScriptImage(mtoolsRead(target, base.boot.offset, 'boot2.scr'), 'boot2.scr');
    expect(stage2.source).toMatch(/booti/);
    expect(mtoolsRead(target, base.boot.offset, 'Image').equals(fs.readFileSync(path.join(components, 'Image')))).toBe(true);
    expect(mtoolsRead(target, base.boot.offset, 'board.dtb').equals(fs.readFileSync(path.join(components, 'board.dtb')))).toBe(true);
    fsckFat(target, base.boot.offset, base.boot.size, dir);
    // Outside the boot partition the card is the base image.
    expect(fs.readFileSync(target).subarray(base.root.offset).equals(fs.readFileSync(base.path).subarray(base.root.offset))).toBe(true);
  });

  it('edits the boot partition of an image that already holds the OS in place, and reads it back', async () => {
    const card = path.join(dir, 'in-place.img');
    fs.copyFileSync(base.path, card);
    const before = fs.readFileSync(card);
    const reply = await dispatchCall(services, 'flashStart', [
      { profile: sdProfile(), targets: [{ kind: 'file', path: card }], editInPlace: true },
    ]);
    expect(reply.ok).toBe(true);
    const done = await waitForDone((reply as { value: { jobId: string } }).value.jobId);
    expect(done).toMatchObject({
      ok: true,
      edited: [{ target: card, ok: true, written: expect.arrayContaining(['config.txt', 'u-boot.bin', 'boot.scr', 'boot2.scr']) }],
    });
    expect(done.result).toBeUndefined();
    expect(mtoolsRead(card, base.boot.offset, 'u-boot.bin').equals(uboot)).toBe(true);
    expect(mtoolsRead(card, base.boot.offset, 'config.txt').toString()).toMatch(/^kernel=u-boot\.bin$/m);
    fsckFat(card, base.boot.offset, base.boot.size, dir);
    expect(fs.readFileSync(card).subarray(base.root.offset).equals(before.subarray(base.root.offset))).toBe(true);
  });

  it('streams an .img.xz base to the target while it decompresses, and keeps it in the cache for the next card', async () => {
    const xz = path.join(components, 'base.img.xz');
    execFileSync('xz', ['-1', '-T0', '-k', '-f', base.path]);
    const xzSha = sha256(fs.readFileSync(xz));
    const bases = path.join(dir, 'cache', 'bases');
    for (const round of [1, 2]) {
      const target = path.join(dir, 'out', `from-xz-${round}.img`);
      const reply = await dispatchCall(services, 'flashStart', [
        { profile: { ...sdProfile(), baseImage: 'base.img.xz' }, targets: [{ kind: 'file', path: target }], sha256: xzSha },
      ]);
      const done = await waitForDone((reply as { value: { jobId: string } }).value.jobId);
      expect(done).toMatchObject({ ok: true, sourceSha256: xzSha, result: { targets: [{ ok: true, verified: true }] } });
      expect(mtoolsRead(target, base.boot.offset, 'u-boot.bin').equals(uboot)).toBe(true);
      // The cache holds the image as downloaded (the edit is only on the target), named by the source's hash.
      expect(fs.readFileSync(path.join(bases, `${xzSha}.img`)).equals(fs.readFileSync(base.path))).toBe(true);
      expect(fs.readdirSync(bases).filter((name) => name.endsWith('.partial'))).toEqual([]);
    }
  });

  it('answers a profile whose components are missing right away, naming the problem', async () => {
    const profile = { ...sdProfile(), dom0: { ...sdProfile().dom0!, kernel: 'no-such-Image' } };
    const reply = await dispatchCall(services, 'flashStart', [{ profile, targets: [{ kind: 'file', path: path.join(dir, 'never.img') }] }]);
    expect(reply).toMatchObject({ ok: false, error: { code: 'INVALID_PROFILE' } });
    expect(JSON.stringify(reply)).toContain('no-such-Image');
    expect(fs.existsSync(path.join(dir, 'never.img'))).toBe(false);
  });

  it('refuses a request with nothing to write to, or no base image for a board that cannot start from a fresh card', async () => {
    expect(await dispatchCall(services, 'flashStart', [{ profile: sdProfile(), targets: [] }])).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT' },
    });
    const { baseImage: _none, ...noBase } = sdProfile();
    // QEMU virt has no Raspberry Pi firmware: no fresh card for it (a Pi 4 profile without a base image gets one)
    const virt = defaultProfile('qemu-virt');
    const reply = await dispatchCall(services, 'flashStart', [
      {
        profile: { ...virt, boot: { ...virt.boot, mode: 'sd' }, baseImage: undefined },
        targets: [{ kind: 'file', path: path.join(dir, 'x.img') }],
      },
    ]);
    expect(noBase.board).toBe('rpi4');
    expect(reply).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    expect(JSON.stringify(reply)).toMatch(/base image/);
  });
});
