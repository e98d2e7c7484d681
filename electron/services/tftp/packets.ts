// TFTP wire format (RFC 1350, 2347): decoding requests and acknowledgements, encoding data, OACK and errors.

export const Opcode = { RRQ: 1, WRQ: 2, DATA: 3, ACK: 4, ERROR: 5, OACK: 6 } as const;

/** RFC 1350 error codes, plus 8 from RFC 2347. */
export const TftpErrorCode = {
  NOT_DEFINED: 0,
  FILE_NOT_FOUND: 1,
  ACCESS_VIOLATION: 2,
  DISK_FULL: 3,
  ILLEGAL_OPERATION: 4,
  UNKNOWN_TID: 5,
  FILE_EXISTS: 6,
  NO_SUCH_USER: 7,
  OPTION_NEGOTIATION: 8,
} as const;

export type TransferMode = 'octet' | 'netascii';

export interface TftpRequest {
  opcode: typeof Opcode.RRQ | typeof Opcode.WRQ;
  /** The file name exactly as the client sent it (decoded as Latin-1, so every byte survives). */
  file: string;
  /** Lower-cased mode string as sent ('octet', 'netascii', 'mail', anything). */
  mode: string;
  /** Options as sent, names lower-cased; the first occurrence of a name wins. */
  options: Map<string, string>;
}

/** Why a packet could not be decoded; `code` is the TFTP error to answer with. */
export class PacketError extends Error {
  constructor(
    message: string,
    readonly code: number = TftpErrorCode.ILLEGAL_OPERATION,
  ) {
    super(message);
    this.name = 'PacketError';
  }
}

export function opcodeOf(packet: Buffer): number {
  return packet.length >= 2 ? packet.readUInt16BE(0) : -1;
}

/** Decodes an RRQ or WRQ: filename, mode and RFC 2347 options, each NUL-terminated. */
export function decodeRequest(packet: Buffer): TftpRequest {
  const opcode = opcodeOf(packet);
  if (opcode !== Opcode.RRQ && opcode !== Opcode.WRQ) throw new PacketError(`not a request (opcode ${opcode})`);
  const fields: string[] = [];
  let start = 2;
  while (start < packet.length) {
    const end = packet.indexOf(0, start);
    if (end < 0) throw new PacketError('request field is not NUL-terminated');
    fields.push(packet.toString('latin1', start, end));
    start = end + 1;
  }
  const [file, mode, ...rest] = fields;
  if (file === undefined || mode === undefined) throw new PacketError('request lacks a file name or a mode');
  if (file === '') throw new PacketError('empty file name', TftpErrorCode.FILE_NOT_FOUND);
  const options = new Map<string, string>();
  // a trailing name without a value is tolerated and ignored, as most servers do
  for (let i = 0; i + 1 < rest.length; i += 2) {
    const name = rest[i]!.toLowerCase();
    if (!options.has(name)) options.set(name, rest[i + 1]!);
  }
  return { opcode, file, mode: mode.toLowerCase(), options };
}

/** Block number of an ACK, or undefined if the packet is not a well-formed ACK. */
export function ackBlock(packet: Buffer): number | undefined {
  return packet.length >= 4 && packet.readUInt16BE(0) === Opcode.ACK ? packet.readUInt16BE(2) : undefined;
}

export function encodeOack(options: ReadonlyArray<readonly [string, string]>): Buffer {
  const parts = [Buffer.from([0, Opcode.OACK])];
  for (const [name, value] of options) parts.push(Buffer.from(`${name}\0${value}\0`, 'latin1'));
  return Buffer.concat(parts);
}

export function encodeError(code: number, message: string): Buffer {
  const text = Buffer.from(`${message}\0`, 'latin1');
  const packet = Buffer.allocUnsafe(4 + text.length);
  packet.writeUInt16BE(Opcode.ERROR, 0);
  packet.writeUInt16BE(code, 2);
  text.copy(packet, 4);
  return packet;
}

/** Decodes an ERROR packet a client sent (e.g. to decline an OACK). */
export function decodeError(packet: Buffer): { code: number; message: string } | undefined {
  if (packet.length < 4 || packet.readUInt16BE(0) !== Opcode.ERROR) return undefined;
  const end = packet.indexOf(0, 4);
  return { code: packet.readUInt16BE(2), message: packet.toString('latin1', 4, end < 0 ? packet.length : end) };
}
