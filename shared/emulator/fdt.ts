// Reads and writes flattened device tree blobs (the DTB format of the Devicetree Specification, v17) as a plain node tree.
import { ImagerError } from '../errors';

const FDT_MAGIC = 0xd00dfeed;
const FDT_BEGIN_NODE = 1;
const FDT_END_NODE = 2;
const FDT_PROP = 3;
const FDT_NOP = 4;
const FDT_END = 9;
const HEADER_SIZE = 40;
/** Version 16 headers stop before size_dt_struct; everything we read is in both. */
const OLDEST_VERSION = 16;

export interface FdtProperty {
  name: string;
  /** The raw value, big-endian cells and NUL-terminated strings as in the blob. */
  value: Uint8Array;
}

export interface FdtNode {
  /** Name with its unit address (`serial@7e215040`); the root's name is empty. */
  name: string;
  properties: FdtProperty[];
  children: FdtNode[];
}

/** One entry of the memory reservation map (`/memreserve/` in source). */
export interface FdtReservation {
  address: bigint;
  size: bigint;
}

export interface DeviceTree {
  root: FdtNode;
  reservations: FdtReservation[];
  bootCpuId: number;
}

/** An address window: where it starts and how many bytes it spans. */
export interface AddressRange {
  address: bigint;
  size: bigint;
}

export function badDeviceTree(subject: string, message: string): ImagerError {
  return new ImagerError({
    code: 'BAD_DEVICE_TREE',
    subject,
    message,
    hint: 'Choose a compiled device tree (.dtb), for example bcm2711-rpi-4-b.dtb from the Raspberry Pi firmware or the Linux kernel.',
  });
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: false });
const utf8Encoder = new TextEncoder();

function align4(offset: number): number {
  return (offset + 3) & ~3;
}

/** Parses a blob into its node tree. `subject` names the file in errors. */
export function parseFdt(blob: Uint8Array, subject = 'device tree'): DeviceTree {
  const fail = (message: string) => badDeviceTree(subject, message);
  if (blob.length < HEADER_SIZE - 4) throw fail('The device tree blob is shorter than its header.');
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  if (view.getUint32(0) !== FDT_MAGIC) throw fail('The file does not start with the device tree magic number (it is not a .dtb).');
  const totalSize = view.getUint32(4);
  const structOffset = view.getUint32(8);
  const stringsOffset = view.getUint32(12);
  const reserveOffset = view.getUint32(16);
  const version = view.getUint32(20);
  const lastCompatible = view.getUint32(24);
  const bootCpuId = view.getUint32(28);
  const stringsSize = view.getUint32(32);
  if (version < OLDEST_VERSION || lastCompatible > 17)
    throw fail(`The device tree blob has format version ${version}, which is not supported (16 or 17 is).`);
  if (totalSize > blob.length) throw fail('The device tree blob is truncated.');
  const structEnd = version >= 17 ? structOffset + view.getUint32(36) : totalSize;
  if (structEnd > totalSize || stringsOffset + stringsSize > totalSize) throw fail('A block of the device tree blob runs past its end.');

  const reservations: FdtReservation[] = [];
  for (let offset = reserveOffset; ; offset += 16) {
    if (offset + 16 > totalSize) throw fail('The memory reservation map of the device tree has no end marker.');
    const address = view.getBigUint64(offset);
    const size = view.getBigUint64(offset + 8);
    if (address === 0n && size === 0n) break;
    reservations.push({ address, size });
  }

  /** The NUL-terminated name at `offset`, and the offset of its NUL. */
  const nameAt = (offset: number, end: number): [string, number] => {
    const stop = blob.indexOf(0, offset);
    if (stop < 0 || stop >= end) throw fail('A name in the device tree blob is not terminated.');
    return [utf8Decoder.decode(blob.subarray(offset, stop)), stop];
  };

  const stack: FdtNode[] = [];
  let root: FdtNode | undefined;
  let offset = structOffset;
  for (;;) {
    if (offset + 4 > structEnd) throw fail('The structure block of the device tree ends without FDT_END.');
    const token = view.getUint32(offset);
    offset += 4;
    if (token === FDT_BEGIN_NODE) {
      const [name, stop] = nameAt(offset, structEnd);
      offset = align4(stop + 1);
      const node: FdtNode = { name, properties: [], children: [] };
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(node);
      else if (root) throw fail('The device tree blob has more than one root node.');
      else root = node;
      stack.push(node);
    } else if (token === FDT_END_NODE) {
      if (!stack.pop()) throw fail('The device tree blob closes a node it never opened.');
    } else if (token === FDT_PROP) {
      const node = stack[stack.length - 1];
      if (!node || offset + 8 > structEnd) throw fail('The device tree blob has a property outside any node.');
      const length = view.getUint32(offset);
      const nameOffset = view.getUint32(offset + 4);
      offset += 8;
      if (offset + length > structEnd) throw fail('A property of the device tree blob runs past the structure block.');
      if (nameOffset >= stringsSize) throw fail('A property name of the device tree blob points outside the strings block.');
      const [name] = nameAt(stringsOffset + nameOffset, stringsOffset + stringsSize);
      node.properties.push({ name, value: blob.slice(offset, offset + length) });
      offset = align4(offset + length);
    } else if (token === FDT_END) {
      break;
    } else if (token !== FDT_NOP) {
      throw fail(`The device tree blob has an unknown token 0x${token.toString(16)} at offset ${offset - 4}.`);
    }
  }
  if (!root) throw fail('The device tree blob has no root node.');
  if (stack.length > 0) throw fail('The device tree blob ends inside a node.');
  return { root, reservations, bootCpuId };
}

/** Writes the tree as a compact version 17 blob: header, reservation map, structure, strings (the layout dtc uses). */
export function serializeFdt(tree: DeviceTree): Uint8Array {
  const strings = new StringTable();
  const struct = new ByteWriter();
  const writeNode = (node: FdtNode) => {
    struct.u32(FDT_BEGIN_NODE);
    struct.bytes(utf8Encoder.encode(node.name));
    struct.bytes(new Uint8Array(1));
    struct.pad4();
    for (const property of node.properties) {
      struct.u32(FDT_PROP);
      struct.u32(property.value.length);
      struct.u32(strings.offsetOf(property.name));
      struct.bytes(property.value);
      struct.pad4();
    }
    node.children.forEach(writeNode);
    struct.u32(FDT_END_NODE);
  };
  writeNode(tree.root);
  struct.u32(FDT_END);

  const reserveOffset = HEADER_SIZE;
  const structOffset = reserveOffset + 16 * (tree.reservations.length + 1);
  const structBytes = struct.toBytes();
  const stringsBytes = strings.toBytes();
  const stringsOffset = structOffset + structBytes.length;
  const totalSize = stringsOffset + stringsBytes.length;

  const blob = new Uint8Array(totalSize);
  const view = new DataView(blob.buffer);
  [
    FDT_MAGIC,
    totalSize,
    structOffset,
    stringsOffset,
    reserveOffset,
    17,
    16,
    tree.bootCpuId,
    stringsBytes.length,
    structBytes.length,
  ].forEach((value, index) => view.setUint32(index * 4, value));
  tree.reservations.forEach((reservation, index) => {
    view.setBigUint64(reserveOffset + index * 16, reservation.address);
    view.setBigUint64(reserveOffset + index * 16 + 8, reservation.size);
  });
  blob.set(structBytes, structOffset);
  blob.set(stringsBytes, stringsOffset);
  return blob;
}

class ByteWriter {
  private buffer = new Uint8Array(4096);
  private length = 0;

  private reserve(count: number): void {
    if (this.length + count <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.length + count));
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }

  u32(value: number): void {
    this.reserve(4);
    new DataView(this.buffer.buffer).setUint32(this.length, value);
    this.length += 4;
  }

  bytes(value: Uint8Array): void {
    this.reserve(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
  }

  pad4(): void {
    const padding = align4(this.length) - this.length;
    this.reserve(padding);
    this.buffer.fill(0, this.length, this.length + padding);
    this.length += padding;
  }

  toBytes(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

/** Property names, each stored once; like dtc, a name that ends another one (`cells` in `#size-cells`) points into it. */
class StringTable {
  /** The table so far, one character per byte, so that string positions are byte offsets. */
  private table = '';

  offsetOf(name: string): number {
    const entry = `${String.fromCharCode(...utf8Encoder.encode(name))}\0`;
    const known = this.table.indexOf(entry);
    if (known >= 0) return known;
    this.table += entry;
    return this.table.length - entry.length;
  }

  toBytes(): Uint8Array {
    return Uint8Array.from(this.table, (char) => char.charCodeAt(0));
  }
}

// --- properties ---

export function getProperty(node: FdtNode, name: string): Uint8Array | undefined {
  return node.properties.find((property) => property.name === name)?.value;
}

/** Replaces the property's value where it stands, or appends the property. */
export function setProperty(node: FdtNode, name: string, value: Uint8Array): void {
  const existing = node.properties.find((property) => property.name === name);
  if (existing) existing.value = value;
  else node.properties.push({ name, value });
}

/** The first string of a string or string-list property. */
export function getString(node: FdtNode, name: string): string | undefined {
  const value = getProperty(node, name);
  if (value === undefined) return undefined;
  const end = value.indexOf(0);
  return utf8Decoder.decode(value.subarray(0, end < 0 ? value.length : end));
}

export function setString(node: FdtNode, name: string, value: string): void {
  const encoded = utf8Encoder.encode(value);
  const bytes = new Uint8Array(encoded.length + 1);
  bytes.set(encoded);
  setProperty(node, name, bytes);
}

/** The property as 32-bit big-endian cells; undefined when absent or not a whole number of cells. */
export function getCells(node: FdtNode, name: string): number[] | undefined {
  const value = getProperty(node, name);
  if (value === undefined || value.length % 4 !== 0) return undefined;
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  return Array.from({ length: value.length / 4 }, (_, index) => view.getUint32(index * 4));
}

export function setCells(node: FdtNode, name: string, cells: readonly number[]): void {
  const bytes = new Uint8Array(cells.length * 4);
  const view = new DataView(bytes.buffer);
  cells.forEach((cell, index) => view.setUint32(index * 4, cell >>> 0));
  setProperty(node, name, bytes);
}

// --- nodes ---

export interface NodeEntry {
  node: FdtNode;
  /** Full path: `/`, `/soc`, `/soc/serial@7e215040`. */
  path: string;
  /** From the root down to the parent; empty for the root. */
  ancestors: FdtNode[];
}

/** Every node, parents before their children, in blob order. */
export function* walkNodes(root: FdtNode): Generator<NodeEntry> {
  const visit = function* (node: FdtNode, path: string, ancestors: FdtNode[]): Generator<NodeEntry> {
    yield { node, path, ancestors };
    const lineage = [...ancestors, node];
    for (const child of node.children) yield* visit(child, `${path === '/' ? '' : path}/${child.name}`, lineage);
  };
  yield* visit(root, '/', []);
}

export function findNode(root: FdtNode, path: string): FdtNode | undefined {
  let node: FdtNode | undefined = root;
  for (const name of path.split('/').filter(Boolean)) {
    node = node.children.find((child) => child.name === name);
    if (!node) return undefined;
  }
  return node;
}

// --- addresses ---

/** The Devicetree Specification's defaults when a bus leaves #address-cells / #size-cells out. */
function addressCells(bus: FdtNode): number {
  return getCells(bus, '#address-cells')?.[0] ?? 2;
}

function sizeCells(bus: FdtNode): number {
  return getCells(bus, '#size-cells')?.[0] ?? 1;
}

function joinCells(cells: readonly number[]): bigint {
  return cells.reduce((value, cell) => (value << 32n) | BigInt(cell), 0n);
}

/** Splits a cell array into records of the given widths; undefined if it does not divide evenly. */
function records(cells: readonly number[], widths: readonly number[]): bigint[][] | undefined {
  const width = widths.reduce((sum, each) => sum + each, 0);
  if (width === 0 || cells.length % width !== 0) return undefined;
  const result: bigint[][] = [];
  for (let start = 0; start < cells.length; start += width) {
    let at = start;
    result.push(widths.map((each) => joinCells(cells.slice(at, (at += each)))));
  }
  return result;
}

/** The node's `reg` entries in its parent's bus addresses; undefined when it has none or they do not fit the parent's cell sizes. */
export function readReg(parent: FdtNode, node: FdtNode): AddressRange[] | undefined {
  const cells = getCells(node, 'reg');
  const addressWidth = addressCells(parent);
  if (!cells || cells.length === 0 || addressWidth === 0) return undefined;
  return records(cells, [addressWidth, sizeCells(parent)])?.map(([address, size]) => ({ address: address!, size: size! }));
}

/**
 * Carries an address on the bus of the last of `ancestors` (root first) up to the CPU's physical
 * addresses, through each bus's `ranges` (empty = identity). Undefined when some bus has no
 * `ranges` (its children are not memory mapped, like I²C devices) or no window holds the address.
 */
export function translateAddress(ancestors: readonly FdtNode[], busAddress: bigint): bigint | undefined {
  let address = busAddress;
  for (let level = ancestors.length - 1; level >= 1; level--) {
    const bus = ancestors[level]!;
    const ranges = getCells(bus, 'ranges');
    if (ranges === undefined) return undefined;
    if (ranges.length === 0) continue;
    const windows = records(ranges, [addressCells(bus), addressCells(ancestors[level - 1]!), sizeCells(bus)]);
    const window = windows?.find(([child, , size]) => address >= child! && address - child! < size!);
    if (!window) return undefined;
    address = window[1]! + (address - window[0]!);
  }
  return address;
}

/** The node's `reg` entries as CPU physical addresses; an entry is undefined where it cannot be translated. */
export function translateReg(ancestors: readonly FdtNode[], node: FdtNode): Array<AddressRange | undefined> | undefined {
  const parent = ancestors[ancestors.length - 1];
  if (!parent) return undefined;
  return readReg(parent, node)?.map((range) => {
    const address = translateAddress(ancestors, range.address);
    return address === undefined ? undefined : { address, size: range.size };
  });
}
