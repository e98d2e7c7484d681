// Turning off the nodes QEMU's raspi4b does not map, judged by the real QEMU 10 memory map.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findNode, getString, parseFdt, serializeFdt, setCells, setString, type FdtNode } from '../../../shared/emulator/fdt';
import { parseFlatView } from '../../../shared/emulator/mtree';
import { disableUnmodelled } from '../../../shared/emulator/raspi4b-tree';
import { dtc, dtcCompile, dtcSource } from '../../helpers/raspi4b-parts';

const fixtures = path.join(__dirname, 'fixtures');
const cpuRegions = parseFlatView(fs.readFileSync(path.join(fixtures, 'raspi4b-qemu10-mtree.txt'), 'utf8'), 'cpu-memory-0');
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'raspi4b-tree-test-'));
afterAll(() => fs.rmSync(workDir, { recursive: true, force: true }));

function node(name: string, properties: Record<string, string | number[] | true> = {}, children: FdtNode[] = []): FdtNode {
  const tree: FdtNode = { name, properties: [], children };
  for (const [key, value] of Object.entries(properties)) {
    if (value === true) tree.properties.push({ name: key, value: new Uint8Array() });
    else if (typeof value === 'string') setString(tree, key, value);
    else setCells(tree, key, value);
  }
  return tree;
}

const status = (blob: Uint8Array, nodePath: string) => getString(findNode(parseFdt(blob).root, nodePath)!, 'status');

describe('the raspi4b card’s device tree', () => {
  it.skipIf(!dtc)(
    `turns off exactly the enabled nodes QEMU does not map, in a bcm2711-shaped tree${dtc ? '' : ' (skipped: no dtc)'}`,
    () => {
      const source = path.join(workDir, 'mini.dtb');
      dtcCompile(path.join(fixtures, 'mini-bcm2711.dts'), source);
      const { blob, disabled } = disableUnmodelled(new Uint8Array(fs.readFileSync(source)), cpuRegions);
      // unmapped: the HVS and AVS monitor on /soc, the PCIe bridge on /scb (status "ok" counts as enabled)
      expect(disabled).toEqual(['/soc/hvs@7e400000', '/soc/avs-monitor@7d5d2000', '/scb/pcie@7d500000']);
      const result = path.join(workDir, 'mini.out.dtb');
      fs.writeFileSync(result, blob);
      const text = dtcSource(result);
      expect(text).toMatch(/hvs@7e400000 \{[^}]*status = "disabled";/);
      expect(text).toMatch(/pcie@7d500000 \{[^}]*status = "disabled";/);
      // mapped or not judged: unchanged
      expect(status(blob, '/soc/serial@7e215040')).toBe('okay');
      expect(status(blob, '/emmc2bus/mmc@7e340000')).toBeUndefined();
      expect(status(blob, '/scb/gpu@7ec00000')).toBeUndefined(); // QEMU's placeholder for the V3D counts as mapped
      expect(status(blob, '/soc/i2c@7e804000/eeprom@50')).toBeUndefined(); // I²C address: not translatable
      expect(status(blob, '/reserved-memory/nvram@fe000000')).toBeUndefined(); // unmapped, but RAM carve-outs are not devices
      expect(status(blob, '/soc/pwm@7e20c000')).toBe('disabled'); // was already
      // and nothing but status lines changed
      const withoutStatus = (dts: string) => dts.replace(/^\s*status = "[^"]*";\n/gm, '');
      expect(withoutStatus(text)).toBe(withoutStatus(dtcSource(source)));
      expect(text.match(/status = "disabled";/g)).toHaveLength(4);
    },
  );

  it('leaves memory banks and CPUs alone even where no region answers', () => {
    const root = node('', { '#address-cells': [2], '#size-cells': [1] }, [
      node('memory@c0000000', { device_type: 'memory', reg: [0x0, 0xc0000000, 0x1000] }),
      node('cpus', { '#address-cells': [2], '#size-cells': [1], ranges: true }, [node('cpu@f0000000', { reg: [0x0, 0xf0000000, 0x1] })]),
      node('device@f0000000', { reg: [0x0, 0xf0000000, 0x1000] }),
    ]);
    const deviceRegions = [{ start: 0xff800000n, end: 0xff8000ffn, name: 'bcm2836-control', kind: 'i/o', priority: 0 }];
    const { blob, disabled } = disableUnmodelled(serializeFdt({ root, reservations: [], bootCpuId: 0 }), deviceRegions);
    expect(disabled).toEqual(['/device@f0000000']);
    expect(status(blob, '/memory@c0000000')).toBeUndefined();
    expect(status(blob, '/cpus/cpu@f0000000')).toBeUndefined();
  });

  it('judges a node by its first reg entry, and leaves nodes without reg alone', () => {
    const root = node('', { '#address-cells': [1], '#size-cells': [1] }, [
      node('mapped-first@fe215000', { reg: [0xfe215000, 0x100, 0xfe400000, 0x100] }),
      node('unmapped-first@fe400000', { reg: [0xfe400000, 0x100, 0xfe215000, 0x100] }),
      node('leds', { compatible: 'gpio-leds' }),
    ]);
    const { disabled } = disableUnmodelled(serializeFdt({ root, reservations: [], bootCpuId: 0 }), cpuRegions);
    expect(disabled).toEqual(['/unmapped-first@fe400000']);
  });

  it('keeps the memory reservations and the boot CPU of the tree it was given', () => {
    const root = node('', { '#address-cells': [1], '#size-cells': [1] }, [node('hvs@fe400000', { reg: [0xfe400000, 0x100] })]);
    const { blob } = disableUnmodelled(serializeFdt({ root, reservations: [{ address: 0n, size: 0x1000n }], bootCpuId: 2 }), cpuRegions);
    const tree = parseFdt(blob);
    expect(tree.reservations).toEqual([{ address: 0n, size: 0x1000n }]);
    expect(tree.bootCpuId).toBe(2);
  });
});
