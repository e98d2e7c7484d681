// The recogniser on the emulated Pi 4's console (QEMU raspi4b, mini UART): loads from the card, the toolstack, the
// Dom0 shell, `xl list` and Xen's halt; a toolstack that fails is a diagnosis, not a pass.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConsoleRecogniser } from '../../../shared/emulator/milestones';
import { dom0MarkerLines } from '../../../shared/emulator/markers';

const log = fs.readFileSync(path.join(__dirname, 'fixtures', 'raspi4b-ok.console.txt'), 'latin1');

function replay(text: string, chunk = 41): ConsoleRecogniser {
  const recogniser = new ConsoleRecogniser();
  for (let i = 0, t = 0; i < text.length; i += chunk, t += 1) recogniser.push(text.slice(i, i + chunk), t);
  return recogniser;
}

describe('the emulated Pi 4’s console', () => {
  it('follows the card, Xen, Dom0, the toolstack, the shell, xl list and the halt, in order', () => {
    const recogniser = replay(log);
    recogniser.finish(null, 99_999);
    const kinds = recogniser.milestones.map((m) => m.kind);
    expect(kinds.filter((k) => k === 'card-load')).toHaveLength(6); // boot2.scr, kernel, ramdisk, Xen, tree (+ boot.scr)
    expect(kinds.slice(kinds.indexOf('starting-kernel'))).toEqual([
      'starting-kernel',
      'xen',
      'dom0-kernel',
      'dom0-userspace',
      'toolstack',
      'dom0-shell',
      'xl-list',
      'power-off',
    ]);
    expect(recogniser.diagnosis).toBeUndefined();
    expect(recogniser.dom0.xlListLine).toMatch(/^Domain-0\s+0\s+512\s+1\s/);
    expect(recogniser.milestones.find((m) => m.kind === 'xl-list')!.label).toBe('xl list shows Domain-0 (512 MB, 1 vCPU)');
    const kernel = recogniser.milestones.find((m) => m.kind === 'card-load' && (m.bytes ?? 0) > 10_000_000)!;
    expect(kernel.label).toMatch(/^Loaded 11\.0 MiB from the SD card in \d+\.\d s at [\d.]+ KiB\/s$/);
  });

  it('diagnoses a toolstack that did not start', () => {
    const broken = log.replace(dom0MarkerLines.toolstack, `${dom0MarkerLines.failed} xenstored`);
    const recogniser = replay(broken);
    expect(recogniser.diagnosis).toMatchObject({ kind: 'dom0-init-failed', message: expect.stringMatching(/toolstack did not start/) });
  });

  it('takes a Domain-0 line only once Dom0 userspace runs (not a U-Boot or kernel line that looks like it)', () => {
    const recogniser = new ConsoleRecogniser();
    recogniser.push('Starting kernel ...\nDomain-0                                     0   512     1     r-----      55.3\n', 1);
    expect(recogniser.reached.has('xl-list')).toBe(false);
  });
});
