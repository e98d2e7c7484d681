// The newer per-DomU device-tree properties (nr_spis, grant-table limits, capabilities, unmapped-access traps, static shared
// memory) and Xen's static heap, written as current ImageBuilder writes them into stage 2.
import { parseNumber, splitHalves } from './address';

/** Settings a DomU takes straight from ImageBuilder's config; the texts are written as given, as ImageBuilder does. */
export interface DomUDeviceTreeOptions {
  /** `nr_spis`: the SPIs Xen gives the DomU (DOMU_NR_SPIS). */
  nrSpis?: string;
  /** `max_grant_version` (DOMU_GRANT_VER). */
  grantVersion?: string;
  /** `max_grant_frames` (DOMU_GRANT_FRAMES). */
  grantFrames?: string;
  /** `max_maptrack_frames` (DOMU_MAPTRACK_FRAMES). */
  maptrackFrames?: string;
  /** DOMU_CAPS as the config gives it ("control|hardware", "xenstore", "3"); checked when the node is written. */
  capabilities?: string;
  /** `trap-unmapped-accesses`: "0" or "1" (DOMU_TRAP_UNMAP); any other value is left out, as ImageBuilder does. */
  trapUnmappedAccesses?: string;
  /** DOMU_SHARED_MEM: "ID HOST-ADDRESS GUEST-ADDRESS SIZE", or "ID GUEST-ADDRESS SIZE" to take the memory from Xen's heap. */
  sharedMemory?: string;
  /** DOMU_STATIC_EVTCHNS: "local_port remote_domU remote_port; ..." (static event channels between DomUs). */
  staticEventChannels?: string;
  /** DOMU_VCPU_HARD_AFFINITY[n,vcpu]: the pCPUs ("1", "0-3,5") each listed vCPU may run on, as `vcpuN` nodes. */
  vcpuHardAffinity?: Array<{ vcpu: number; pcpus: string }>;
}

/** A `xen,vcpu` node for each vCPU with a hard affinity. */
export function vcpuLines(node: string, affinities: Array<{ vcpu: number; pcpus: string }>): string[] {
  return affinities.flatMap(({ vcpu, pcpus }) => [
    `fdt mknod ${node} vcpu${vcpu}`,
    `fdt set ${node}/vcpu${vcpu} compatible  "xen,vcpu"`,
    `fdt set ${node}/vcpu${vcpu} id <${vcpu}>`,
    `fdt set ${node}/vcpu${vcpu} hard-affinity "${pcpus}"`,
  ]);
}

const CAPABILITY_BITS: Record<string, number> = { none: 0, control: 1, hardware: 2, xenstore: 4, dom0: 7, domain0: 7 };

/** A bash integer constant as `$(( ))` reads one: decimal, 0x hex, 0 octal or BASE#DIGITS; undefined for anything else. */
function bashInteger(word: string): bigint | undefined {
  if (/^0x[0-9a-f]+$/.test(word)) return BigInt(word);
  if (/^0[0-7]*$/.test(word)) return BigInt(`0o${word.slice(1) || '0'}`);
  if (/^[1-9][0-9]*$/.test(word)) return BigInt(word);
  const based = /^([0-9]+)#([0-9a-z@_]+)$/.exec(word);
  if (!based) return undefined;
  const base = Number(based[1]);
  if (base < 2 || base > 36) return undefined; // bases above 36 are case-sensitive, and the word was lower-cased
  let value = 0n;
  for (const digit of based[2]!) {
    const d = Number.parseInt(digit, 36);
    if (Number.isNaN(d) || d >= base) return undefined;
    value = value * BigInt(base) + BigInt(d);
  }
  return value;
}

/**
 * DOMU_CAPS as ImageBuilder reads it: the first word of the value, lower-cased, split at "|", each part a capability
 * name or a number, OR-ed together. Undefined when a part is neither (ImageBuilder then stops with "Invalid DOMU_CAPS").
 * Arithmetic such as "1+2", which bash would evaluate, is not accepted.
 */
export function domainCapabilities(text: string): string | undefined {
  const firstWord = text.trim().split(/\s+/)[0] ?? '';
  let caps = 0n;
  for (const part of firstWord.toLowerCase().split('|').filter(Boolean)) {
    const named = CAPABILITY_BITS[part];
    const value = named !== undefined ? BigInt(named) : /^[0-9]/.test(part) ? bashInteger(part) : undefined;
    if (value === undefined) return undefined;
    caps |= value;
  }
  return caps.toString();
}

/** ImageBuilder's split_value for each word: the high and low halves of each number, `0x%x`. Undefined if a word is no number. */
export function splitValues(words: string[]): string[] | undefined {
  const cells: string[] = [];
  for (const word of words) {
    const value = parseNumber(word);
    if (value === undefined) return undefined;
    cells.push(
      splitHalves(value)
        .map((half) => `0x${half.toString(16)}`)
        .join(' '),
    );
  }
  return cells;
}

export const words = (text: string): string[] => text.trim().split(/\s+/).filter(Boolean);

/** The `shared-mem` node under a DomU: named after the host address, or after the ID when Xen picks the host memory. */
export function sharedMemoryLines(node: string, text: string, cells: string[]): string[] {
  const space = text.indexOf(' ');
  const id = space < 0 ? text : text.slice(0, space);
  const regions = space < 0 ? text : text.slice(space + 1);
  const name = cells.length < 3 ? `shared-mem-${id}` : `shared-mem@${regions.split(' ')[0]}`;
  return [
    `fdt mknod ${node} ${name}`,
    `fdt set ${node}/${name} compatible "xen,domain-shared-memory-v1"`,
    `fdt set ${node}/${name} xen,shm-id "${id}"`,
    `fdt set ${node}/${name} xen,shared-mem <${cells.join(' ')}>`,
  ];
}

/** The words of DOMU_SHARED_MEM after the ID, as split_value reads them. */
export function sharedMemoryWords(text: string): string[] {
  const space = text.indexOf(' ');
  return words(space < 0 ? text : text.slice(space + 1));
}

/** `test "$value" -eq N` in bash: an integer with optional sign and surrounding blanks. */
export function testEquals(value: string, n: number): boolean {
  return /^\s*[+-]?\d+\s*$/.test(value) && Number(value.trim()) === n;
}
