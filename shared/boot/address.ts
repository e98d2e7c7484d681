// Address arithmetic and text as the boot scripts print it: 2 MiB alignment, `0x` + upper-case hex, 32-bit halves.

export const MiB = 1024 * 1024;
/** ImageBuilder's placement step: every file starts on a 2 MiB boundary. */
export const ALIGN_2M = 2 * MiB;

/** `printf "0x%X"`: upper-case hex without padding (0xE00000). */
export function hexAddress(value: number): string {
  return `0x${value.toString(16).toUpperCase()}`;
}

/** round_up(value, align) for a power-of-two align, safe beyond 32 bits. */
export function alignUp(value: number, align = ALIGN_2M): number {
  return Math.ceil(value / align) * align;
}

/** The high and low 32-bit halves of a 64-bit value held in a JS number. */
export function splitHalves(value: number): [number, number] {
  return [Math.floor(value / 0x1_0000_0000), value % 0x1_0000_0000];
}

/** Parses "0x1F", "1234" or a number; undefined for anything else (the caller reports the field). */
export function parseNumber(value: string | number | undefined): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) return Number.parseInt(text.slice(2), 16);
  if (/^[0-9]+$/.test(text)) return Number.parseInt(text, 10);
  return undefined;
}
