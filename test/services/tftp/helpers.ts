// TFTP test kit: a temp root, a server on a free loopback port, a Node client that speaks like U-Boot, a lossy relay, real clients.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTftpServer, type TftpServer, type TftpServerOptions } from '../../../electron/services/tftp/server';

export const isRoot = process.getuid?.() === 0;

export function tempRoot(prefix = 'xpi-tftp-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Writes `size` random bytes to root/name and returns them. */
export function randomFile(root: string, name: string, size: number): Buffer {
  const bytes = randomBytes(size);
  fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
  fs.writeFileSync(path.join(root, name), bytes);
  return bytes;
}

export interface RunningServer {
  server: TftpServer;
  port: number;
}

/** A server on 127.0.0.1 and a port the system picks, with short timeouts so loss recovers quickly. */
export async function startServer(options: TftpServerOptions = {}): Promise<RunningServer> {
  const server = createTftpServer({ address: '127.0.0.1', port: 0, ...options });
  const { port } = await server.listen();
  return { server, port };
}

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a real client (curl, tftp, atftp) with a hard time limit; never rejects. */
export function runTool(command: string, args: string[], timeoutMs = 20_000): Promise<ToolResult> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export interface ClientOptions {
  port: number;
  address?: string;
  file: string;
  mode?: string;
  /** Options in the order they are sent. */
  options?: Array<[string, string | number]>;
  /** Resend the last ACK (or the RRQ) after this long without news. */
  timeoutMs?: number;
  retries?: number;
  /** Raw RRQ bytes instead of building one (malformed requests). */
  rawRequest?: Buffer;
}

export interface ClientResult {
  data: Buffer;
  oack?: Record<string, string>;
  /** DATA packets received, duplicates included. */
  dataPackets: number;
  duplicates: number;
  serverPort: number;
}

export class TftpClientError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export function encodeRequest(opcode: number, file: string, mode: string, options: Array<[string, string | number]> = []): Buffer {
  const text = [file, mode, ...options.flatMap(([name, value]) => [name, String(value)])].map((field) => `${field}\0`).join('');
  return Buffer.concat([Buffer.from([0, opcode]), Buffer.from(text, 'latin1')]);
}

/** U-Boot's read request: timeout 5, tsize 0, blksize 1468, and windowsize only when above 1 (net/tftp.c). */
export function ubootOptions(windowsize = 1): Array<[string, number]> {
  const options: Array<[string, number]> = [
    ['timeout', 5],
    ['tsize', 0],
    ['blksize', 1468],
  ];
  if (windowsize > 1) options.push(['windowsize', windowsize]);
  return options;
}

/**
 * A read-only TFTP client as RFC 1350/2347/7440 describe it: pins the server's TID from the first
 * reply, acknowledges each window (or each block), re-acknowledges the last good block on a gap or a
 * duplicate, and resends its last packet when nothing comes.
 */
export function fetchFile(options: ClientOptions): Promise<ClientResult> {
  const { port, address = '127.0.0.1', file, mode = 'octet', timeoutMs = 300, retries = 20 } = options;
  const socket = dgram.createSocket('udp4');
  const request = options.rawRequest ?? encodeRequest(1, file, mode, options.options);
  return new Promise<ClientResult>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let server: { address: string; port: number } | undefined;
    let blksize = 512;
    let windowsize = 1;
    let expected = 1; // next block index (not wrapped)
    let sinceAck = 0;
    let lastSent = request;
    let oack: Record<string, string> | undefined;
    let dataPackets = 0;
    let duplicates = 0;
    let misses = 0;
    let pendingSends = 0;
    let closing = false;
    const finish = (error?: Error) => {
      clearInterval(timer);
      closing = true;
      // the last ACK must leave before the socket closes (send looks the address up asynchronously)
      if (pendingSends === 0) socket.close();
      if (error) reject(error);
      else resolve({ data: Buffer.concat(chunks), ...(oack && { oack }), dataPackets, duplicates, serverPort: server?.port ?? 0 });
    };
    const send = (packet: Buffer) => {
      lastSent = packet;
      misses = 0;
      pendingSends++;
      socket.send(packet, server?.port ?? port, server?.address ?? address, () => {
        if (--pendingSends === 0 && closing) socket.close();
      });
    };
    const ack = (index: number) => {
      sinceAck = 0;
      send(Buffer.from([0, 4, (index >> 8) & 0xff, index & 0xff]));
    };
    const timer = setInterval(() => {
      if (++misses > retries) return finish(new Error(`timed out waiting for block ${expected}`));
      socket.send(lastSent, server?.port ?? port, server?.address ?? address);
    }, timeoutMs);
    socket.on('message', (packet, rinfo) => {
      if (closing) return;
      if (!server) server = { address: rinfo.address, port: rinfo.port };
      else if (rinfo.port !== server.port || rinfo.address !== server.address) {
        socket.send(Buffer.from([0, 5, 0, 5, ...Buffer.from('Unknown transfer ID'), 0]), rinfo.port, rinfo.address);
        return;
      }
      const opcode = packet.readUInt16BE(0);
      if (opcode === 5) return finish(new TftpClientError(packet.readUInt16BE(2), packet.toString('latin1', 4, packet.length - 1)));
      if (opcode === 6) {
        if (expected !== 1 || oack) return ack(0); // a retransmitted OACK
        oack = parseOptions(packet.subarray(2));
        blksize = Number(oack.blksize ?? 512);
        windowsize = Number(oack.windowsize ?? 1);
        return ack(0);
      }
      if (opcode !== 3) return;
      dataPackets++;
      const block = packet.readUInt16BE(2);
      if (block !== (expected & 0xffff)) {
        duplicates++;
        return ack((expected - 1) & 0xffff); // gap or duplicate: say where we are
      }
      const payload = packet.subarray(4);
      chunks.push(Buffer.from(payload));
      misses = 0;
      expected++;
      if (payload.length < blksize) {
        ack((expected - 1) & 0xffff);
        return finish();
      }
      if (++sinceAck >= windowsize) ack((expected - 1) & 0xffff);
    });
    socket.bind(0, '127.0.0.1', () => send(request));
  });
}

function parseOptions(bytes: Buffer): Record<string, string> {
  const fields = bytes.toString('latin1').split('\0');
  const options: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) options[fields[i]!.toLowerCase()] = fields[i + 1]!;
  return options;
}

/** Sends one raw packet to the server and returns the first reply (or undefined after `waitMs`). */
export function exchange(port: number, packet: Buffer, waitMs = 500): Promise<Buffer | undefined> {
  const socket = dgram.createSocket('udp4');
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.close();
      resolve(undefined);
    }, waitMs);
    socket.on('message', (reply) => {
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    });
    socket.bind(0, '127.0.0.1', () => socket.send(packet, port, '127.0.0.1'));
  });
}

export function errorOf(packet: Buffer | undefined): { code: number; message: string } | undefined {
  if (!packet || packet.readUInt16BE(0) !== 5) return undefined;
  return { code: packet.readUInt16BE(2), message: packet.toString('latin1', 4, packet.length - 1) };
}

export interface RelayOptions {
  /** Probability of dropping a packet, each direction. */
  drop: number;
  /** Probability of delivering a packet twice. */
  duplicate: number;
  seed?: number;
}

export interface Relay {
  port: number;
  /** DATA packets the server sent through the relay (before loss and duplication). */
  serverData: number;
  dropped: number;
  duplicated: number;
  close(): Promise<void>;
}

/**
 * A UDP relay between one client and the server that loses and duplicates packets (seeded, so a
 * failure reproduces). The client talks to `port` only; the relay follows the server's transfer port.
 */
export async function lossyRelay(serverPort: number, options: RelayOptions): Promise<Relay> {
  let state = options.seed ?? 12345;
  const random = () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
  const front = dgram.createSocket('udp4');
  const back = dgram.createSocket('udp4');
  let client: { address: string; port: number } | undefined;
  let upstreamPort = serverPort;
  const relay: Relay = {
    port: 0,
    serverData: 0,
    dropped: 0,
    duplicated: 0,
    close: async () => {
      await Promise.all([new Promise<void>((r) => front.close(() => r())), new Promise<void>((r) => back.close(() => r()))]);
    },
  };
  const forward = (socket: dgram.Socket, packet: Buffer, port: number, address: string, lossy: boolean) => {
    if (lossy && random() < options.drop) {
      relay.dropped++;
      return;
    }
    socket.send(packet, port, address);
    if (lossy && random() < options.duplicate) {
      relay.duplicated++;
      socket.send(packet, port, address);
    }
  };
  front.on('message', (packet, rinfo) => {
    client = { address: rinfo.address, port: rinfo.port };
    forward(back, packet, upstreamPort, '127.0.0.1', true);
  });
  back.on('message', (packet, rinfo) => {
    upstreamPort = rinfo.port;
    if (packet.readUInt16BE(0) === 3) relay.serverData++;
    if (client) forward(front, packet, client.port, client.address, true);
  });
  await Promise.all([
    new Promise<void>((r) => front.bind(0, '127.0.0.1', () => r())),
    new Promise<void>((r) => back.bind(0, '127.0.0.1', () => r())),
  ]);
  relay.port = front.address().port;
  return relay;
}

export interface StrictFetchOptions {
  port: number;
  file: string;
  /** The bytes the file must have: every DATA packet is checked against them. */
  expected: Buffer;
  options?: Array<[string, string | number]>;
  /** Blocks whose first arrival is ignored (no ACK), so the server has to send them again; 0 is the OACK. */
  ignoreFirst?: ReadonlySet<number>;
  /** Send the RRQ this many times in a row from the same port, as a client that retransmits it does. */
  requests?: number;
  /** Resend the last packet after this long without news. */
  timeoutMs?: number;
  /** Runs when the OACK arrives, before it is acknowledged (to change the file under the server). */
  onOack?: () => void;
}

export interface StrictFetchResult {
  /** Everything wrong with what the server sent: wrong lengths, wrong bytes, a second server port, a wrong tsize. */
  violations: string[];
  /** Blocks received in order (the whole file once the promise resolves). */
  blocks: number;
  dataPackets: number;
  serverPorts: number;
}

/**
 * A lock-step or windowed client that checks every packet the server sends, not just the file it
 * ends up with: each DATA packet (retransmissions and duplicates included) must be a 4-byte header
 * with the right block number followed by exactly the bytes of that block — so a stale byte, a
 * doubled header or a packet 4 bytes too long is caught even when a later packet would hide it.
 */
export function strictFetch(options: StrictFetchOptions): Promise<StrictFetchResult> {
  const { port, file, expected, timeoutMs = 200 } = options;
  const socket = dgram.createSocket('udp4');
  const request = encodeRequest(1, file, 'octet', options.options);
  const violations: string[] = [];
  const ports = new Set<number>();
  const seen = new Set<number>();
  let blksize = 512;
  let windowsize = 1;
  let received = 0; // highest block index received in order (not wrapped)
  let sinceAck = 0;
  let dataPackets = 0;
  let lastSent = request;
  let server: number | undefined;
  return new Promise<StrictFetchResult>((resolve, reject) => {
    const lastIndex = () => Math.floor(expected.length / blksize) + 1;
    const send = (packet: Buffer) => {
      lastSent = packet;
      socket.send(packet, server ?? port, '127.0.0.1');
    };
    const ack = (index: number) => {
      sinceAck = 0;
      send(Buffer.from([0, 4, (index >> 8) & 0xff, index & 0xff]));
    };
    let misses = 0;
    const timer = setInterval(() => {
      if (++misses > 40) return finish(new Error(`${file}: timed out after block ${received}`));
      socket.send(lastSent, server ?? port, '127.0.0.1');
    }, timeoutMs);
    let finished = false;
    const finish = (error?: Error) => {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      // let the final ACK leave before closing
      setTimeout(() => socket.close(), 20);
      if (error) reject(error);
      else resolve({ violations, blocks: received, dataPackets, serverPorts: ports.size });
    };
    /** Checks one DATA packet against the block it claims to be; returns its index, or undefined if it fits no block. */
    const check = (packet: Buffer): number | undefined => {
      const wire = packet.readUInt16BE(2);
      // the one index at or below received + windowsize with these low 16 bits
      const index = received + windowsize - ((received + windowsize - wire) & 0xffff);
      if (index < 1 || index > lastIndex()) {
        violations.push(`${file}: block ${wire} is outside the file (${lastIndex()} blocks of ${blksize})`);
        return undefined;
      }
      const from = (index - 1) * blksize;
      const want = expected.subarray(from, Math.min(from + blksize, expected.length));
      if (packet.length !== 4 + want.length) violations.push(`${file}: block ${index} is ${packet.length} bytes, not 4 + ${want.length}`);
      else if (!packet.subarray(4).equals(want)) violations.push(`${file}: block ${index} carries other bytes than the file's`);
      return index;
    };
    socket.on('message', (packet, rinfo) => {
      if (finished) return;
      ports.add(rinfo.port);
      if (server === undefined) server = rinfo.port;
      else if (rinfo.port !== server) return void violations.push(`${file}: a second transfer answered from port ${rinfo.port}`);
      misses = 0;
      const opcode = packet.length >= 2 ? packet.readUInt16BE(0) : -1;
      if (opcode === 5) return finish(new TftpClientError(packet.readUInt16BE(2), packet.toString('latin1', 4, packet.length - 1)));
      if (opcode === 6) {
        const oack = parseOptions(packet.subarray(2));
        if (oack.tsize !== undefined && Number(oack.tsize) !== expected.length)
          violations.push(`${file}: tsize ${oack.tsize}, the file has ${expected.length} bytes`);
        blksize = Number(oack.blksize ?? 512);
        windowsize = Number(oack.windowsize ?? 1);
        if (options.ignoreFirst?.has(0) && !seen.has(0)) return void seen.add(0); // a lost OACK
        if (received === 0) options.onOack?.();
        return ack(0);
      }
      if (opcode !== 3 || packet.length < 4)
        return void violations.push(`${file}: a packet with opcode ${opcode} and ${packet.length} bytes`);
      dataPackets++;
      const index = check(packet);
      if (index === undefined) return;
      if (index !== received + 1) return index <= received ? undefined : ack(received & 0xffff); // a duplicate, or a gap
      if (options.ignoreFirst?.has(index) && !seen.has(index)) {
        seen.add(index); // as if it was lost: the server must send the same bytes again
        return;
      }
      received = index;
      if (index === lastIndex()) {
        ack(index & 0xffff);
        return finish();
      }
      if (++sinceAck >= windowsize) ack(index & 0xffff);
    });
    socket.bind(0, '127.0.0.1', () => {
      for (let i = 0; i < (options.requests ?? 1); i++) send(request);
    });
  });
}

/** A UDP port on 127.0.0.1 that was free a moment ago (for APIs that take 1–65535, not 0). */
export async function freePort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}
