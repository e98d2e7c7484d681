// The dumped virt device tree made fit to boot: trimmed of QEMU's free space (what `dtc -I dtb -O dtb` does, without dtc),
// and a lone CPU given the enable method its two-CPU tree has.
import { ImagerError } from '../errors';
import { findNode, getString, parseFdt, serializeFdt, setString } from './fdt';

const FDT_MAGIC = 0xd00dfeed;
const HEADER_SIZE = 40;

function badBlob(message: string): ImagerError {
  return new ImagerError({
    code: 'BAD_DEVICE_TREE',
    subject: 'virt.dtb',
    message,
    hint: 'Check that QEMU (qemu-system-arm) is installed and working, then try again.',
  });
}

/**
 * QEMU's dumpdtb writes a 1 MiB blob, mostly free space. The header says where each block ends
 * (memory reservations, structure, strings); cutting after the last block and fixing totalsize
 * gives a valid, small blob that stage 2 can place 2 MiB below the next file.
 */
export function trimDeviceTree(blob: Uint8Array): Uint8Array {
  if (blob.length < HEADER_SIZE) throw badBlob('The device tree blob is shorter than its header.');
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  if (view.getUint32(0) !== FDT_MAGIC) throw badBlob('The device tree blob does not start with the FDT magic number.');
  const totalSize = view.getUint32(4);
  const structEnd = view.getUint32(8) + view.getUint32(36);
  const stringsEnd = view.getUint32(12) + view.getUint32(32);
  const reserveMapStart = view.getUint32(16);
  // the reservation map ends with an all-zero 16-byte entry
  let reserveMapEnd = reserveMapStart;
  while (reserveMapEnd + 16 <= blob.length) {
    const empty = view.getBigUint64(reserveMapEnd) === 0n && view.getBigUint64(reserveMapEnd + 8) === 0n;
    reserveMapEnd += 16;
    if (empty) break;
  }
  const used = Math.max(HEADER_SIZE, structEnd, stringsEnd, reserveMapEnd);
  if (used > totalSize || totalSize > blob.length) throw badBlob('The device tree blob is truncated.');
  const trimmed = blob.slice(0, used);
  new DataView(trimmed.buffer).setUint32(4, used);
  return trimmed;
}

/**
 * QEMU names no `enable-method` for a lone CPU (there is no other CPU to start), and Xen then prints
 * "CPU0 has no enable method" and "cpu0 init failed" on a boot that is fine. The trial's one-CPU tree says "psci",
 * as QEMU's own two-CPU tree does, when the tree has a PSCI node. Other trees come back unchanged.
 */
export function withCpuEnableMethod(blob: Uint8Array): Uint8Array {
  const tree = parseFdt(blob, 'virt.dtb');
  const cpus = findNode(tree.root, '/cpus');
  if (!cpus || !findNode(tree.root, '/psci')) return blob;
  const bare = cpus.children.filter((node) => getString(node, 'device_type') === 'cpu' && !getString(node, 'enable-method'));
  if (bare.length === 0) return blob;
  for (const node of bare) setString(node, 'enable-method', 'psci');
  return serializeFdt(tree);
}
