// Lists this machine's serial ports with what a user recognises: the adapter's chip and name, its by-id name, and the
// one plugged in last. Linux reads sysfs and /dev/serial/by-id itself; other systems ask serialport.
import fs from 'node:fs';
import path from 'node:path';
import { SerialPort } from 'serialport';
import type { SerialPortInfo } from '../../../shared/api/serial';
import { adapterChip, portLabel } from '../../../shared/console/adapters';

export interface PortListOptions {
  /** Where sysfs is (tests give a folder shaped like it). */
  sysRoot?: string;
  /** Where the device nodes are. */
  devRoot?: string;
  platform?: NodeJS.Platform;
}

/** Device names that are serial ports; ttyS* only when a UART answers there (PCs list 32 empty ones). */
const SERIAL_NAME = /^(ttyUSB|ttyACM|ttyAMA|ttyS|ttyXRUSB|ttyWCH|ttyCH343USB|rfcomm)\d+$/;

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The USB device a tty belongs to: the nearest folder above it with an idVendor file. */
function usbDeviceOf(deviceDir: string, sysRoot: string): string | undefined {
  let dir = deviceDir;
  while (dir.startsWith(sysRoot) && dir !== sysRoot) {
    if (fs.existsSync(path.join(dir, 'idVendor'))) return dir;
    dir = path.dirname(dir);
  }
  return undefined;
}

/** /dev/ttyUSB0 → /dev/serial/by-id/usb-FTDI_…-if00-port0, from the symlinks udev made. */
function byIdNames(devRoot: string): Map<string, string> {
  const names = new Map<string, string>();
  const dir = path.join(devRoot, 'serial', 'by-id');
  let links: string[] = [];
  try {
    links = fs.readdirSync(dir);
  } catch {
    return names;
  }
  for (const link of links) {
    try {
      names.set(fs.realpathSync(path.join(dir, link)), path.join(dir, link));
    } catch {
      // a dangling link: the adapter is going away
    }
  }
  return names;
}

function linuxPorts(sysRoot: string, devRoot: string): Omit<SerialPortInfo, 'newest'>[] {
  const ttyClass = path.join(sysRoot, 'class', 'tty');
  let names: string[] = [];
  try {
    names = fs.readdirSync(ttyClass).filter((name) => SERIAL_NAME.test(name));
  } catch {
    return [];
  }
  const byId = byIdNames(devRoot);
  const ports: Omit<SerialPortInfo, 'newest'>[] = [];
  for (const name of names) {
    const device = path.join(ttyClass, name, 'device');
    if (!fs.existsSync(device)) continue;
    if (name.startsWith('ttyS') && readText(path.join(ttyClass, name, 'type')) === '0') continue;
    const node = path.join(devRoot, name);
    const usb = usbDeviceOf(fs.realpathSync(device), fs.realpathSync(sysRoot));
    const vendorId = usb && readText(path.join(usb, 'idVendor'));
    const productId = usb && readText(path.join(usb, 'idProduct'));
    const chip = adapterChip(vendorId, productId);
    const manufacturer = usb && readText(path.join(usb, 'manufacturer'));
    const product = usb && readText(path.join(usb, 'product'));
    const serialNumber = usb && readText(path.join(usb, 'serial'));
    const stable = byId.get(node);
    const pluggedInAt = fs.statSync(node, { throwIfNoEntry: false })?.ctimeMs;
    ports.push({
      path: node,
      openPath: stable ?? node,
      label: portLabel({ path: node, ...(chip && { chip }), ...(manufacturer && { manufacturer }), ...(product && { product }) }),
      ...(stable && { byId: stable }),
      ...(chip && { chip }),
      ...(manufacturer && { manufacturer }),
      ...(product && { product }),
      ...(serialNumber && { serialNumber }),
      ...(vendorId && { vendorId }),
      ...(productId && { productId }),
      ...(pluggedInAt !== undefined && { pluggedInAt: Math.round(pluggedInAt) }),
    });
  }
  return ports;
}

async function libraryPorts(): Promise<Omit<SerialPortInfo, 'newest'>[]> {
  const listed = await SerialPort.list();
  return listed.map((port) => {
    const chip = adapterChip(port.vendorId, port.productId);
    return {
      path: port.path,
      openPath: port.path,
      label: portLabel({ path: port.path, ...(chip && { chip }), ...(port.manufacturer && { manufacturer: port.manufacturer }) }),
      ...(chip && { chip }),
      ...(port.manufacturer && { manufacturer: port.manufacturer }),
      ...(port.serialNumber && { serialNumber: port.serialNumber }),
      ...(port.vendorId && { vendorId: port.vendorId.toLowerCase() }),
      ...(port.productId && { productId: port.productId.toLowerCase() }),
    };
  });
}

/** The serial ports, the adapter plugged in last first, then USB adapters, then the rest by name. */
export async function listSerialPorts(options: PortListOptions = {}): Promise<SerialPortInfo[]> {
  const platform = options.platform ?? process.platform;
  // serialport's Linux list runs udevadm and crashes the process where udevadm is missing (containers): read sysfs
  const ports = platform === 'linux' ? linuxPorts(options.sysRoot ?? '/sys', options.devRoot ?? '/dev') : await libraryPorts();
  const usb = ports.filter((port) => port.vendorId !== undefined && port.pluggedInAt !== undefined);
  const newest = usb.reduce<(typeof usb)[number] | undefined>(
    (best, port) => (!best || port.pluggedInAt! > best.pluggedInAt! ? port : best),
    undefined,
  );
  return ports
    .map((port) => ({ ...port, newest: port === newest }))
    .sort(
      (a, b) =>
        Number(b.newest) - Number(a.newest) ||
        Number(b.vendorId !== undefined) - Number(a.vendorId !== undefined) ||
        a.path.localeCompare(b.path, 'en', { numeric: true }),
    );
}
