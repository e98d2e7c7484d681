// Reads QEMU's `info mtree -f` (the flattened memory map) into the regions one address space sees.
import { ImagerError } from '../errors';

/** One region of a FlatView: what answers at [start, end] (end inclusive, as QEMU prints it). */
export interface MemoryRegion {
  start: bigint;
  end: bigint;
  /** QEMU's region name: `ram`, `pl011`, `bcm2835-aux`... */
  name: string;
  /** `ram`, `i/o`, `rom`, `romd`... */
  kind: string;
  /** -1000 marks QEMU's placeholders for blocks it does not emulate. */
  priority: number;
}

// QEMU's monitor echoes what it reads through its line editor; the escapes carry no information.
// eslint-disable-next-line no-control-regex
const TERMINAL_ESCAPE = /\x1b\[[0-9;?]*[A-Za-z]/g;
const FLATVIEW_HEADER = /^FlatView #\d+/;
const ADDRESS_SPACE = /^\s*AS "([^"]*)"/;
const REGION = /^\s*([0-9a-f]+)-([0-9a-f]+) \(prio (-?\d+), ([^)]+)\): (\S+)/i;

function noFlatView(addressSpace: string, text: string): ImagerError {
  const seen = [...text.replace(TERMINAL_ESCAPE, '').matchAll(/^\s*AS "([^"]*)"/gm)].map((match) => match[1]);
  return new ImagerError({
    code: 'EMULATOR_FAILED',
    subject: addressSpace,
    message: seen.length
      ? `QEMU's memory map has no address space "${addressSpace}" (it lists ${seen.join(', ')}).`
      : `QEMU did not print its memory map (no FlatView in the output of "info mtree -f").`,
    hint: 'Check that this QEMU runs the raspi4b machine (qemu-system-aarch64 -machine help), then try again.',
  });
}

interface FlatView {
  spaces: string[];
  regions: MemoryRegion[];
}

/** Every FlatView in the text, with the address spaces it serves. */
function flatViews(text: string): FlatView[] {
  const views: FlatView[] = [];
  let current: FlatView | undefined;
  for (const line of text.replace(TERMINAL_ESCAPE, '').split(/\r?\n/)) {
    if (FLATVIEW_HEADER.test(line)) {
      current = { spaces: [], regions: [] };
      views.push(current);
      continue;
    }
    if (!current) continue;
    const space = current.regions.length === 0 ? ADDRESS_SPACE.exec(line) : null;
    const region = REGION.exec(line);
    if (space) current.spaces.push(space[1]!);
    else if (region) {
      current.regions.push({
        start: BigInt(`0x${region[1]}`),
        end: BigInt(`0x${region[2]}`),
        priority: Number(region[3]),
        kind: region[4]!.trim(),
        name: region[5]!,
      });
    } else if (line.trim() === '' || line.startsWith('(qemu)')) current = undefined; // a blank line or the next prompt ends it
  }
  return views;
}

/**
 * The regions of the FlatView that serves `addressSpace` (e.g. "cpu-memory-0"). Several address
 * spaces share one FlatView: its header lists them all before the regions.
 */
export function parseFlatView(text: string, addressSpace: string): MemoryRegion[] {
  const view = flatViews(text).find((each) => each.spaces.includes(addressSpace));
  if (!view) throw noFlatView(addressSpace, text);
  if (view.regions.length === 0) {
    throw new ImagerError({
      code: 'EMULATOR_FAILED',
      subject: addressSpace,
      message: `QEMU's memory map shows nothing at all in address space "${addressSpace}".`,
      hint: 'Check that this QEMU runs the raspi4b machine (qemu-system-aarch64 -machine help), then try again.',
    });
  }
  return view.regions;
}

/** The region holding `address`, if any. */
export function regionAt(regions: readonly MemoryRegion[], address: bigint): MemoryRegion | undefined {
  return regions.find((region) => address >= region.start && address <= region.end);
}
