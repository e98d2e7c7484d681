// Turns off the device tree nodes of blocks QEMU's raspi4b does not emulate, judged by QEMU's own memory map.
import { getString, parseFdt, serializeFdt, setString, translateReg, walkNodes, type FdtNode } from './fdt';
import { regionAt, type MemoryRegion } from './mtree';

export interface UnmodelledResult {
  /** The tree with `status = "disabled"` on every unmodelled node, as a compact blob. */
  blob: Uint8Array;
  /** Full paths of the nodes this turned off, in tree order. */
  disabled: string[];
}

function isEnabled(node: FdtNode): boolean {
  const status = getString(node, 'status');
  return status === undefined || status === 'okay' || status === 'ok';
}

/**
 * Nodes whose `reg` is not a device's registers: memory banks (QEMU and U-Boot own them), CPUs
 * (`reg` is an MPIDR) and reserved-memory carve-outs (RAM, not devices).
 */
function isExempt(path: string): boolean {
  return /^\/memory(@|$)/.test(path) || /^\/cpus(\/|$)/.test(path) || /^\/reserved-memory\/./.test(path);
}

/**
 * A driver that maps registers QEMU does not back takes a synchronous external abort (Dom0 dies
 * in brcmstb_l2_intc_of_init on the stock bcm2711 tree). So every enabled node whose first `reg`
 * address, carried to CPU addresses through its buses' `ranges`, lies in no region of the CPU's
 * memory map (`regions`, from QEMU's `info mtree -f`) gets `status = "disabled"`. Nodes without
 * `reg` or whose address cannot be translated (I²C/SPI/MDIO children) are left as they are.
 */
export function disableUnmodelled(blob: Uint8Array, regions: readonly MemoryRegion[]): UnmodelledResult {
  const tree = parseFdt(blob);
  const disabled: string[] = [];
  for (const { node, path, ancestors } of walkNodes(tree.root)) {
    if (isExempt(path) || !isEnabled(node)) continue;
    const first = translateReg(ancestors, node)?.[0];
    if (!first || regionAt(regions, first.address)) continue;
    setString(node, 'status', 'disabled');
    disabled.push(path);
  }
  return { blob: serializeFdt(tree), disabled };
}
