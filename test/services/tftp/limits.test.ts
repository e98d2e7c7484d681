// What one client may cost the server: options within limits, retransmission that backs off, shares of the slots, idle transfers giving way, every limit told (rate-limited).
import dgram from 'node:dgram';
import fs from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TftpErrorEvent, TftpLimitEvent } from '../../../shared/api/tftp';
import {
  encodeRequest,
  errorOf,
  exchange,
  fetchFile,
  randomFile,
  startServer,
  tempRoot,
  ubootOptions,
  type RunningServer,
} from './helpers';

let root: string;
let payload: Buffer;

beforeAll(() => {
  root = tempRoot();
  payload = randomFile(root, 'kernel.img', 300_001);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(
  options: Parameters<typeof startServer>[0] = {},
): Promise<RunningServer & { limits: TftpLimitEvent[]; errors: TftpErrorEvent[] }> {
  const running = await startServer({ root, ...options });
  const limits: TftpLimitEvent[] = [];
  const errors: TftpErrorEvent[] = [];
  running.server.on('limit', (event) => limits.push(event));
  running.server.on('error', (event) => errors.push(event));
  cleanups.push(() => running.server.close());
  return { ...running, limits, errors };
}

interface Silent {
  socket: dgram.Socket;
  /** Every packet the server sent, in order. */
  packets: Buffer[];
  /** Block numbers of the DATA packets received, in order. */
  blocks: () => number[];
  /** The server's transfer port, once it answered. */
  serverPort: () => number | undefined;
}

interface SilentOptions {
  address?: string;
  ackOack?: boolean;
  /** Called on each packet as it arrives, with everything received so far and a way to answer. */
  onPacket?: (packets: Buffer[], answer: (packet: Buffer) => void) => void;
}

/** Asks for `file` from `address`, acknowledges the OACK if told to, and otherwise answers only what `onPacket` does. */
async function silentClient(
  port: number,
  options: Array<[string, string | number]>,
  { address = '127.0.0.1', ackOack = false, onPacket }: SilentOptions = {},
): Promise<Silent> {
  const socket = dgram.createSocket('udp4');
  const packets: Buffer[] = [];
  let from: number | undefined;
  socket.on('message', (packet, rinfo) => {
    packets.push(packet);
    from ??= rinfo.port;
    if (ackOack && packet.readUInt16BE(0) === 6) socket.send(Buffer.from([0, 4, 0, 0]), rinfo.port, rinfo.address);
    onPacket?.(packets, (answer) => socket.send(answer, rinfo.port, rinfo.address));
  });
  await new Promise<void>((resolve) => socket.bind(0, address, () => resolve()));
  cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  socket.send(encodeRequest(1, 'kernel.img', 'octet', options), port, '127.0.0.1');
  return {
    socket,
    packets,
    blocks: () => packets.filter((p) => p.readUInt16BE(0) === 3).map((p) => p.readUInt16BE(2)),
    serverPort: () => from,
  };
}

const isError = (packet: Buffer | undefined) => packet !== undefined && packet.readUInt16BE(0) === 5;

describe('options a client cannot push past the limits', () => {
  it('declines a timeout longer than 10 s (RFC 2349 allows no other answer) and says so; accepts U-Boot’s 5', async () => {
    const { port, limits } = await server();
    const asked = await fetchFile({
      port,
      file: 'kernel.img',
      options: [
        ['timeout', 255],
        ['blksize', 1468],
      ],
    });
    expect(asked.oack).toEqual({ blksize: '1468' });
    expect(asked.data.equals(payload)).toBe(true);
    expect(limits).toMatchObject([{ limit: 'timeout', file: 'kernel.img', suppressed: 0 }]);
    expect(limits[0]!.message).toMatch(/asked timeout 255 s for kernel\.img: declined \(at most 10 s\)/);
    expect((await fetchFile({ port, file: 'kernel.img', options: ubootOptions() })).oack).toMatchObject({ timeout: '5' });
  });

  it('keeps windowsize × blksize within 64 KiB per transfer', async () => {
    const { port, limits } = await server();
    const huge = await fetchFile({
      port,
      file: 'kernel.img',
      options: [
        ['blksize', 65464],
        ['windowsize', 64],
      ],
    });
    expect(huge.oack).toEqual({ blksize: '65464', windowsize: '1' });
    expect(huge.data.equals(payload)).toBe(true);
    const uboot = await fetchFile({
      port,
      file: 'kernel.img',
      options: [
        ['blksize', 1468],
        ['windowsize', 64],
      ],
    });
    expect(uboot.oack).toEqual({ blksize: '1468', windowsize: '44' }); // 44 × 1468 = 64,592 bytes
    expect(uboot.data.equals(payload)).toBe(true);
    expect(limits[0]).toMatchObject({ limit: 'window', file: 'kernel.img' });
    expect(limits[0]!.message).toMatch(/asked windowsize 64 at blksize 65464 for kernel\.img: answered 1/);
  });

  it('shares the bytes in flight among transfers: once taken, a new window is one block, and whole again once freed', async () => {
    const { port, server: tftp } = await server({ maxBytesInFlight: 16 * 1024, timeoutMs: 5000 });
    const options: Array<[string, number]> = [
      ['blksize', 1024],
      ['windowsize', 16],
    ];
    const holder = await silentClient(port, options); // never acknowledges its OACK: holds 16 KiB
    await vi.waitFor(() => expect(holder.packets.length).toBe(1));
    expect(holder.packets[0]!.toString('latin1')).toContain('windowsize\x0016');
    const squeezed = await fetchFile({ port, file: 'kernel.img', options });
    expect(squeezed.oack).toEqual({ blksize: '1024', windowsize: '1' });
    expect(squeezed.data.equals(payload)).toBe(true);
    holder.socket.send(Buffer.from('\0\x05\0\x00bye\0', 'latin1'), holder.serverPort()!, '127.0.0.1');
    await vi.waitFor(() => expect(tftp.active).toEqual([]));
    expect((await fetchFile({ port, file: 'kernel.img', options })).oack).toEqual({ blksize: '1024', windowsize: '16' });
  });
});

describe('a window that gets no ACK', () => {
  it('is not sent again whole: its first block alone goes out, once per wait, until the server gives up', async () => {
    const { port, errors } = await server({ timeoutMs: 30, maxRetries: 3 });
    const client = await silentClient(
      port,
      [
        ['blksize', 512],
        ['windowsize', 8],
      ],
      { ackOack: true },
    );
    await vi.waitFor(() => expect(errors.at(-1)?.why).toMatch(/stopped answering/));
    expect(client.blocks()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 1, 1, 1]);
  });

  it('goes out again once when the client answers the probe with its last ACK (it is there, the rest was lost)', async () => {
    const { port, errors } = await server({ timeoutMs: 100, maxRetries: 2 });
    const client = await silentClient(
      port,
      [
        ['blksize', 512],
        ['windowsize', 8],
      ],
      {
        ackOack: true,
        // the OACK, the window of 8, then the probe: answer it with the last ACK (block 0) twice; answered once, not twice
        onPacket: (packets, answer) => {
          if (packets.length !== 10) return;
          answer(Buffer.from([0, 4, 0, 0]));
          answer(Buffer.from([0, 4, 0, 0]));
        },
      },
    );
    await vi.waitFor(() => expect(errors.at(-1)?.why).toMatch(/stopped answering/), { timeout: 5000 });
    expect(client.blocks()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 1, 1, 2, 3, 4, 5, 6, 7, 8, 1]);
  });
});

describe('slots', () => {
  it('gives one client address at most 16 transfers and tells it the server is busy beyond; another address still gets its file', async () => {
    const { port, server: tftp, limits } = await server({ timeoutMs: 5000 });
    const holders = [];
    for (let i = 0; i < 16; i++) holders.push(await silentClient(port, [], { address: '127.0.0.2' }));
    await vi.waitFor(() => expect(tftp.active.length).toBe(16));
    const seventeenth = await silentClient(port, [], { address: '127.0.0.2' });
    await vi.waitFor(() => expect(seventeenth.packets.length).toBe(1));
    expect(errorOf(seventeenth.packets[0])).toEqual({ code: 0, message: 'Server busy, try again' });
    expect(limits).toMatchObject([{ limit: 'per-client', client: { address: '127.0.0.2' }, file: 'kernel.img', suppressed: 0 }]);
    expect(limits[0]!.message).toMatch(
      /^refused kernel\.img: 127\.0\.0\.2 already has 16 transfers running, none of them idle \(at most 16 per client\)/,
    );
    expect((await fetchFile({ port, file: 'kernel.img' })).data.equals(payload)).toBe(true);
    expect(holders.every((holder) => !isError(holder.packets.at(-1)))).toBe(true);
  });

  it('ends the transfer idle the longest to make room for a new client, instead of refusing it', async () => {
    const { port, limits, errors } = await server({ maxTransfers: 2, timeoutMs: 50, maxRetries: 1000 });
    const oldest = await silentClient(port, [], { address: '127.0.1.1' });
    await vi.waitFor(() => expect(oldest.blocks()).toEqual([1]));
    const younger = await silentClient(port, [], { address: '127.0.1.2' });
    // both missed a deadline: each has had its block sent again
    await vi.waitFor(() => expect(oldest.blocks().length >= 2 && younger.blocks().length >= 2).toBe(true));
    expect((await fetchFile({ port, file: 'kernel.img', options: ubootOptions() })).data.equals(payload)).toBe(true);
    expect(errorOf(oldest.packets.at(-1))).toEqual({ code: 0, message: 'Transfer cancelled: the server needed its slot' });
    expect(younger.packets.some(isError)).toBe(false);
    expect(limits).toMatchObject([{ limit: 'shed', client: { address: '127.0.1.1' }, file: 'kernel.img' }]);
    expect(limits[0]!.message).toMatch(
      /^ended kernel\.img for 127\.0\.1\.1:\d+ \(no progress for [\d.]+ s\) to make room for kernel\.img from 127\.0\.0\.1:\d+$/,
    );
    expect(errors.find((event) => event.client.address === '127.0.1.1')?.why).toMatch(/ended to make room for another request/);
  });

  it('refuses when every transfer is active, and says so once per interval, counting the rest', async () => {
    const { port, server: tftp, limits } = await server({ maxTransfers: 1, timeoutMs: 5000, noticeIntervalMs: 60_000 });
    await silentClient(port, [], { address: '127.0.1.1' });
    await vi.waitFor(() => expect(tftp.active.length).toBe(1));
    for (let i = 0; i < 20; i++)
      expect(errorOf(await exchange(port, encodeRequest(1, 'kernel.img', 'octet')))?.message).toBe('Server busy, try again');
    expect(limits).toHaveLength(1);
    expect(limits[0]).toMatchObject({ limit: 'transfers', suppressed: 0 });
    expect(limits[0]!.message).toMatch(
      /^refused kernel\.img: 1 transfers already running, none of them idle \(at most 1\); told 127\.0\.0\.1:\d+ the server is busy$/,
    );
    expect(tftp.log.filter((entry) => entry.message.startsWith('refused'))).toHaveLength(1);
    await tftp.close(); // tells what was held back
    expect(limits).toHaveLength(2);
    expect(limits[1]).toMatchObject({ limit: 'transfers', suppressed: 18 }); // 1 told at once + this one + 18 = 20
    expect(tftp.log.some((entry) => /^refused kernel\.img: .*\(and 18 more like it since the last notice\)$/.test(entry.message))).toBe(
      true,
    );
  });
});
