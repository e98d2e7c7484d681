// Reading QEMU's `info mtree -f`: the regions of one address space, from a capture of the real QEMU 10 raspi4b monitor.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFlatView, regionAt } from '../../../shared/emulator/mtree';
import { ImagerError } from '../../../shared/errors';

/** `printf 'info mtree -f\nquit\n' | qemu-system-aarch64 -M raspi4b … -monitor stdio -S`, line-editor echo and all. */
const capture = fs.readFileSync(path.join(__dirname, 'fixtures', 'raspi4b-qemu10-mtree.txt'), 'utf8');

function flatViewError(text: string, space: string): ImagerError {
  try {
    parseFlatView(text, space);
  } catch (error) {
    if (error instanceof ImagerError) return error;
    throw error;
  }
  throw new Error('parseFlatView found a FlatView that is not there');
}

describe('QEMU memory maps', () => {
  it('finds the FlatView of cpu-memory-0 among the address spaces that share it', () => {
    const regions = parseFlatView(capture, 'cpu-memory-0');
    expect(regions).toHaveLength(41);
    expect(regions[0]).toEqual({ start: 0n, end: 0x7fffffffn, priority: 0, kind: 'ram', name: 'ram' });
    expect(regions).toContainEqual({ start: 0xfe215000n, end: 0xfe2150ffn, priority: 0, kind: 'i/o', name: 'bcm2835-aux' });
    expect(regions).toContainEqual({ start: 0xfe004000n, end: 0xfe004fffn, priority: -1000, kind: 'i/o', name: 'bcm2835-txp' });
    expect(regions.at(-1)).toEqual({ start: 0xff846000n, end: 0xff847fffn, priority: 0, kind: 'i/o', name: 'gic_vcpu' });
  });

  it('keeps the views apart: the GPU’s bus view (0x7e… addresses) is not the CPU’s', () => {
    const cpu = parseFlatView(capture, 'cpu-memory-0');
    expect(cpu.some((region) => region.start >= 0x7e000000n && region.end < 0x80000000n && region.name !== 'ram')).toBe(false);
    const gpu = parseFlatView(capture, 'dwc2');
    expect(regionAt(gpu, 0x7e215040n)?.name).toBe('bcm2835-aux');
    expect(parseFlatView(capture, 'bcm2835-mbox-memory').map((region) => region.name)).toEqual(['bcm2835-fb', 'bcm2835-property']);
    expect(parseFlatView(capture, 'memory')).toEqual(cpu);
  });

  it('reads a region’s offset suffix and the prompts around the output as noise', () => {
    const gpu = parseFlatView(capture, 'bcm2835-fb-memory');
    expect(regionAt(gpu, 0x7e003020n)).toEqual({ start: 0x7e003020n, end: 0x7e003fffn, priority: 0, kind: 'ram', name: 'ram' });
  });

  it('finds the region holding an address, ends included, and none in a gap', () => {
    const cpu = parseFlatView(capture, 'cpu-memory-0');
    expect(regionAt(cpu, 0xfe215000n)?.name).toBe('bcm2835-aux');
    expect(regionAt(cpu, 0xfe2150ffn)?.name).toBe('bcm2835-aux');
    expect(regionAt(cpu, 0xfe215100n)).toBeUndefined();
    expect(regionAt(cpu, 0xfe400000n)).toBeUndefined(); // the HVS: QEMU does not map it
    expect(regionAt(cpu, 0xfef00100n)).toBeUndefined(); // the HDMI interrupt controller Dom0 died on
  });

  it('says which address spaces there are when the one asked for is missing', () => {
    const error = flatViewError(capture, 'cpu-memory-9');
    expect(error.code).toBe('EMULATOR_FAILED');
    expect(error.message).toMatch(/no address space "cpu-memory-9" \(it lists I\/O, bcm2835-mbox-memory, memory, /);
  });

  it('says QEMU printed no memory map when there is none, or an empty one', () => {
    expect(flatViewError("QEMU 10.0.2 monitor - type 'help' for more information\n(qemu) ", 'cpu-memory-0').message).toMatch(
      /did not print its memory map/,
    );
    const empty = 'FlatView #0\n AS "cpu-memory-0", root: system\n Root memory region: system\n No rendered FlatView\n\n';
    expect(flatViewError(empty, 'cpu-memory-0').message).toMatch(/shows nothing at all/);
  });
});
