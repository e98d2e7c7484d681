// The built-in read-only TFTP server (RFC 1350 with 2347/2348/2349/7440 options) that U-Boot boots from, on node:dgram.
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import type {
  TftpActiveTransfer,
  TftpDoneEvent,
  TftpErrorEvent,
  TftpLimitEvent,
  TftpLogEntry,
  TftpPeer,
  TftpProgressEvent,
  TftpRequestEvent,
} from '../../../shared/api/tftp';
import { bindError } from './bind-errors';
import { normaliseName, openConfined, openRegularFile, TftpRefusal } from './files';
import { admit, DEFAULT_LIMITS, LimitNotices, type LimitNotice, type Slot } from './limits';
import { MAX_BLKSIZE, negotiate, type Negotiated } from './options';
import { decodeRequest, encodeError, Opcode, opcodeOf, type PacketError, TftpErrorCode, type TftpRequest } from './packets';
import { printable, printableFields } from './printable';
import { openSource, type SourceOrigin } from './source';
import { Transfer } from './transfer';

export interface TftpServerOptions {
  /** Folder served read-only; requests never leave it. Optional when only `files` are served. */
  root?: string;
  /** Generated files served by name (leading '/' and backslashes normalised); they take precedence over `root`. */
  files?: Map<string, Uint8Array>;
  /**
   * Files on disk served under a chosen name (a profile's Xen, kernel, device tree), streamed like
   * the root's. After `files`, before `root`. Not confined to the root: the caller picked each path.
   */
  diskFiles?: Map<string, string>;
  /**
   * IPv4 address to listen on. Defaults to 127.0.0.1: nothing outside this machine can reach the
   * server unless the caller picks a LAN address (or 0.0.0.0) on purpose.
   */
  address?: string;
  /** UDP port; default 69, the only port U-Boot uses. 0 picks a free port (tests). */
  port?: number;
  /** Retransmissions without progress before a silent client is given up (each wait twice the last); default 5. */
  maxRetries?: number;
  /** Entries kept in `log`; default 500. */
  logLimit?: number;
  /** Retransmission timeout when the client does not negotiate one (RFC 2349 `timeout`); default 1000 ms. */
  timeoutMs?: number;
  /** Largest windowsize offered (RFC 7440 lets the server lower the client's); default 64. */
  maxWindowsize?: number;
  /** Largest blksize offered; default 65464 (the RFC 2348 maximum). */
  maxBlksize?: number;
  /** Transfers running at once; beyond, the longest idle one gives way, or the request gets "server busy"; default 128. */
  maxTransfers?: number;
  /** Transfers running at once from one IPv4 address, with the same give-way rule; default 16. */
  maxTransfersPerClient?: number;
  /** Largest `timeout` option accepted, in seconds; a longer one is declined; default 10. */
  maxTimeoutSeconds?: number;
  /** Payload bytes one transfer may have in flight (windowsize × blksize); default 64 KiB. */
  maxWindowBytes?: number;
  /** Payload bytes in flight across all transfers; default 4 MiB. */
  maxBytesInFlight?: number;
  /** At most one 'limit' event (and log entry) per limit per this interval, the others counted; default 10 s. */
  noticeIntervalMs?: number;
  /** At most one 'progress' event per transfer per this interval; default 250 ms. */
  progressIntervalMs?: number;
}

export interface TftpServerEvents {
  request: [TftpRequestEvent];
  progress: [TftpProgressEvent];
  done: [TftpDoneEvent];
  /** Only emitted when someone listens (an unheard 'error' must not crash the app); always logged. */
  error: [TftpErrorEvent];
  /** A refusal, an idle transfer ended to make room, or an option lowered by a limit; rate-limited, always logged when emitted. */
  limit: [TftpLimitEvent];
}

export interface TftpServer extends EventEmitter<TftpServerEvents> {
  listen(): Promise<{ address: string; port: number }>;
  /** Stops every transfer and closes every socket. */
  close(): Promise<void>;
  /** Replaces the in-memory files (and the named disk files when given); running transfers keep what they started with. */
  setFiles(files: Map<string, Uint8Array>, diskFiles?: Map<string, string>): void;
  /** The most recent events, oldest first, at most `logLimit`. */
  readonly log: readonly TftpLogEntry[];
  readonly active: TftpActiveTransfer[];
  readonly listening: { address: string; port: number } | undefined;
}

export function createTftpServer(options: TftpServerOptions = {}): TftpServer {
  return new Server(options);
}

/** A claimed slot: from the RRQ (while the file opens) until the transfer ends. */
class Running implements Slot {
  transfer: Transfer | undefined;
  /** Payload bytes of its window, counted in the server's bytes in flight until it ends. */
  windowBytes = 0;
  constructor(
    /** The name exactly as requested (facts.file is its printable form). */
    readonly requested: string,
    public facts: TftpActiveTransfer,
  ) {}
  get client(): TftpPeer {
    return this.facts.client;
  }
  get idleSince(): number | undefined {
    return this.transfer?.idleSince;
  }
}

type Facts = { id: number; file: string; client: TftpPeer };

class Server extends EventEmitter<TftpServerEvents> implements TftpServer {
  private socket: dgram.Socket | undefined;
  private bound: { address: string; port: number } | undefined;
  private files = new Map<string, Uint8Array>();
  private diskFiles = new Map<string, string>();
  private readonly transfers = new Map<string, Running>();
  private readonly entries: TftpLogEntry[] = [];
  /** Requests between their RRQ and their transfer's start (opening the file). */
  private readonly opening = new Set<Promise<void>>();
  private nextId = 1;
  /** Payload bytes in the windows of running transfers. */
  private bytesInFlight = 0;
  private readonly notices: LimitNotices;
  private readonly settings: Required<Omit<TftpServerOptions, 'root' | 'files' | 'diskFiles'>> & { root: string | undefined };

  constructor(options: TftpServerOptions) {
    super();
    this.settings = {
      root: options.root,
      address: options.address ?? '127.0.0.1',
      port: options.port ?? 69,
      maxRetries: options.maxRetries ?? 5,
      logLimit: options.logLimit ?? 500,
      timeoutMs: options.timeoutMs ?? 1000,
      maxWindowsize: options.maxWindowsize ?? 64,
      maxBlksize: options.maxBlksize ?? MAX_BLKSIZE,
      maxTransfers: options.maxTransfers ?? DEFAULT_LIMITS.maxTransfers,
      maxTransfersPerClient: options.maxTransfersPerClient ?? DEFAULT_LIMITS.maxTransfersPerClient,
      maxTimeoutSeconds: options.maxTimeoutSeconds ?? DEFAULT_LIMITS.maxTimeoutSeconds,
      maxWindowBytes: options.maxWindowBytes ?? DEFAULT_LIMITS.maxWindowBytes,
      maxBytesInFlight: options.maxBytesInFlight ?? DEFAULT_LIMITS.maxBytesInFlight,
      noticeIntervalMs: options.noticeIntervalMs ?? DEFAULT_LIMITS.noticeIntervalMs,
      progressIntervalMs: options.progressIntervalMs ?? 250,
    };
    this.notices = new LimitNotices(this.settings.noticeIntervalMs, (notice, suppressed) => this.tellLimit(notice, suppressed));
    this.setFiles(options.files ?? new Map(), options.diskFiles);
  }

  get log(): readonly TftpLogEntry[] {
    return this.entries;
  }

  get active(): TftpActiveTransfer[] {
    const running = [...this.transfers.values()].filter((entry) => entry.transfer !== undefined);
    return running.map(({ transfer, facts }) => ({ ...facts, bytes: transfer!.bytesAcknowledged }));
  }

  get listening() {
    return this.bound;
  }

  setFiles(files: Map<string, Uint8Array>, diskFiles?: Map<string, string>): void {
    const normalised = new Map<string, Uint8Array>();
    for (const [name, bytes] of files) normalised.set(normaliseName(name), bytes);
    this.files = normalised;
    if (!diskFiles) return;
    this.diskFiles = new Map([...diskFiles].map(([name, file]) => [normaliseName(name), file]));
  }

  async listen(): Promise<{ address: string; port: number }> {
    if (this.bound) return this.bound;
    const { address, port } = this.settings;
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address, port, exclusive: true }, () => {
        socket.off('error', reject);
        resolve();
      });
    }).catch((error: unknown) => {
      socket.close();
      throw bindError(error, address, port);
    });
    socket.on('message', (packet, rinfo) => this.onRequestPacket(packet, { address: rinfo.address, port: rinfo.port }));
    socket.on('error', (error) => this.record('error', `listening socket: ${error.message}`));
    this.socket = socket;
    this.bound = { address: socket.address().address, port: socket.address().port };
    this.record(
      'info',
      `listening on ${this.bound.address}:${this.bound.port}${this.settings.root ? ` serving ${this.settings.root}` : ''}`,
    );
    return this.bound;
  }

  async close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined; // requests still opening their file see this and give up
    this.notices.close(); // what was held back is told now
    const running = [...this.transfers.values()].flatMap((entry) => (entry.transfer ? [entry.transfer] : []));
    for (const transfer of running) transfer.abort('the server stopped');
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
    await Promise.all([...running.map((transfer) => transfer.finished), ...this.opening]);
    if (this.bound) this.record('info', 'stopped');
    this.bound = undefined;
  }

  private onRequestPacket(packet: Buffer, client: TftpPeer): void {
    const opcode = opcodeOf(packet);
    if (opcode === Opcode.RRQ) {
      const handling = this.onReadRequest(packet, client);
      this.opening.add(handling);
      return void handling.finally(() => this.opening.delete(handling));
    }
    if (opcode === Opcode.WRQ) {
      const name = safeName(packet);
      this.reply(client, TftpErrorCode.ACCESS_VIOLATION, 'Write requests are refused: this server is read-only');
      return this.fail(
        { id: this.nextId++, file: name, client },
        'write requests are refused: the server is read-only',
        TftpErrorCode.ACCESS_VIOLATION,
      );
    }
    // stray DATA/ACK/OACK/ERROR packets and runts are ignored: answering an ERROR could start a loop
    if (opcode === -1 || (opcode >= Opcode.DATA && opcode <= Opcode.OACK)) return;
    this.reply(client, TftpErrorCode.ILLEGAL_OPERATION, `Illegal operation (opcode ${opcode})`);
    this.record('warn', `ignored a packet with unknown opcode ${opcode}`, { client });
  }

  private async onReadRequest(packet: Buffer, client: TftpPeer): Promise<void> {
    let request: TftpRequest;
    try {
      request = decodeRequest(packet);
    } catch (error) {
      const { code, message } = error as PacketError;
      this.reply(client, code, `Malformed request: ${message}`);
      return this.record('warn', `malformed request: ${message}`, { client });
    }
    const key = `${client.address}:${client.port}`;
    const existing = this.transfers.get(key);
    // the same file again from the same port is the client repeating its RRQ (U-Boot and others pick a
    // new port per transfer): the running transfer answers it; a different file means the client moved on
    // (while a file is still opening, ignore even another name: the client repeats it soon enough)
    if (existing && (!existing.transfer || existing.requested === request.file)) return;
    if (existing) {
      this.transfers.delete(key);
      existing.transfer!.abort('the client asked for another file', 'Transfer cancelled');
    }
    // the name as the client sent it goes to the file lookup; everything shown gets it escaped
    const file = printable(request.file);
    const who = `${client.address}:${client.port}`;
    const admission = admit([...this.transfers.values()], client, this.settings);
    if (!admission.admit) {
      this.reply(client, TftpErrorCode.NOT_DEFINED, 'Server busy, try again');
      const message =
        admission.limit === 'transfers'
          ? `refused ${file}: ${admission.running} transfers already running, none of them idle (at most ${this.settings.maxTransfers}); told ${who} the server is busy`
          : `refused ${file}: ${client.address} already has ${admission.running} transfers running, none of them idle (at most ${this.settings.maxTransfersPerClient} per client); told ${who} the server is busy`;
      return this.notices.report({ limit: admission.limit, message, client, file });
    }
    if (admission.shed) this.shed(admission.shed, `${file} from ${who}`);
    const facts = { id: this.nextId++, file, client };
    this.notify('request', {
      kind: 'request',
      ...facts,
      time: Date.now(),
      mode: request.mode,
      options: Object.fromEntries(request.options),
    });
    this.record('info', `${who} asks for ${file}`, facts);
    const running = new Running(request.file, { ...facts, bytes: 0, startedAt: Date.now() });
    this.transfers.set(key, running); // claims the client's port while the file opens
    try {
      await this.startTransfer(request, facts, key, running);
      if (!running.transfer && this.transfers.get(key) === running) this.transfers.delete(key);
    } catch (error) {
      if (this.transfers.get(key) === running) this.transfers.delete(key);
      const refusal = error instanceof TftpRefusal ? error : new TftpRefusal(TftpErrorCode.NOT_DEFINED, 'Server error', String(error));
      this.reply(client, refusal.code, refusal.message);
      this.fail(facts, refusal.why, refusal.code);
    }
  }

  /** Ends an idle transfer so `newcomer` can have its slot. */
  private shed(victim: Running, newcomer: string): void {
    const key = `${victim.client.address}:${victim.client.port}`;
    if (this.transfers.get(key) === victim) this.transfers.delete(key); // its slot is free now, not when its socket closes
    const silent = ((performance.now() - victim.idleSince!) / 1000).toFixed(1);
    const victimWho = `${victim.client.address}:${victim.client.port}`;
    victim.transfer!.abort(
      `ended to make room for another request: its client had made no progress for ${silent} s`,
      'Transfer cancelled: the server needed its slot',
    );
    this.notices.report({
      limit: 'shed',
      message: `ended ${victim.facts.file} for ${victimWho} (no progress for ${silent} s) to make room for ${newcomer}`,
      client: victim.client,
      file: victim.facts.file,
    });
  }

  private async startTransfer(request: TftpRequest, facts: Facts, key: string, running: Running): Promise<void> {
    if (request.opcode !== Opcode.RRQ) throw new TftpRefusal(TftpErrorCode.ACCESS_VIOLATION, 'Access violation');
    if (request.mode !== 'octet' && request.mode !== 'netascii') {
      throw new TftpRefusal(
        TftpErrorCode.ILLEGAL_OPERATION,
        'Unsupported transfer mode',
        `transfer mode "${request.mode}" is not supported (octet or netascii)`,
      );
    }
    const { origin, size } = await this.find(request.file);
    if (!this.socket) {
      if ('handle' in origin) await origin.handle.close();
      return;
    }
    const negotiated = negotiate(request.options, request.mode === 'octet' ? size : undefined, {
      maxBlksize: this.settings.maxBlksize,
      maxWindowsize: this.settings.maxWindowsize,
      defaultTimeoutMs: this.settings.timeoutMs,
      maxTimeoutSeconds: this.settings.maxTimeoutSeconds,
      // its share of what is left in flight; a window of one block is always granted
      maxWindowBytes: Math.min(this.settings.maxWindowBytes, Math.max(0, this.settings.maxBytesInFlight - this.bytesInFlight)),
    });
    this.reportLowered(negotiated, facts);
    running.windowBytes = negotiated.windowsize * negotiated.blksize;
    this.bytesInFlight += running.windowBytes;
    const source = openSource(origin, negotiated.blksize, request.mode);
    const startedAt = Date.now();
    const transfer = new Transfer({
      client: facts.client,
      bindAddress: this.settings.address,
      source,
      negotiated,
      maxRetries: this.settings.maxRetries,
      progressIntervalMs: this.settings.progressIntervalMs,
      onProgress: (bytes, ms) =>
        this.notify('progress', {
          kind: 'progress',
          ...facts,
          time: Date.now(),
          bytes,
          ms,
          ...(request.mode === 'octet' && { total: size }),
        }),
      onEnd: (outcome) => {
        if (this.transfers.get(key) === running) this.transfers.delete(key);
        this.bytesInFlight -= running.windowBytes;
        if (!outcome.ok) return this.fail(facts, outcome.why ?? 'the transfer failed', outcome.code);
        const rate = outcome.ms > 0 ? (outcome.bytes * 1000) / outcome.ms : 0;
        const done: TftpDoneEvent = {
          kind: 'done',
          ...facts,
          time: Date.now(),
          bytes: outcome.bytes,
          ms: outcome.ms,
          rate,
          blksize: negotiated.blksize,
          windowsize: negotiated.windowsize,
          retransmissions: outcome.retransmissions,
        };
        this.record('info', `sent ${facts.file}: ${outcome.bytes} bytes in ${outcome.ms.toFixed(0)} ms (${formatRate(rate)})`, facts);
        this.notify('done', done);
      },
    });
    running.transfer = transfer;
    running.facts = { ...facts, bytes: 0, startedAt, ...(request.mode === 'octet' && { total: size }) };
    transfer.start();
  }

  /** In-memory files first (generated boot files win), then named disk files, then the root folder. */
  private async find(requested: string): Promise<{ origin: SourceOrigin; size: number }> {
    const name = normaliseName(requested);
    const bytes = this.files.get(name);
    if (bytes) return { origin: { bytes }, size: bytes.byteLength };
    const diskFile = this.diskFiles.get(name);
    if (diskFile !== undefined) {
      const { handle, size } = await openRegularFile(diskFile);
      return { origin: { handle, size }, size };
    }
    if (this.settings.root === undefined)
      throw new TftpRefusal(TftpErrorCode.FILE_NOT_FOUND, 'File not found', 'not served (no such generated file, and no root folder)');
    const { handle, size } = await openConfined(this.settings.root, name);
    return { origin: { handle, size }, size };
  }

  private reply(client: TftpPeer, code: number, message: string): void {
    this.socket?.send(encodeError(code, message), client.port, client.address);
  }

  /** Says when a limit changed what the client asked for (rate-limited like every limit). */
  private reportLowered(negotiated: Negotiated, facts: Facts): void {
    const who = `${facts.client.address}:${facts.client.port}`;
    const { timeoutDeclined, windowAsked, windowsize, blksize } = negotiated;
    if (timeoutDeclined !== undefined) {
      const message = `${who} asked timeout ${timeoutDeclined} s for ${facts.file}: declined (at most ${this.settings.maxTimeoutSeconds} s), retransmitting after ${this.settings.timeoutMs / 1000} s`;
      this.notices.report({ limit: 'timeout', message, client: facts.client, file: facts.file });
    }
    if (windowAsked !== undefined) {
      const perTransfer = `${this.settings.maxWindowBytes / 1024} KiB in flight per transfer, ${(this.settings.maxBytesInFlight / (1 << 20)).toFixed(1)} MiB in all, windowsize ${this.settings.maxWindowsize} at most`;
      const message = `${who} asked windowsize ${windowAsked} at blksize ${blksize} for ${facts.file}: answered ${windowsize} (${perTransfer})`;
      this.notices.report({ limit: 'window', message, client: facts.client, file: facts.file });
    }
  }

  private tellLimit(notice: LimitNotice, suppressed: number): void {
    const quiet = notice.limit === 'timeout' || notice.limit === 'window';
    const more = suppressed > 0 ? ` (and ${suppressed} more like it since the last notice)` : '';
    this.record(quiet ? 'info' : 'warn', `${notice.message}${more}`, {
      ...(notice.client && { client: notice.client }),
      ...(notice.file !== undefined && { file: notice.file }),
    });
    this.notify('limit', { kind: 'limit', ...notice, time: Date.now(), suppressed });
  }

  private fail(facts: Facts, why: string, code?: number): void {
    this.record('error', `${facts.file}: ${why}`, facts);
    if (this.listenerCount('error') === 0) return;
    this.notify('error', { kind: 'error', ...facts, time: Date.now(), why, ...(code !== undefined && { code }) });
  }

  /** Emits without letting a listener's exception break a transfer (it is logged instead). */
  private notify<K extends keyof TftpServerEvents>(name: K, ...payload: TftpServerEvents[K]): void {
    try {
      // every string a client could have sent (names, modes, options, its error messages) is escaped here, once for all events
      // (TypeScript cannot relate a generic key to its tuple here; the signature above is the check)
      this.emit(name as keyof TftpServerEvents, ...(payload.map(printableFields) as [never]));
    } catch (error) {
      this.record('error', `a "${name}" listener failed: ${(error as Error)?.message ?? String(error)}`);
    }
  }

  private record(level: TftpLogEntry['level'], message: string, facts: { id?: number; file?: string; client?: TftpPeer } = {}): void {
    this.entries.push({
      time: Date.now(),
      level,
      message: printable(message),
      ...facts,
      ...(facts.file !== undefined && { file: printable(facts.file) }),
    });
    if (this.entries.length > this.settings.logLimit) this.entries.splice(0, this.entries.length - this.settings.logLimit);
  }
}

/** The file name of a request for the log, even when the rest of the packet is malformed. */
function safeName(packet: Buffer): string {
  const end = packet.indexOf(0, 2);
  return packet.toString('latin1', 2, end < 0 ? Math.min(packet.length, 258) : end);
}

export function formatRate(bytesPerSecond: number): string {
  if (bytesPerSecond >= 1 << 20) return `${(bytesPerSecond / (1 << 20)).toFixed(1)} MiB/s`;
  if (bytesPerSecond >= 1 << 10) return `${(bytesPerSecond / (1 << 10)).toFixed(1)} KiB/s`;
  return `${bytesPerSecond.toFixed(0)} B/s`;
}
