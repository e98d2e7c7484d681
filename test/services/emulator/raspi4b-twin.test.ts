// What the emulated Pi 4 boots of a profile (pure), and how big a fresh card is.
import { describe, expect, it } from 'vitest';
import { freshCardSizeMiB } from '../../../electron/services/drives/fresh-card';
import { raspi4bTwin } from '../../../electron/services/emulator/run-raspi4b';
import { defaultProfile } from '../../../shared/profile/defaults';

describe('the emulated Pi 4’s twin of a profile', () => {
  it('boots a TFTP profile from its card, and says so', () => {
    const profile = defaultProfile('rpi4');
    profile.dom0!.memoryMb = 512;
    const twin = raspi4bTwin(profile);
    expect(twin.profile.boot.mode).toBe('sd');
    expect(twin.profile.boot.network).toBeUndefined();
    expect(twin.changes).toEqual([expect.stringMatching(/SD-only twin: the emulated Pi 4 has no Ethernet/)]);
    expect(profile.boot.mode).toBe('tftp'); // the user's profile is untouched
  });

  it('fits Dom0 into the 960 MiB QEMU declares, and says so; leaves a fitting SD profile alone', () => {
    const big = defaultProfile('rpi4');
    big.boot.mode = 'sd';
    big.ramMb = 4096;
    big.dom0!.memoryMb = 2048;
    const twin = raspi4bTwin(big);
    expect(twin.profile.dom0!.memoryMb).toBeLessThanOrEqual(864);
    expect(twin.changes[0]).toMatch(/Dom0 memory 2048 MB → \d+ MB: QEMU’s raspi4b declares 960 MiB/);
    const fits = { ...big, dom0: { ...big.dom0!, memoryMb: 512 } };
    expect(raspi4bTwin(fits).changes).toEqual([]);
  });
});

describe('fresh card size', () => {
  it('is a power of two, at least 128 MiB, with half again the files’ size as headroom', () => {
    expect(freshCardSizeMiB(1024)).toBe(128);
    expect(freshCardSizeMiB(18 * 1024 * 1024)).toBe(128);
    expect(freshCardSizeMiB(100 * 1024 * 1024)).toBe(256);
    expect(freshCardSizeMiB(400 * 1024 * 1024)).toBe(1024);
  });
});
