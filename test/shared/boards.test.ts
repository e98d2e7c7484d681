// Boards and Xen versions are data the generator and the wizard read; their facts match the specs.
import { describe, expect, it } from 'vitest';
import { boards, consoleUart } from '../../shared/boards';
import { checkDom0KernelVersion, checkXenVersion, xenVersions } from '../../shared/xen-versions';

describe('boards', () => {
  it('describes the Raspberry Pi 4 boot addresses and UARTs', () => {
    const rpi4 = boards.rpi4;
    expect([rpi4.ramBase, rpi4.scriptAddress, rpi4.stage2Address]).toEqual([0, 0x2400000, 0xc00000]);
    expect(consoleUart(rpi4, 'mini')).toMatchObject({ dtuart: '/soc/serial@7e215040', alias: 'serial1', needsDisableBt: false });
    expect(consoleUart(rpi4, 'pl011')).toMatchObject({ dtuart: '/soc/serial@7e201000', alias: 'serial0', needsDisableBt: true });
    expect(rpi4.deviceTree).toBe('bcm2711-rpi-4-b.dtb');
  });

  it('describes QEMU virt, whose only console is a device-tree path', () => {
    const q = boards['qemu-virt'];
    expect([q.ramBase, q.scriptAddress, q.stage2Address]).toEqual([0x40000000, 0x40200000, 0x40c00000]);
    expect(consoleUart(q, 'mini').dtuart).toBe('/pl011@9000000');
    expect(q.defaultServerIp).toBe('255.255.255.255');
  });
});

describe('Xen versions', () => {
  it('lists 4.14 onwards with a year and a note each', () => {
    expect(xenVersions[0]!.version).toBe('4.14');
    for (const v of xenVersions) {
      expect(v.year).toBeGreaterThanOrEqual(2020);
      expect(v.notes.length).toBeGreaterThan(20);
    }
  });

  it('explains why a Xen older than 4.14 cannot boot a Pi 4, but allows it on QEMU', () => {
    const old = checkXenVersion('4.13', 'rpi4');
    expect(old.severity).toBe('error');
    expect(old.message).toMatch(/1 GiB/);
    expect(checkXenVersion('4.13', 'qemu-virt').severity).not.toBe('error');
    expect(checkXenVersion('4.17', 'rpi4').severity).toBe('ok');
    expect(checkXenVersion('4.99', 'rpi4').severity).toBe('warning');
    expect(checkXenVersion('latest', 'rpi4').severity).toBe('warning');
  });

  it('warns for a Dom0 kernel older than 5.9 when its version can be read', () => {
    expect(checkDom0KernelVersion('5.4.0-rc4', 'rpi4').severity).toBe('warning');
    expect(checkDom0KernelVersion('5.9.0', 'rpi4').severity).toBe('ok');
    expect(checkDom0KernelVersion('6.1.0-13-arm64', 'rpi4').severity).toBe('ok');
    expect(checkDom0KernelVersion(undefined, 'rpi4').severity).toBe('ok');
  });
});
