// Profile checks for what only some boards can do: the console's baud rate and booting with the firmware's device tree.
import { describe, expect, it } from 'vitest';
import { defaultProfile, validateProfile } from '../../../shared/profile';
import type { Profile } from '../../../shared/profile/schema';

const problemsAt = (profile: Profile, path: string) => validateProfile(profile).problems.filter((p) => p.path === path);

describe('the console baud rate', () => {
  it('accepts the rates the Pi firmware sets, and refuses one no terminal offers, naming the choices', () => {
    const p = defaultProfile('rpi4');
    expect(problemsAt({ ...p, console: { ...p.console, baud: 230400 } }, '$.console.baud')).toEqual([]);
    const [odd] = problemsAt({ ...p, console: { ...p.console, baud: 12345 } }, '$.console.baud');
    expect(odd).toMatchObject({ severity: 'error', message: expect.stringMatching(/12345 is not a baud rate .*115200, 230400/) });
  });

  it('warns that QEMU virt has nothing that sets a rate', () => {
    const q = defaultProfile('qemu-virt');
    expect(problemsAt({ ...q, console: { ...q.console, baud: 230400 } }, '$.console.baud')[0]?.severity).toBe('warning');
  });
});

describe('booting with the firmware’s device tree', () => {
  it('is for the Raspberry Pi only', () => {
    const [problem] = problemsAt({ ...defaultProfile('qemu-virt'), deviceTreeSource: 'firmware' }, '$.deviceTreeSource');
    expect(problem).toMatchObject({ severity: 'error', message: expect.stringMatching(/no Raspberry Pi firmware/) });
  });

  it('needs the tree among a fresh card’s firmware files, where the firmware reads it', () => {
    const fresh: Profile = { ...defaultProfile('rpi4'), deviceTreeSource: 'firmware', firmware: ['start4.elf', 'fixup4.dat'] };
    expect(problemsAt(fresh, '$.firmware')[0]?.message).toMatch(/bcm2711-rpi-4-b\.dtb/);
    expect(problemsAt({ ...fresh, firmware: [...fresh.firmware, 'bcm2711-rpi-4-b.dtb'] }, '$.firmware')).toEqual([]);
    expect(problemsAt({ ...fresh, baseImage: 'raspios.img.xz' }, '$.firmware')).toEqual([]); // Raspberry Pi OS brings its own
  });
});
