// Schema problems reach the user as sentences about the field in the wizard's words, never in the validator's.
import { describe, expect, it } from 'vitest';
import { defaultProfile, validateProfile } from '../../../shared/profile';
import { fieldLabel, fieldSubject } from '../../../shared/profile/field-words';
import { profileSchema } from '../../../shared/profile/schema';
import type { z } from 'zod';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the edits put values of the wrong type on purpose
type Loose = any;

/** The problems of a default Pi 4 profile after one edit, as path → message. */
function problemsAfter(edit: (profile: Loose) => void): Record<string, string> {
  const profile = structuredClone(defaultProfile('rpi4')) as Loose;
  edit(profile);
  return Object.fromEntries(validateProfile(profile).problems.map((p) => [p.path, p.message]));
}

const validatorWording = /Too small|Too big|Invalid input|Invalid option|expected (int|number|string)|received/;

describe('profile problems in the user’s words', () => {
  it('says a vCPU count must be a whole number, not "expected int, received number"', () => {
    const problems = problemsAfter((p) => (p.dom0.vcpus = 1.5));
    expect(problems['$.dom0.vcpus']).toBe('Dom0’s vCPUs must be a whole number.');
  });

  it('says memory must be more than 0 MB, not "Too small: expected number to be >0"', () => {
    expect(problemsAfter((p) => (p.dom0.memoryMb = 0))['$.dom0.memoryMb']).toBe('Dom0’s memory must be more than 0 MB.');
  });

  it('asks for a number when a number field is emptied (the input gives NaN)', () => {
    expect(problemsAfter((p) => (p.dom0.memoryMb = Number.NaN))['$.dom0.memoryMb']).toBe('Give a number for Dom0’s memory.');
  });

  it('names the field in a bad address and keeps the schema’s own example', () => {
    const problems = problemsAfter(
      (p) => (p.boot = { ...p.boot, mode: 'tftp', network: { method: 'static', serverIp: '192.168.1.300', boardIp: '192.168.1.20' } }),
    );
    expect(problems['$.boot.network.serverIp']).toBe(
      'The TFTP server address must be an IPv4 address: four numbers 0-255 separated by dots, such as 192.168.1.10.',
    );
  });

  it('asks for an emptied file path by the field’s name', () => {
    expect(problemsAfter((p) => (p.deviceTree = ''))['$.deviceTree']).toBe('Give the device tree: it is empty.');
  });

  it('words every schema problem of a badly broken profile without the validator’s phrases', () => {
    const problems = problemsAfter((p) => {
      Object.assign(p, { board: 'rpi5', ramMb: -1, name: 3 });
      Object.assign(p.console, { baud: 'fast', uart: 'usb', syncConsole: 'yes' });
      Object.assign(p.boot, { mode: 'tftp', network: { method: 'carrier-pigeon' } });
      p.domUs = [{ kernel: '', memoryMb: 2.5 }];
    });
    expect(Object.keys(problems).length).toBeGreaterThan(6);
    for (const message of Object.values(problems)) {
      expect(message).not.toMatch(validatorWording);
      expect(message).toMatch(/^[A-ZÀ-ÿ“"']|^Dom|^sync_console|^U-Boot/);
      expect(message).toMatch(/[.:]\s*|\.$/);
    }
    expect(problems['$.domUs[0].memoryMb']).toBe('DomU 1’s memory must be a whole number.');
    expect(problems['$.board']).toBe('The board must be "rpi4" or "qemu-virt".');
  });

  it('names fields for lists of problems, down to a DomU’s kernel and a firmware file', () => {
    expect(fieldLabel('$.deviceTree')).toBe('Device tree');
    expect(fieldLabel('$.boot.network.serverIp')).toBe('TFTP server address');
    expect(fieldLabel('$.domUs[1].kernel')).toBe('DomU 2’s kernel');
    expect(fieldLabel('$.firmware[0]')).toBe('Firmware file 1');
    expect(fieldSubject('$.provenance["start4.elf"].sha256')).toBe('where the files came from');
  });
});

/** Every field path the profile schema has (objects walked, optional/default/nullable unwrapped; arrays and records stop). */
function schemaPaths(schema: z.ZodType, path = '$'): string[] {
  const def = (schema as unknown as { _zod: { def: { type: string; innerType?: z.ZodType; shape?: Record<string, z.ZodType> } } })._zod.def;
  if (def.innerType) return schemaPaths(def.innerType, path);
  if (def.type !== 'object' || !def.shape) return [];
  return Object.entries(def.shape).flatMap(([key, field]) => [`${path}.${key}`, ...schemaPaths(field, `${path}.${key}`)]);
}

describe('every profile field has a name in the wizard’s words', () => {
  it('names each field of the schema itself, not by its parent (a field added without a name would be called “the boot settings”)', () => {
    const paths = schemaPaths(profileSchema);
    expect(paths).toContain('$.boot.tftp.windowsize');
    const unnamed = paths.filter((p) => !p.startsWith('$.provenance.') && fieldSubject(p) === fieldSubject(p.replace(/\.[^.]+$/, '')));
    expect(unnamed).toEqual([]);
  });
});
