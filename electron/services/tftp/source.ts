// The DATA packets a transfer sends: built once per block from memory or a file read ahead (bounded), resent as they are.
import type { FileHandle } from 'node:fs/promises';
import { Opcode } from './packets';

/** Produces the next piece of the byte stream (at most `maxBytes` of the file), or null at its end. */
type Producer = (maxBytes: number) => Promise<Buffer | null>;

/**
 * Reads the next bytes of the stream straight into `slots` (the payloads of consecutive packets, in
 * order), filling each whole before the next; resolves with the bytes read, less than the slots hold
 * only at the end of the stream. No copy in JavaScript: the kernel writes the file into the packets.
 */
export type SlotReader = (slots: Buffer[]) => Promise<number>;

/** Bytes prepared ahead of the block being sent, per transfer at most: hides disk latency, bounds memory with many clients. */
export const READ_AHEAD_BYTES = 1 << 20;
/** Largest read from a file or slice of a memory buffer. */
const PIECE_BYTES = 256 * 1024;
/** Packets read by one readv: its vector stays within IOV_MAX (1024 on Linux and macOS). */
const MAX_SLOTS = 1024;
/** Spare pieces kept per transfer for reuse (256 KiB each at most). */
const MAX_SPARE = 4;
/** Acknowledged packets are dropped in batches, so releasing costs nothing per ACK. */
const RELEASE_BATCH = 256;

/**
 * Block `index` (1-based) carries bytes [(index-1)·blksize, index·blksize) of the stream; the block
 * shorter than blksize (possibly empty) is the last. Each packet — 4-byte DATA header and payload in
 * one buffer — is built once, so sending or resending it is a single send of an existing buffer: no
 * header allocation and no scatter/gather list on the hot path. A packet is never written again, nor
 * its memory reused: dgram's send keeps the buffer until the datagram is out, which happens later
 * whenever the socket's queue is busy, so a recycled buffer could change a packet already handed over.
 */
export class BlockSource {
  /** packets[i] is block `base + i`. */
  private packets: Buffer[] = [];
  private base = 1;
  /** Bytes of the stream not yet in a packet (less than one block). */
  private carry: Buffer = Buffer.alloc(0);
  /** Index of the last block once the stream has ended. */
  private lastIndex = Infinity;
  private reading: Promise<void> | undefined;
  private failure: unknown;
  private aheadPackets: number;
  /** File pieces read into packets, oldest first: `end` is one past the piece's last block. */
  private pieces: Array<{ end: number; buffer: Buffer }> = [];
  /** Whole pieces whose packets are all acknowledged and out of the socket's queue: read into again, not reallocated. */
  private spare: Buffer[] = [];
  /**
   * Whether every datagram handed to the socket has left its send queue (the kernel copied it), so an
   * acknowledged piece's memory may be read into again. Set by the transfer; until then nothing is reused.
   */
  sent: () => boolean = () => false;

  constructor(
    private readonly produce: Producer | { readSlots: SlotReader },
    readonly blksize: number,
    readAhead: number,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {
    this.aheadPackets = Math.max(1, Math.ceil(readAhead / blksize));
  }

  /** Bytes to prepare ahead from now on (a transfer raises it as its client proves it reads; see Transfer). */
  set readAhead(bytes: number) {
    this.aheadPackets = Math.max(1, Math.ceil(bytes / this.blksize));
  }

  /** The DATA packet of block `index` if it is ready (the fast path: no promise, no allocation). */
  peek(index: number): Buffer | undefined {
    const offset = index - this.base;
    const ready = this.packets.length;
    if (ready - offset < this.aheadPackets && this.base + ready <= this.lastIndex) this.fill();
    return offset < ready ? this.packets[offset] : undefined;
  }

  /** Resolves once block `index` can be peeked (or rejects if reading failed). */
  async load(index: number): Promise<void> {
    while (index >= this.base + this.packets.length && index <= this.lastIndex) {
      if (this.failure) throw this.failure;
      this.fill();
      await this.reading;
    }
    if (this.failure) throw this.failure;
  }

  /** Forgets packets before block `index`: they are acknowledged and never resent. */
  release(index: number): void {
    while (this.pieces.length > 0 && this.pieces[0]!.end <= index) {
      const { buffer } = this.pieces.shift()!;
      // a fresh buffer per piece costs page faults, and freeing it a TLB flush: keep a few, once surely sent
      if (buffer.length === this.fullPiece * (4 + this.blksize) && this.spare.length < MAX_SPARE && this.sent()) this.spare.push(buffer);
    }
    const done = index - this.base;
    if (done < RELEASE_BATCH) return;
    this.packets = this.packets.slice(done);
    this.base = index;
  }

  async close(): Promise<void> {
    this.lastIndex = 0;
    this.packets = [];
    this.pieces = [];
    this.spare = [];
    await this.reading?.catch(() => {});
    await this.onClose();
  }

  private fill(): void {
    if (this.reading || this.failure || this.lastIndex === 0) return;
    // no bigger than the read-ahead: a transfer that has shown nothing yet holds one window, not a whole piece
    const blocks = Math.min(this.aheadPackets, Math.max(1, Math.floor(PIECE_BYTES / this.blksize)));
    if (typeof this.produce !== 'function') return this.readIntoPackets(this.produce.readSlots, Math.min(blocks, this.fullPiece));
    this.reading = this.produce(blocks * this.blksize).then(
      (piece) => {
        this.reading = undefined;
        this.packetize(piece);
      },
      (error: unknown) => {
        this.reading = undefined;
        this.failure = error;
      },
    );
  }

  /** Blocks in a whole piece read from a file: 256 KiB, and no more than one readv takes. */
  private get fullPiece(): number {
    return Math.min(MAX_SLOTS, Math.max(1, Math.floor(PIECE_BYTES / this.blksize)));
  }

  /** Builds `blocks` packets' headers in one buffer and has the file read into their payloads. */
  private readIntoPackets(readSlots: SlotReader, blocks: number): void {
    const { blksize } = this;
    const stride = 4 + blksize;
    const packed = (blocks === this.fullPiece && this.spare.pop()) || Buffer.allocUnsafe(blocks * stride);
    const first = this.base + this.packets.length;
    const slots: Buffer[] = [];
    for (let i = 0; i < blocks; i++) {
      packed.writeUInt16BE(Opcode.DATA, i * stride);
      packed.writeUInt16BE((first + i) & 0xffff, i * stride + 2);
      slots.push(packed.subarray(i * stride + 4, (i + 1) * stride));
    }
    this.reading = readSlots(slots).then(
      (bytesRead) => {
        this.reading = undefined;
        if (this.lastIndex !== Infinity) return;
        const full = Math.floor(bytesRead / blksize);
        this.pieces.push({ end: first + blocks, buffer: packed });
        for (let i = 0; i < full; i++) this.packets.push(packed.subarray(i * stride, (i + 1) * stride));
        if (bytesRead === blocks * blksize) return;
        // the end: the short block (possibly just its header) is the last
        const short = bytesRead - full * blksize;
        this.packets.push(packed.subarray(full * stride, full * stride + 4 + short));
        this.lastIndex = first + full;
      },
      (error: unknown) => {
        this.reading = undefined;
        this.failure = error;
      },
    );
  }

  /** Cuts the carry plus `piece` into packets sharing one buffer; null ends the stream with a short block. */
  private packetize(piece: Buffer | null): void {
    if (this.lastIndex !== Infinity) return;
    const bytes = piece === null ? this.carry : this.carry.length ? Buffer.concat([this.carry, piece]) : piece;
    const { blksize } = this;
    const full = Math.floor(bytes.length / blksize);
    const count = piece === null ? full + 1 : full;
    const packed = Buffer.allocUnsafe(bytes.length - (piece === null ? 0 : bytes.length - full * blksize) + 4 * count);
    let index = this.base + this.packets.length;
    let at = 0;
    for (let i = 0; i < count; i++, index++) {
      const from = i * blksize;
      const to = Math.min(from + blksize, bytes.length);
      packed.writeUInt16BE(Opcode.DATA, at);
      packed.writeUInt16BE(index & 0xffff, at + 2);
      bytes.copy(packed, at + 4, from, to);
      this.packets.push(packed.subarray(at, at + 4 + to - from));
      at += 4 + to - from;
    }
    if (piece === null) {
      this.lastIndex = index - 1;
      this.carry = Buffer.alloc(0);
    } else this.carry = Buffer.from(bytes.subarray(full * blksize));
  }
}

/** Where a transfer's bytes come from: a generated file in memory, or an opened file on disk and its size when opened. */
export type SourceOrigin = { bytes: Uint8Array } | { handle: FileHandle; size: number };

/**
 * Opens the packet stream of one transfer. Memory is sliced (no copy until packets are built); a file
 * is read in pieces of up to 256 KiB, up to the size it had when opened. Either way at most
 * READ_AHEAD_BYTES are prepared beyond the block being sent (less until the client has shown it
 * reads, see Transfer): many clients, bounded memory, and a 1 GiB kernel is never loaded whole.
 */
export function openSource(origin: SourceOrigin, blksize: number, mode: 'octet' | 'netascii'): BlockSource {
  let produce: Producer;
  let close = async () => {};
  let position = 0;
  if ('bytes' in origin) {
    const whole = Buffer.from(origin.bytes.buffer, origin.bytes.byteOffset, origin.bytes.byteLength);
    produce = async (pieceSize) => {
      if (position >= whole.length) return null;
      const piece = whole.subarray(position, position + pieceSize);
      position += piece.length;
      return piece;
    };
  } else {
    const { handle, size } = origin;
    // exactly the size the OACK's tsize announced: bytes a writer appends meanwhile are not sent, and a
    // file cut short fails the transfer instead of ending it early with a plausible-looking short block
    const readSlots: SlotReader = async (slots) => {
      const wanted = Math.min(slots.length * blksize, size - position);
      let done = 0;
      while (done < wanted) {
        // from the first slot not yet full: readv may stop short, like read
        const at = Math.floor(done / blksize);
        const pending = [slots[at]!.subarray(done - at * blksize), ...slots.slice(at + 1)];
        const { bytesRead } = await handle.readv(trimmed(pending, wanted - done), position + done);
        if (bytesRead === 0) throw new Error(`the file shrank to ${position + done} bytes while it was being sent (it had ${size})`);
        done += bytesRead;
      }
      position += done;
      return done;
    };
    if (mode === 'octet') return new BlockSource({ readSlots }, blksize, READ_AHEAD_BYTES, () => handle.close());
    produce = async (pieceSize) => {
      const wanted = Math.min(pieceSize, size - position);
      if (wanted <= 0) return null;
      const piece = Buffer.allocUnsafe(wanted);
      const { bytesRead } = await handle.read(piece, 0, wanted, position);
      if (bytesRead === 0) throw new Error(`the file shrank to ${position} bytes while it was being sent (it had ${size})`);
      position += bytesRead;
      return piece.subarray(0, bytesRead);
    };
    close = () => handle.close();
  }
  return new BlockSource(mode === 'netascii' ? netasciiProducer(produce) : produce, blksize, READ_AHEAD_BYTES, close);
}

/** The first `bytes` of a list of buffers, as a list (the last one cut). */
function trimmed(buffers: Buffer[], bytes: number): Buffer[] {
  const out: Buffer[] = [];
  for (const buffer of buffers) {
    if (bytes <= 0) break;
    out.push(buffer.length > bytes ? buffer.subarray(0, bytes) : buffer);
    bytes -= buffer.length;
  }
  return out;
}

/** Netascii (RFC 764 as RFC 1350 uses it): LF becomes CR LF, a bare CR becomes CR NUL. */
export function toNetascii(piece: Buffer): Buffer {
  let extra = 0;
  for (let i = 0; i < piece.length; i++) if (piece[i] === 0x0a || piece[i] === 0x0d) extra++;
  if (extra === 0) return piece;
  const out = Buffer.allocUnsafe(piece.length + extra);
  let o = 0;
  for (let i = 0; i < piece.length; i++) {
    const byte = piece[i]!;
    if (byte === 0x0a) {
      out[o++] = 0x0d;
      out[o++] = 0x0a;
    } else if (byte === 0x0d) {
      out[o++] = 0x0d;
      out[o++] = 0x00;
    } else out[o++] = byte;
  }
  return out;
}

/** Wraps a producer so every piece is converted to netascii (the size is then unknown up front). */
function netasciiProducer(inner: Producer): Producer {
  return async (maxBytes) => {
    const piece = await inner(maxBytes);
    return piece === null ? null : toNetascii(piece);
  };
}
