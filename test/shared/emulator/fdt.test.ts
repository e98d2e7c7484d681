// Reading and writing device tree blobs, with dtc as the judge of what a blob says; walking nodes; carrying reg through ranges.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  findNode,
  getCells,
  getProperty,
  getString,
  parseFdt,
  serializeFdt,
  setCells,
  setString,
  translateAddress,
  translateReg,
  walkNodes,
  type FdtNode,
} from '../../../shared/emulator/fdt';
import { ImagerError } from '../../../shared/errors';
import { bcm2711Dtb, dtc, dtcCompile, dtcRepack, dtcSource, missingParts } from '../../helpers/raspi4b-parts';

const miniSource = path.join(__dirname, 'fixtures', 'mini-bcm2711.dts');
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fdt-test-'));
afterAll(() => fs.rmSync(workDir, { recursive: true, force: true }));

/** Compiles the mini bcm2711-shaped fixture with dtc. */
function miniBlob(): Uint8Array {
  const file = path.join(workDir, 'mini.dtb');
  if (!fs.existsSync(file)) dtcCompile(miniSource, file);
  return new Uint8Array(fs.readFileSync(file));
}

/** Parses and writes back a blob; returns what dtc reads from the input and from ours. */
function roundTrip(input: Uint8Array, name: string): { theirs: string; ours: string; ourBlob: Uint8Array } {
  const inputFile = path.join(workDir, `${name}.in.dtb`);
  const ourFile = path.join(workDir, `${name}.out.dtb`);
  fs.writeFileSync(inputFile, input);
  const ourBlob = serializeFdt(parseFdt(input));
  fs.writeFileSync(ourFile, ourBlob);
  return { theirs: dtcSource(inputFile), ours: dtcSource(ourFile), ourBlob };
}

function node(name: string, properties: Record<string, string | number[] | true> = {}, children: FdtNode[] = []): FdtNode {
  const tree: FdtNode = { name, properties: [], children };
  for (const [key, value] of Object.entries(properties)) {
    if (value === true) tree.properties.push({ name: key, value: new Uint8Array() });
    else if (typeof value === 'string') setString(tree, key, value);
    else setCells(tree, key, value);
  }
  return tree;
}

function parseError(blob: Uint8Array): ImagerError {
  try {
    parseFdt(blob, 'broken.dtb');
  } catch (error) {
    if (error instanceof ImagerError) return error;
    throw error;
  }
  throw new Error('parseFdt accepted a broken blob');
}

describe('device tree blobs', () => {
  it.skipIf(!dtc)(`writes back a tree dtc compiled from source exactly as dtc reads it${dtc ? '' : ' (skipped: no dtc)'}`, () => {
    const { theirs, ours } = roundTrip(miniBlob(), 'mini');
    expect(theirs).toContain('/memreserve/\t0x00000001f0000000 0x0000000000200000;');
    expect(theirs).toContain('mac-address = [dc a6 32 00 00 01];');
    expect(ours).toBe(theirs);
  });

  const upstreamMissing = missingParts({ dtc, 'bcm2711-rpi-4-b.dtb': bcm2711Dtb });
  it.skipIf(upstreamMissing)(
    `writes back the upstream bcm2711-rpi-4-b.dtb exactly as dtc reads it${upstreamMissing ? ` (${upstreamMissing})` : ''}`,
    () => {
      const input = new Uint8Array(fs.readFileSync(bcm2711Dtb!));
      const { theirs, ours, ourBlob } = roundTrip(input, 'upstream');
      expect(theirs).toContain('hvs@7e400000');
      expect(ours).toBe(theirs);
      // packed as dtc packs it, down to sharing the tails of property names
      expect(ourBlob).toEqual(dtcRepack(path.join(workDir, 'upstream.in.dtb')));
    },
  );

  it.skipIf(!dtc)(`reads names, strings, cells and the reservation map as dtc wrote them${dtc ? '' : ' (skipped: no dtc)'}`, () => {
    const tree = parseFdt(miniBlob());
    expect(tree.reservations).toEqual([
      { address: 0n, size: 0x1000n },
      { address: 0x1f0000000n, size: 0x200000n },
    ]);
    expect(tree.bootCpuId).toBe(0);
    expect(tree.root.name).toBe('');
    expect(getString(tree.root, 'model')).toBe('Mini Pi 4');
    expect(getString(tree.root, 'compatible')).toBe('raspberrypi,4-model-b');
    expect(getCells(tree.root, '#address-cells')).toEqual([2]);
    const uart = findNode(tree.root, '/soc/serial@7e215040')!;
    expect(getCells(uart, 'reg')).toEqual([0x7e215040, 0x40]);
    expect(getString(uart, 'status')).toBe('okay');
    expect(getProperty(findNode(tree.root, '/emmc2bus/mmc@7e340000')!, 'non-removable')).toEqual(new Uint8Array());
    expect(findNode(tree.root, '/soc/no-such-node')).toBeUndefined();
  });

  it.skipIf(!dtc)(`writes a changed tree that dtc reads with the change and nothing else${dtc ? '' : ' (skipped: no dtc)'}`, () => {
    const tree = parseFdt(miniBlob());
    const hvs = findNode(tree.root, '/soc/hvs@7e400000')!;
    setString(hvs, 'status', 'disabled');
    setString(findNode(tree.root, '/soc/serial@7e215040')!, 'status', 'reserved');
    const before = path.join(workDir, 'before.dtb');
    const after = path.join(workDir, 'after.dtb');
    fs.writeFileSync(before, miniBlob());
    fs.writeFileSync(after, serializeFdt(tree));
    const expected = dtcSource(before)
      .replace(/(\thvs@7e400000 \{[^}]*?)(\n\t\t\};)/, '$1\n\t\t\tstatus = "disabled";$2')
      .replace(/(\tserial@7e215040 \{[^}]*?)status = "okay";/, '$1status = "reserved";');
    expect(expected).not.toBe(dtcSource(before));
    expect(dtcSource(after)).toBe(expected);
  });

  it('replaces a property where it stands and appends a new one last', () => {
    const uart = node('serial@7e215040', { compatible: 'brcm,bcm2835-aux-uart', status: 'okay', reg: [0x7e215040, 0x40] });
    setString(uart, 'status', 'disabled');
    setCells(uart, 'clocks', [0x11, 0x5]);
    expect(uart.properties.map((property) => property.name)).toEqual(['compatible', 'status', 'reg', 'clocks']);
    expect(getString(uart, 'status')).toBe('disabled');
    expect(getProperty(uart, 'status')).toEqual(new TextEncoder().encode('disabled\0'));
    expect(getCells(uart, 'clocks')).toEqual([0x11, 0x5]);
    expect(getCells(uart, 'compatible')).toBeUndefined(); // 22 bytes: not whole cells
  });

  it('lists every node with its full path and its ancestors, parents first', () => {
    const root = node('', {}, [node('soc', {}, [node('serial@7e215040'), node('i2c@7e804000', {}, [node('eeprom@50')])]), node('chosen')]);
    const entries = [...walkNodes(root)];
    expect(entries.map((entry) => entry.path)).toEqual([
      '/',
      '/soc',
      '/soc/serial@7e215040',
      '/soc/i2c@7e804000',
      '/soc/i2c@7e804000/eeprom@50',
      '/chosen',
    ]);
    expect(entries[4]!.ancestors.map((ancestor) => ancestor.name)).toEqual(['', 'soc', 'i2c@7e804000']);
  });

  it('reads back what it writes without dtc: tree, reservations, boot CPU', () => {
    const root = node('', { model: 'x', '#address-cells': [1] }, [node('a@1', { reg: [1, 2], flag: true })]);
    const blob = serializeFdt({ root, reservations: [{ address: 0x1000n, size: 0x2000n }], bootCpuId: 3 });
    expect(parseFdt(blob)).toEqual({ root, reservations: [{ address: 0x1000n, size: 0x2000n }], bootCpuId: 3 });
    expect(new DataView(blob.buffer).getUint32(4)).toBe(blob.length);
  });

  it('refuses bytes that are not a device tree, naming the file', () => {
    const error = parseError(new TextEncoder().encode('this is not a device tree blob at all, just text.'));
    expect(error.code).toBe('BAD_DEVICE_TREE');
    expect(error.subject).toBe('broken.dtb');
    expect(error.message).toMatch(/magic/);
  });

  it('refuses a blob cut short, and one with a token it does not know', () => {
    const blob = serializeFdt({ root: node('', { model: 'x' }, [node('a')]), reservations: [], bootCpuId: 0 });
    expect(parseError(blob.slice(0, blob.length - 8)).message).toMatch(/truncated/);
    const structOffset = new DataView(blob.buffer).getUint32(8);
    const corrupt = blob.slice();
    new DataView(corrupt.buffer).setUint32(structOffset, 7);
    expect(parseError(corrupt).message).toMatch(/unknown token 0x7/);
  });
});

describe('carrying reg through ranges to CPU addresses', () => {
  // bcm2711's buses: /soc (1 address cell, legacy 0x7e… bus addresses), /scb (2 cells), a nested bus, an I²C bus (no ranges)
  const eeprom = node('eeprom@50', { reg: [0x50] });
  const i2c = node('i2c@7e804000', { reg: [0x7e804000, 0x1000], '#address-cells': [1], '#size-cells': [0] }, [eeprom]);
  const uart = node('serial@7e215040', { reg: [0x7e215040, 0x40] });
  const twoWindows = node('dual@7e100000', { reg: [0x7e100000, 0x100, 0x10000000, 0x100] });
  const inner = node('gpio@7e200000', { reg: [0x200000, 0x100] });
  const nested = node('bus@7e000000', { '#address-cells': [1], '#size-cells': [1], ranges: [0x0, 0x7e000000, 0x01000000] }, [inner]);
  const soc = node(
    'soc',
    {
      '#address-cells': [1],
      '#size-cells': [1],
      ranges: [0x7e000000, 0x0, 0xfe000000, 0x01800000, 0x40000000, 0x0, 0xff800000, 0x00800000],
    },
    [uart, i2c, twoWindows, nested],
  );
  const v3d = node('gpu@7ec00000', { reg: [0x0, 0x7ec00000, 0x4000] });
  const pcieWindow = node('window@600000000', { reg: [0x6, 0x0, 0x1000] });
  const scb = node(
    'scb',
    { '#address-cells': [2], '#size-cells': [1], ranges: [0x0, 0x7c000000, 0x0, 0xfc000000, 0x03800000, 0x6, 0x0, 0x6, 0x0, 0x40000000] },
    [v3d, pcieWindow],
  );
  const cma = node('nvram@1000', { reg: [0x0, 0x1000, 0x1000] });
  const reserved = node('reserved-memory', { '#address-cells': [2], '#size-cells': [1], ranges: true }, [cma]);
  const defaults = node('mystery', { ranges: true }, [node('thing@100000000', { reg: [0x1, 0x0, 0x10] })]);
  const root = node('', { '#address-cells': [2], '#size-cells': [1] }, [soc, scb, reserved, defaults]);
  const cpuAddresses = (target: FdtNode) => {
    const entry = [...walkNodes(root)].find((each) => each.node === target)!;
    return translateReg(entry.ancestors, target);
  };

  it('maps /soc’s 0x7e… bus addresses to 0xfe… (1-cell child, 2-cell parent)', () => {
    expect(cpuAddresses(uart)).toEqual([{ address: 0xfe215040n, size: 0x40n }]);
  });

  it('maps /scb’s 2-cell addresses through the window that holds them', () => {
    expect(cpuAddresses(v3d)).toEqual([{ address: 0xfec00000n, size: 0x4000n }]);
    expect(cpuAddresses(pcieWindow)).toEqual([{ address: 0x600000000n, size: 0x1000n }]);
  });

  it('goes through every level of nested buses', () => {
    expect(cpuAddresses(inner)).toEqual([{ address: 0xfe200000n, size: 0x100n }]);
  });

  it('takes an empty ranges as identity, and the default 2/1 cells when a bus gives none', () => {
    expect(cpuAddresses(cma)).toEqual([{ address: 0x1000n, size: 0x1000n }]);
    expect(cpuAddresses(defaults.children[0]!)).toEqual([{ address: 0x100000000n, size: 0x10n }]);
  });

  it('cannot translate a child of a bus without ranges (an I²C device), nor an address outside every window', () => {
    expect(cpuAddresses(eeprom)).toEqual([undefined]);
    expect(cpuAddresses(twoWindows)).toEqual([{ address: 0xfe100000n, size: 0x100n }, undefined]);
    expect(translateAddress([root, soc], 0x10000000n)).toBeUndefined();
  });

  it('has nothing to translate for a node without reg or without a parent', () => {
    expect(cpuAddresses(soc)).toBeUndefined();
    expect(translateReg([], root)).toBeUndefined();
  });
});
