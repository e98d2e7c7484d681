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
  return /^1*0*$/.test(bits) ? (bits.indexOf('0') === -1 ? 32 : bits.indexOf('0')) : undefined;
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

/** A loopback address (127.x.x.x): wrong for a Pi on a LAN, yet what a trial or a test on this one computer uses, so only warned of. */
export function isLoopback(address: string): boolean {
  const value = parseIpv4(address);
  return value !== undefined && Math.floor(value / 2 ** 24) === 127;
}

/**
 * Why an address cannot be a board's or a server's own on a LAN, or undefined when it can: not a network's own address
 * or its broadcast (with the netmask; without one, as on a /24 network, the usual home LAN; null: on another network,
 * not checked), loopback or multicast.
 */
export function hostAddressProblem(address: string, netmask?: string | null): string | undefined {
  const value = parseIpv4(address);
  if (value === undefined) return undefined; // the shape check says so
  const first = Math.floor(value / 2 ** 24);
  if (first === 0) return `${address} is not an address a device can have (0.x.x.x means "this network").`;
  if (first === 127)
    return `${address} is a loopback address: it never leaves the computer that uses it, so only an emulator on this computer reaches it, never a Pi.`;
  if (first >= 224) return `${address} is a multicast or reserved address, not one a device can have.`;
  if (netmask === null) return undefined; // on another network: its own netmask is not known here
  const prefix = netmask ? netmaskPrefix(netmask) : 24;
  if (prefix === undefined || prefix > 30) return undefined;
  const size = 2 ** (32 - prefix);
  const offset = value % size;
  const network = netmask
    ? `${formatIpv4(value - offset)}/${prefix}`
    : `${formatIpv4(value - offset)}/24 (no netmask is set; set it when your network is larger)`;
  if (offset === 0)
    return `${address} is the address of the network ${network} itself, not of a device on it: choose another, such as ${formatIpv4(value + 50)}.`;
  if (offset === size - 1)
    return `${address} is the broadcast address of the network ${network}, not a device’s: choose another, such as ${formatIpv4(value - offset + 50)}.`;
  return undefined;
}

/** Why a netmask is not one (ones then zeros, and not 0.0.0.0), or undefined. */
export function netmaskProblem(mask: string): string | undefined {
  if (!isIpv4(mask)) return undefined; // the shape check says so
  const prefix = netmaskPrefix(mask);
  if (prefix === undefined)
    return `${mask} is not a netmask: a netmask is ones followed by zeros, such as 255.255.255.0 (a /24 network) or 255.255.0.0 (/16).`;
  if (prefix === 0)
    return 'The netmask 0.0.0.0 would put every address on the board’s own network: use your network’s, such as 255.255.255.0.';
  return undefined;
}
