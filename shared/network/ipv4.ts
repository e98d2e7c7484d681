// IPv4 addresses as the boot settings use them: strict dotted-quad parsing, netmasks, and same-subnet checks.

/** The address as a 32-bit unsigned number, or undefined when it is not a strict dotted quad (no leading zeros, 0-255). */
export function parseIpv4(text: string): number | undefined {
  const parts = text.trim().split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return undefined;
    const byte = Number(part);
    if (byte > 255) return undefined;
    value = value * 256 + byte;
  }
  return value;
}

export function isIpv4(text: string): boolean {
  return parseIpv4(text) !== undefined;
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** A netmask is a run of ones then zeros (255.255.255.0); returns its prefix length, or undefined. */
export function netmaskPrefix(mask: string): number | undefined {
  const value = parseIpv4(mask);
  if (value === undefined) return undefined;
  const bits = value.toString(2).padStart(32, '0');
  return /^1*0*$/.test(bits) ? bits.indexOf('0') === -1 ? 32 : bits.indexOf('0') : undefined;
}

/** Whether two addresses are in the same subnet under a netmask (undefined when an input is invalid). */
export function sameSubnet(a: string, b: string, netmask: string): boolean | undefined {
  const x = parseIpv4(a);
  const y = parseIpv4(b);
  const prefix = netmaskPrefix(netmask);
  if (x === undefined || y === undefined || prefix === undefined) return undefined;
  const size = 2 ** (32 - prefix);
  return Math.floor(x / size) === Math.floor(y / size);
}

/** The broadcast address 255.255.255.255 (QEMU's user network relays it to the host's TFTP server). */
export const LIMITED_BROADCAST = '255.255.255.255';
