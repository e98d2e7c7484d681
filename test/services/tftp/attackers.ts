// Hostile TFTP clients for tests and the benchmark: slot holders that ask and fall silent, amplifiers that ask for huge windows and ACK once; they count what they get.
import dgram from 'node:dgram';
import fs from 'node:fs';
import { encodeRequest } from './helpers';

export interface AttackerTally {
  /** Bytes of every packet the server sent this attacker. */
  bytes: number;
  packets: number;
  /** ERROR packets (busy, shed, given up). */
  errors: number;
  /** Packets that repeat one already received (a retransmission). */
  repeats: number;
}

export interface Attack {
  readonly attackers: readonly AttackerTally[];
  /** Sum over every attacker. */
  total(): AttackerTally;
  /** Datagrams the kernel dropped because an attacker's socket was full (they were sent but not counted). */
  drops(): number;
  close(): Promise<void>;
}

export interface AttackOptions {
  port: number;
  file: string;
  /** One socket per entry, bound to that source address: the same address again is the same host on another port. */
  sources: readonly string[];
  /** Options of the read request. */
  options: Array<[string, string | number]>;
  /** Acknowledge the OACK (block 0) once, then fall silent; otherwise never answer. */
  ackOack: boolean;
}

/** Sends one read request from each source, then behaves as `options` says until closed. */
export async function launchAttack({ port, file, sources, options, ackOack }: AttackOptions): Promise<Attack> {
  const request = encodeRequest(1, file, 'octet', options);
  const sockets: dgram.Socket[] = [];
  const attackers: AttackerTally[] = [];
  for (const source of sources) {
    const socket = dgram.createSocket('udp4');
    const tally: AttackerTally = { bytes: 0, packets: 0, errors: 0, repeats: 0 };
    const seen = new Set<string>();
    let acked = false;
    socket.on('message', (packet, rinfo) => {
      tally.bytes += packet.length;
      tally.packets++;
      const opcode = packet.length >= 2 ? packet.readUInt16BE(0) : -1;
      if (opcode === 5) tally.errors++;
      // a DATA block or an OACK seen before is a retransmission
      const id = opcode === 3 ? `data ${packet.readUInt16BE(2)}` : opcode === 6 ? 'oack' : `other ${tally.packets}`;
      if (seen.has(id)) tally.repeats++;
      seen.add(id);
      if (opcode === 6 && ackOack && !acked) {
        acked = true;
        socket.send(Buffer.from([0, 4, 0, 0]), rinfo.port, rinfo.address);
      }
    });
    await new Promise<void>((resolve) => socket.bind(0, source, () => resolve()));
    sockets.push(socket);
    attackers.push(tally);
  }
  for (const socket of sockets) socket.send(request, port, '127.0.0.1');
  const locals = new Set(sockets.map((socket) => localKey(socket.address().address, socket.address().port)));
  return {
    attackers,
    total: () =>
      attackers.reduce(
        (sum, one) => ({
          bytes: sum.bytes + one.bytes,
          packets: sum.packets + one.packets,
          errors: sum.errors + one.errors,
          repeats: sum.repeats + one.repeats,
        }),
        {
          bytes: 0,
          packets: 0,
          errors: 0,
          repeats: 0,
        },
      ),
    drops: () => udpDrops(locals),
    close: async () => {
      await Promise.all(sockets.map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
    },
  };
}

/** `count` loopback addresses 127.<net>.<i>.<j>: as many hosts (Linux answers the whole 127/8 on lo). */
export function loopbackHosts(net: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `127.${net}.${Math.floor(i / 250)}.${(i % 250) + 1}`);
}

/** How /proc/net/udp writes a local IPv4 address and port: little-endian hex address, big-endian hex port. */
function localKey(address: string, port: number): string {
  const hex = address
    .split('.')
    .reverse()
    .map((part) => Number(part).toString(16).padStart(2, '0'))
    .join('');
  return `${hex}:${port.toString(16).padStart(4, '0')}`.toUpperCase();
}

/** Datagrams dropped on these sockets (the last column of /proc/net/udp). */
function udpDrops(locals: ReadonlySet<string>): number {
  let drops = 0;
  for (const line of fs.readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length > 12 && locals.has(fields[1]!.toUpperCase())) drops += Number(fields.at(-1));
  }
  return drops;
}
