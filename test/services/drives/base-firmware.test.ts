// A Pi 4 profile on a base image: refused when the image lacks the Pi 4 firmware, and told when it replaces the image's own files.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeImage } from '../../../electron/services/drives/compose';
import { bootPartitionEdit, prepareBoot, readyBoot } from '../../../electron/services/boot-files/prepare';
import type { Profile } from '../../../shared/profile/schema';
import { composeOverlay } from '../../../electron/writer/compose-overlay';
import { bootEditRequest } from '../../../electron/services/drives/flash-runner';
import { testProfile, writeTestComponents, type TestComponents } from '../../helpers/components';
import { buildRpiLikeImage, tempDir } from '../../helpers/disk-images';

const dir = tempDir('xpi-base-firmware-');
let components: TestComponents;
beforeAll(() => {
  components = writeTestComponents(path.join(dir, 'parts'));
  fs.copyFileSync(components.dtb, path.join(components.dir, 'bcm2711-rpi-4-b.dtb'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The boot-partition edit a write of this profile makes, through the one door every write takes. */
const bootEditForProfile = (profile: Profile, baseDir: string) => bootPartitionEdit(readyBoot(prepareBoot(profile, baseDir)));

/** An SD-only Pi 4 profile whose device tree has the name Raspberry Pi OS gives its own. */
function sdOnly() {
  return { ...testProfile(components, 'sd'), deviceTree: path.join(components.dir, 'bcm2711-rpi-4-b.dtb') };
}

describe('a base image for a Pi 4', () => {
  it('without fixup4.dat is refused, naming the file and what to choose instead', async () => {
    const base = buildRpiLikeImage(dir, 'no-fixup.img', { bootFiles: { 'fixup4.dat': null } });
    const edit = bootEditForProfile(sdOnly(), components.dir);
    const composing = composeImage({ source: base.path, cacheDir: path.join(dir, 'cache'), ...edit });
    await expect(composing).rejects.toMatchObject({
      code: 'NO_FIRMWARE',
      message: expect.stringMatching(
        /^The base image’s boot partition has no fixup4\.dat: a Raspberry Pi 4 would not start from this card/,
      ),
      hint: expect.stringMatching(/Raspberry Pi OS image \(64-bit, for the Pi 4\), or leave the base image empty/),
    });
    // the writer's in-memory composition (cards and image files written straight from the base) refuses it too
    await expect(composeOverlay(base.path, bootEditRequest(edit)!)).rejects.toMatchObject({ code: 'NO_FIRMWARE' });
  });

  it('with neither start4.elf nor fixup4.dat names both', async () => {
    const base = buildRpiLikeImage(dir, 'no-firmware.img', { bootFiles: { 'start4.elf': null, 'fixup4.dat': null } });
    const composing = composeImage({
      source: base.path,
      cacheDir: path.join(dir, 'cache'),
      ...bootEditForProfile(sdOnly(), components.dir),
    });
    await expect(composing).rejects.toMatchObject({
      code: 'NO_FIRMWARE',
      message: expect.stringContaining('has no start4.elf and fixup4.dat'),
    });
  });

  it('SD-only says which of the image’s own files it replaced (its device tree)', async () => {
    const base = buildRpiLikeImage(dir, 'with-tree.img', { bootFiles: { 'bcm2711-rpi-4-b.dtb': 'Raspberry Pi OS tree' } });
    const composed = await composeImage({
      source: base.path,
      cacheDir: path.join(dir, 'cache'),
      ...bootEditForProfile(sdOnly(), components.dir),
    });
    try {
      expect(composed.replaced).toEqual(['bcm2711-rpi-4-b.dtb']);
    } finally {
      composed.discard();
    }
    const overlay = await composeOverlay(base.path, bootEditRequest(bootEditForProfile(sdOnly(), components.dir))!);
    expect(overlay.outcome.replaced).toEqual(['bcm2711-rpi-4-b.dtb']);
  });
});
