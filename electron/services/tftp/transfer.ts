// One read transfer on its own socket: OACK, windows of DATA, ACK handling without the Sorcerer's Apprentice, retransmission with backoff, rollover.
import dgram from 'node:dgram';
import type { TftpPeer } from '../../../shared/api/tftp';
import type { Negotiated } from './options';
import { ackBlock, decodeError, encodeError, encodeOack, opcodeOf, Opcode, TftpErrorCode } from './packets';
import { READ_AHEAD_BYTES, type BlockSource } from './source';

/** The wait doubles after each retransmission without news, as tftpd-hpa's does, up to 32 times the timeout. */
const MAX_DOUBLINGS = 5;

/** How long to wait for the client after `retries` retransmissions without progress. */
export function retransmitDelay(timeoutMs: number, retries: number): number {
  return timeoutMs * 2 ** Math.min(retries, MAX_DOUBLINGS);
}

export interface TransferOutcome {
  ok: boolean;
  /** Payload bytes the client acknowledged. */
  bytes: number;
  ms: number;
  retransmissions: number;
  why?: string;
  /** TFTP error code sent to the client when the server gave up, if any. */
  code?: number;
}

export interface TransferSettings {
  client: TftpPeer;
  /** Local address of the transfer socket (the server's listening address). */
  bindAddress: string;
  source: BlockSource;
  negotiated: Negotiated;
  maxRetries: number;
  /** Throttle for onProgress. */
  progressIntervalMs: number;
  onProgress: (bytes: number, ms: number) => void;
  onEnd: (outcome: TransferOutcome) => void;
}

/**
 * Block indexes count from 1 without wrapping; the wire carries index & 0xffff, so a file longer than
 * 65535 blocks rolls over to 0 as U-Boot, curl and tftp-hpa expect. An ACK is mapped back to the one
 * index in [acked, sent] with the same low 16 bits; anything else is stale and ignored.
 *
 * A window that gets no ACK is not sent again whole: only its first unacknowledged block goes out,
 * after a wait that doubles each time. A client that answers that probe with its last ACK again is
 * alive but missing the rest, and gets the window once more; one that answers nothing costs a
 * block per wait. So a silent client costs at most one window plus `maxRetries` blocks.
 */
export class Transfer {
  private readonly socket = dgram.createSocket('udp4');
  private readonly startedAt = performance.now();
  private readonly blksize: number;
  private readonly windowsize: number;
  /** Highest block the client acknowledged (0: none, or the OACK). */
  private acked = 0;
  /** Highest block sent so far. */
  private sent = 0;
  /** Next block to send: acked + 1 after a timeout or a gap, else sent + 1. */
  private next = 1;
  /** Index of the last (short) block, once the stream has shown it. */
  private last = Infinity;
  private oackPending: boolean;
  /** Retransmissions since the client last made progress. */
  private retries = 0;
  private retransmissions = 0;
  /** A probe (the first unacknowledged block alone) went out after a timeout, and no ACK has answered it yet. */
  private probing = false;
  private waiting = false;
  private ended = false;
  private lastLength = 0;
  private lastProgressAt = 0;
  /** When the client last made progress (or we last retransmitted): the timer counts from here. */
  private lastNewsAt = 0;
  /** When the client last made progress (the OACK or new blocks acknowledged). */
  private progressAt = performance.now();
  /** Blocks the source may prepare ahead; grows as the client acknowledges, so a silent one holds one window. */
  private aheadBlocks: number;
  private readonly mostAhead: number;
  private timer: NodeJS.Timeout | undefined;
  private resolveFinished!: () => void;
  /** Settles once the socket is closed and the outcome reported. */
  readonly finished = new Promise<void>((resolve) => (this.resolveFinished = resolve));

  constructor(private readonly settings: TransferSettings) {
    this.blksize = settings.negotiated.blksize;
    this.windowsize = settings.negotiated.windowsize;
    this.oackPending = settings.negotiated.reply.length > 0;
    this.aheadBlocks = this.windowsize;
    this.mostAhead = Math.max(this.windowsize, Math.floor(READ_AHEAD_BYTES / this.blksize));
    settings.source.readAhead = this.aheadBlocks * this.blksize;
    // nothing waits in libuv's queue: every packet handed to send() is in the kernel, so its memory may be reused
    settings.source.sent = () => this.socket.getSendQueueCount() === 0;
  }

  /** When the client last made progress, once it has missed a deadline since (the server may end it for a new request); else undefined. */
  get idleSince(): number | undefined {
    return this.retries > 0 ? this.progressAt : undefined;
  }

  /** Payload bytes the client has acknowledged. */
  get bytesAcknowledged(): number {
    if (this.acked >= this.last) return (this.last - 1) * this.blksize + this.lastLength;
    return this.acked * this.blksize;
  }

  start(): void {
    const { socket, settings } = this;
    socket.on('message', (packet) => this.onPacket(packet));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // a connected UDP socket learns from ICMP that the client's port is gone
      const gone = error.code === 'ECONNREFUSED';
      this.end({ why: gone ? 'the client went away (its port is closed)' : `the socket failed: ${error.message}` });
    });
    socket.bind({ port: 0, address: settings.bindAddress }, () => {
      if (this.ended) return;
      // connected: sends skip the address lookup, and the kernel drops packets from other ports
      socket.connect(settings.client.port, settings.client.address, () => {
        if (this.ended) return;
        this.lastNewsAt = performance.now();
        this.armTimer(retransmitDelay(settings.negotiated.timeoutMs, 0));
        if (this.oackPending) this.sendOack();
        else this.pump();
      });
    });
  }

  /** Stops the transfer; the client gets an ERROR packet saying `tell`. */
  abort(why: string, tell = 'Server shutting down'): void {
    this.end({ why, code: TftpErrorCode.NOT_DEFINED, tell });
  }

  private onPacket(packet: Buffer): void {
    const block = ackBlock(packet);
    if (block !== undefined) return this.onAck(block);
    if (opcodeOf(packet) === Opcode.ERROR) {
      const error = decodeError(packet);
      const declined = error?.code === TftpErrorCode.OPTION_NEGOTIATION;
      this.end({
        why: declined ? `the client declined the options (${error?.message})` : `the client aborted: ${error?.message ?? 'error'}`,
      });
    }
    // anything else on a read transfer's port is ignored
  }

  private onAck(block: number): void {
    if (this.ended) return;
    if (this.oackPending) {
      if (block !== 0) return;
      this.oackPending = false;
      this.progressMade(performance.now());
      return this.pump();
    }
    const delta = (block - this.acked) & 0xffff;
    // delta 0: a duplicate of the last ACK, answered only after a probe, once (no Sorcerer's Apprentice); beyond sent: stale
    if (delta === 0) return this.onRepeatedAck();
    if (this.acked + delta > this.sent) return;
    this.acked += delta;
    this.settings.source.release(this.acked + 1);
    if (this.acked >= this.last) return this.finish();
    const now = performance.now();
    this.progressMade(now);
    if (this.acked > this.aheadBlocks && this.aheadBlocks < this.mostAhead) this.readMoreAhead();
    // an ACK inside the window reports a gap: go back and resend from there (RFC 7440)
    this.next = this.acked + 1;
    if (now - this.lastProgressAt >= this.settings.progressIntervalMs) this.reportProgress(now);
    this.pump();
  }

  /** Noted per ACK as a time only: the timer checks it when it fires, so no timer is touched per block. */
  private progressMade(now: number): void {
    this.retries = 0;
    this.probing = false;
    this.lastNewsAt = now;
    this.progressAt = now;
  }

  /** The client repeats the ACK before our probe: it is there but lost the rest of the window, which goes out again. */
  private onRepeatedAck(): void {
    if (!this.probing) return;
    this.probing = false;
    this.next = this.acked + 1;
    this.pump();
  }

  /** Read-ahead follows what the client has shown it takes: twice what it acknowledged, up to READ_AHEAD_BYTES. */
  private readMoreAhead(): void {
    this.aheadBlocks = Math.min(this.mostAhead, 2 * this.acked);
    this.settings.source.readAhead = this.aheadBlocks * this.blksize;
  }

  private armTimer(delay: number): void {
    this.timer = setTimeout(() => this.onTimer(), delay);
  }

  /** Sends blocks from `next` to the end of the window, waiting for the disk when a block is not read yet. */
  private pump(): void {
    if (this.waiting || this.ended || this.oackPending) return;
    const { source } = this.settings;
    const windowEnd = this.acked + this.windowsize;
    // `last` shrinks from Infinity when the short block is sent, ending the loop there
    while (this.next <= windowEnd && this.next <= this.last) {
      const index = this.next;
      const packet = source.peek(index);
      if (packet === undefined) {
        this.waiting = true;
        source.load(index).then(
          () => {
            this.waiting = false;
            this.pump();
          },
          (error: unknown) =>
            this.end({ why: `reading the file failed: ${(error as Error).message}`, code: TftpErrorCode.NOT_DEFINED, tell: 'Read error' }),
        );
        return;
      }
      if (index <= this.sent) this.retransmissions++;
      this.socket.send(packet);
      if (packet.length - 4 < this.blksize) {
        this.last = index;
        this.lastLength = packet.length - 4;
      }
      if (index > this.sent) this.sent = index;
      this.next = index + 1;
    }
  }

  private sendOack(): void {
    this.socket.send(encodeOack(this.settings.negotiated.reply));
  }

  private onTimer(): void {
    if (this.ended) return;
    const { timeoutMs } = this.settings.negotiated;
    const wait = retransmitDelay(timeoutMs, this.retries);
    const quiet = performance.now() - this.lastNewsAt;
    if (quiet < wait) return this.armTimer(wait - quiet);
    if (++this.retries > this.settings.maxRetries) {
      const why =
        this.sent >= this.last
          ? 'the last block was sent but its ACK never came (the client may well have the whole file)'
          : `the client stopped answering (${this.settings.maxRetries} retransmissions without reply)`;
      return this.end({ why });
    }
    this.lastNewsAt = performance.now();
    this.armTimer(retransmitDelay(timeoutMs, this.retries));
    if (this.oackPending) return this.sendOack();
    this.probe();
  }

  /** Resends the first unacknowledged block alone; a block never sent yet (the disk was slow) goes out as usual. */
  private probe(): void {
    const first = this.acked + 1;
    const packet = first <= this.sent ? this.settings.source.peek(first) : undefined;
    if (packet === undefined) {
      this.next = first;
      return this.pump();
    }
    this.probing = true;
    this.retransmissions++;
    this.socket.send(packet);
    // the rest of the window waits for the client's answer (a new ACK, or its last one again)
    this.next = Math.max(this.next, first + 1);
  }

  private reportProgress(now: number): void {
    this.lastProgressAt = now;
    this.settings.onProgress(this.bytesAcknowledged, now - this.startedAt);
  }

  private finish(): void {
    this.end({ ok: true });
  }

  private end(result: { ok?: boolean; why?: string; code?: number; tell?: string }): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.timer);
    if (result.tell !== undefined && result.code !== undefined) {
      try {
        this.socket.send(encodeError(result.code, result.tell));
      } catch {
        // not connected yet, or closed: nothing to tell
      }
    }
    const outcome: TransferOutcome = {
      ok: result.ok ?? false,
      bytes: this.bytesAcknowledged,
      ms: performance.now() - this.startedAt,
      retransmissions: this.retransmissions,
      ...(result.why !== undefined && { why: result.why }),
      ...(result.code !== undefined && { code: result.code }),
    };
    // close after pending sends are flushed (the error above, the final ACK's reply)
    setImmediate(() => {
      const closed = new Promise<void>((resolve) => this.socket.close(() => resolve()));
      const released = this.settings.source.close().catch(() => {});
      void Promise.all([closed, released]).then(() => this.resolveFinished());
      this.settings.onEnd(outcome);
    });
  }
}
