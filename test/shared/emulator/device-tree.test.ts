// Trimming QEMU's dumped device tree: same tree as dtc reads it, without the megabyte of free space.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { trimDeviceTree, withCpuEnableMethod } from '../../../shared/emulator/device-tree';
import { qemuDumpDtbArgs } from '../../../shared/emulator/machine';
import { findExecutable, QEMU_UBOOT_CANDIDATES } from '../../../electron/node/host-tools';

const qemu = findExecutable('qemu-system-aarch64');
const uboot = QEMU_UBOOT_CANDIDATES.find((file) => fs.existsSync(file));
const dtc = findExecutable('dtc');

describe('trimming a dumped device tree', () => {
  it('rejects bytes that are not a device tree', () => {
    expect(() => trimDeviceTree(new Uint8Array(64))).toThrow(/FDT magic/);
  });

  it.skipIf(!qemu || !uboot || !dtc)('keeps every node and property of QEMU virt’s tree (checked with dtc)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dtb-'));
    try {
      const raw = path.join(dir, 'raw.dtb');
      execFileSync(
        qemu!,
        [
          '-machine',
          `virt,virtualization=on,gic-version=3,dumpdtb=${raw}`,
          '-cpu',
          'cortex-a57',
          '-smp',
          '2',
          '-m',
          '2048',
          '-display',
          'none',
          '-nic',
          'none',
          '-bios',
          uboot!,
        ],
        { stdio: 'ignore' },
      );
      const blob = new Uint8Array(fs.readFileSync(raw));
      const trimmed = trimDeviceTree(blob);
      expect(blob.length).toBe(1024 * 1024);
      expect(trimmed.length).toBeLessThan(16 * 1024);
      fs.writeFileSync(path.join(dir, 'trimmed.dtb'), trimmed);
      const source = (file: string) =>
        execFileSync(dtc!, ['-I', 'dtb', '-O', 'dts', file], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
      expect(source(path.join(dir, 'trimmed.dtb'))).toBe(source(raw));
      expect(source(raw)).toContain('pl011@9000000');
      // as small as dtc makes it, give or take its string-table packing
      execFileSync(dtc!, ['-I', 'dtb', '-O', 'dtb', '-o', path.join(dir, 'dtc.dtb'), raw], { stdio: 'ignore' });
      expect(Math.abs(trimmed.length - fs.statSync(path.join(dir, 'dtc.dtb')).size)).toBeLessThan(64);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a one-CPU virt tree', () => {
  it.skipIf(!qemu || !uboot || !dtc)('gets the PSCI enable method QEMU gives two CPUs, and a two-CPU tree stays as it is', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dtb-'));
    try {
      const dump = (cpus: number) => {
        const file = path.join(dir, `${cpus}.dtb`);
        execFileSync(qemu!, qemuDumpDtbArgs({ bios: uboot!, dtbPath: file, cpus }), { stdio: 'ignore' });
        return trimDeviceTree(new Uint8Array(fs.readFileSync(file)));
      };
      const source = (blob: Uint8Array) => {
        const file = path.join(dir, 'x.dtb');
        fs.writeFileSync(file, blob);
        return execFileSync(dtc!, ['-I', 'dtb', '-O', 'dts', file], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
      };
      const two = dump(2);
      expect(withCpuEnableMethod(two)).toBe(two);
      const one = dump(1);
      expect(source(one)).not.toContain('enable-method');
      const fixed = source(withCpuEnableMethod(one));
      expect(fixed.match(/enable-method = "psci";/g)).toHaveLength(1);
      expect(fixed.replace(/\s*enable-method = "psci";/, '')).toBe(source(one));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
