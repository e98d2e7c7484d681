// The port list on Linux: sysfs and /dev/serial/by-id read as udev lays them out (a folder shaped like them: no USB-UART
// adapter is plugged into the test machine), the adapter plugged in last first, empty legacy ttyS ports left out.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listSerialPorts } from '../../../electron/services/serial/ports';

let root: string;
const sys = () => path.join(root, 'sys');
const dev = () => path.join(root, 'dev');

/** A USB adapter as the kernel shows it: the USB device's attributes, its interface, the tty under it, the node, the by-id link. */
function plugUsb(
  tty: string,
  usb: { bus: string; vendor: string; product: string; manufacturer?: string; name?: string; serial?: string; byId?: string },
) {
  const device = path.join(sys(), 'devices', 'pci0000:00', 'usb1', usb.bus);
  const iface = path.join(device, `${usb.bus}:1.0`);
  fs.mkdirSync(path.join(iface, tty), { recursive: true });
  fs.writeFileSync(path.join(device, 'idVendor'), `${usb.vendor}\n`);
  fs.writeFileSync(path.join(device, 'idProduct'), `${usb.product}\n`);
  if (usb.manufacturer) fs.writeFileSync(path.join(device, 'manufacturer'), `${usb.manufacturer}\n`);
  if (usb.name) fs.writeFileSync(path.join(device, 'product'), `${usb.name}\n`);
  if (usb.serial) fs.writeFileSync(path.join(device, 'serial'), `${usb.serial}\n`);
  fs.mkdirSync(path.join(sys(), 'class', 'tty', tty), { recursive: true });
  fs.symlinkSync(path.join(iface, tty), path.join(sys(), 'class', 'tty', tty, 'device'));
  const node = path.join(dev(), tty);
  fs.writeFileSync(node, ''); // the node's ctime is when it appeared, as devtmpfs makes it when the adapter is plugged in
  if (usb.byId) {
    fs.mkdirSync(path.join(dev(), 'serial', 'by-id'), { recursive: true });
    fs.symlinkSync(`../../${tty}`, path.join(dev(), 'serial', 'by-id', usb.byId));
  }
}

function legacyPort(tty: string, type: string) {
  const dir = path.join(sys(), 'class', 'tty', tty);
  fs.mkdirSync(path.join(sys(), 'devices', 'platform', 'serial8250', tty), { recursive: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'type'), `${type}\n`);
  fs.symlinkSync(path.join(sys(), 'devices', 'platform', 'serial8250', tty), path.join(dir, 'device'));
  fs.writeFileSync(path.join(dev(), tty), '');
}

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-ports-'));
  fs.mkdirSync(dev(), { recursive: true });
  fs.mkdirSync(path.join(sys(), 'class', 'tty'), { recursive: true });
  // a tty that is not a serial port at all
  fs.mkdirSync(path.join(sys(), 'class', 'tty', 'tty0'));
});

afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe('listing serial ports', () => {
  it('names the usual adapters, gives their by-id names, and puts the one plugged in last first', async () => {
    const ftdiById = 'usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0';
    plugUsb('ttyUSB0', {
      bus: '1-1',
      vendor: '0403',
      product: '6001',
      manufacturer: 'FTDI',
      name: 'FT232R USB UART',
      serial: 'A50285BI',
      byId: ftdiById,
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    plugUsb('ttyUSB1', { bus: '1-2', vendor: '1a86', product: '7523', name: 'USB Serial' });
    legacyPort('ttyS0', '4'); // a real 16550A
    legacyPort('ttyS1', '0'); // nothing there
    const ports = await listSerialPorts({ sysRoot: sys(), devRoot: dev(), platform: 'linux' });
    expect(ports.map((p) => [p.path.replace(dev(), '/dev'), p.label, p.newest])).toEqual([
      ['/dev/ttyUSB1', 'USB Serial (ttyUSB1)', true],
      ['/dev/ttyUSB0', 'FTDI FT232R USB UART (ttyUSB0)', false],
      ['/dev/ttyS0', 'ttyS0', false],
    ]);
    expect(ports[0]).toMatchObject({ chip: 'WCH CH340', vendorId: '1a86', productId: '7523' });
    expect(ports[0]!.pluggedInAt).toBeGreaterThan(ports[1]!.pluggedInAt!);
    expect(ports[0]!.byId).toBeUndefined();
    expect(ports[0]!.openPath).toBe(path.join(dev(), 'ttyUSB1'));
    expect(ports[1]).toMatchObject({ chip: 'FTDI FT232R', serialNumber: 'A50285BI', byId: path.join(dev(), 'serial', 'by-id', ftdiById) });
    // the by-id name is what gets opened: it still names this adapter after it is plugged into another socket
    expect(ports[1]!.openPath).toBe(path.join(dev(), 'serial', 'by-id', ftdiById));
  });

  it('is empty, not an error, on a machine without serial ports', async () => {
    expect(await listSerialPorts({ sysRoot: sys(), devRoot: dev(), platform: 'linux' })).toEqual([]);
    expect(await listSerialPorts({ sysRoot: path.join(root, 'nothing'), devRoot: dev(), platform: 'linux' })).toEqual([]);
  });
});
