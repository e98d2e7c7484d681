// The TFTP server on a bad path and with bad input: loss, duplicates, malformed packets, refused requests — it keeps serving.
import dgram from 'node:dgram';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TftpErrorEvent } from '../../../shared/api/tftp';
import {
  encodeRequest,
  errorOf,
  exchange,
  fetchFile,
  lossyRelay,
  randomFile,
  startServer,
  tempRoot,
  ubootOptions,
  type RunningServer,
} from './helpers';

let root: string;
let running: RunningServer;
let payload: Buffer;
const errors: TftpErrorEvent[] = [];

beforeAll(async () => {
  root = tempRoot();
  payload = randomFile(root, 'boot2.scr', 150_001);
  // a short default timeout so a lost packet costs 80 ms, not a second
  running = await startServer({ root, timeoutMs: 80, maxRetries: 30 });
  running.server.on('error', (event) => errors.push(event));
});

afterAll(async () => {
  await running.server.close();
  fs.rmSync(root, { recursive: true, force: true });
});

async function stillServes(): Promise<void> {
  const result = await fetchFile({ port: running.port, file: 'boot2.scr', options: ubootOptions() });
  expect(result.data.equals(payload)).toBe(true);
}

describe('a lossy path (a relay that drops and duplicates packets)', () => {
  it('delivers a byte-identical file in lock-step', async () => {
    const relay = await lossyRelay(running.port, { drop: 0.05, duplicate: 0.05, seed: 7 });
    try {
      const result = await fetchFile({ port: relay.port, file: 'boot2.scr', options: [['blksize', 512]], timeoutMs: 100, retries: 50 });
      expect(result.data.equals(payload)).toBe(true);
      expect(relay.dropped).toBeGreaterThan(5);
      expect(relay.duplicated).toBeGreaterThan(5);
    } finally {
      await relay.close();
    }
  });

  it('delivers a byte-identical file with windowsize 8, resending from the gap the client reports', async () => {
    const relay = await lossyRelay(running.port, { drop: 0.05, duplicate: 0.05, seed: 99 });
    try {
      const result = await fetchFile({
        port: relay.port,
        file: 'boot2.scr',
        options: [
          ['blksize', 512],
          ['windowsize', 8],
        ],
        timeoutMs: 100,
        retries: 50,
      });
      expect(result.data.equals(payload)).toBe(true);
      expect(relay.dropped).toBeGreaterThan(5);
    } finally {
      await relay.close();
    }
  });

  it('answers each ACK once when every packet arrives twice (no Sorcerer’s Apprentice)', async () => {
    const relay = await lossyRelay(running.port, { drop: 0, duplicate: 1 });
    try {
      const result = await fetchFile({ port: relay.port, file: 'boot2.scr', options: [['blksize', 512]], timeoutMs: 2000 });
      expect(result.data.equals(payload)).toBe(true);
      const blocks = Math.floor(payload.length / 512) + 1;
      // the client re-ACKs every duplicated DATA; a server answering those would send about twice as many
      expect(relay.serverData).toBe(blocks);
    } finally {
      await relay.close();
    }
  });
});

describe('refused requests', () => {
  it('refuses write requests with error 2 (the server is read-only)', async () => {
    const reply = await exchange(running.port, encodeRequest(2, 'boot2.scr', 'octet'));
    expect(errorOf(reply)?.code).toBe(2);
    // not errors.at(-1): an earlier test's abandoned transfer may end (timeout, no code) after this refusal was logged
    await expect
      .poll(() => errors.filter((e) => e.file === 'boot2.scr' && e.code === 2))
      .toContainEqual(expect.objectContaining({ kind: 'error', file: 'boot2.scr', code: 2 }));
    expect(fs.readFileSync(`${root}/boot2.scr`).equals(payload)).toBe(true);
  });

  it('answers an unknown opcode with error 4', async () => {
    expect(errorOf(await exchange(running.port, Buffer.from([0, 99, 1, 2, 3])))?.code).toBe(4);
    expect(errorOf(await exchange(running.port, Buffer.from([0, 0])))?.code).toBe(4);
  });

  it('answers an unsupported mode with error 4', async () => {
    expect(errorOf(await exchange(running.port, encodeRequest(1, 'boot2.scr', 'mail')))?.code).toBe(4);
  });

  it('answers a missing file with error 1', async () => {
    await expect(fetchFile({ port: running.port, file: 'nope.img' })).rejects.toMatchObject({ code: 1 });
    expect(errors.at(-1)).toMatchObject({ file: 'nope.img', code: 1, why: 'not in the TFTP root' });
  });

  it('answers truncated and malformed requests with an error and keeps serving', async () => {
    const malformed = [
      Buffer.from([0, 1]), // nothing after the opcode
      Buffer.from('\0\x01boot2.scr', 'latin1'), // name not terminated
      Buffer.from('\0\x01boot2.scr\0octet', 'latin1'), // mode not terminated
      Buffer.from('\0\x01boot2.scr\0', 'latin1'), // no mode
      Buffer.from('\0\x01\0octet\0', 'latin1'), // empty name
    ];
    for (const packet of malformed) {
      const error = errorOf(await exchange(running.port, packet));
      expect(error, packet.toString('latin1')).toBeDefined();
      expect([1, 4]).toContain(error!.code);
    }
    await stillServes();
  });

  it('ignores runts and stray DATA/ACK/ERROR packets on the request port', async () => {
    for (const packet of [
      Buffer.alloc(0),
      Buffer.from([0]),
      Buffer.from([0, 3, 0, 1, 9]),
      Buffer.from([0, 4, 0, 1]),
      Buffer.from('\0\x05\0\x01oops\0', 'latin1'),
    ]) {
      expect(await exchange(running.port, packet, 150)).toBeUndefined();
    }
    await stillServes();
  });
});

describe('option values', () => {
  it('lowers a huge blksize to 65464, and a huge windowsize to what 64 KiB in flight allows (one block of 65464)', async () => {
    const result = await fetchFile({
      port: running.port,
      file: 'boot2.scr',
      options: [
        ['blksize', '99999999999999999999'],
        ['windowsize', '4000000000'],
      ],
    });
    expect(result.oack).toEqual({ blksize: '65464', windowsize: '1' });
    expect(result.data.equals(payload)).toBe(true);
    const small = await fetchFile({
      port: running.port,
      file: 'boot2.scr',
      options: [
        ['windowsize', '4000000000'],
        ['blksize', '512'],
      ],
    });
    expect(small.oack).toEqual({ windowsize: '64', blksize: '512' }); // the server's maximum windowsize
  });

  it('ignores invalid values and unknown options, and sends no OACK when nothing is left', async () => {
    const result = await fetchFile({
      port: running.port,
      file: 'boot2.scr',
      options: [
        ['blksize', 4],
        ['timeout', 0],
        ['windowsize', 0],
        ['tsize', 'x'],
        ['multicast', ''],
        ['rollover', 1],
        ['blksize2', 2048],
        ['timeout', '300'],
      ],
    });
    expect(result.oack).toBeUndefined();
    expect(result.data.equals(payload)).toBe(true);
  });

  it('takes the first of repeated options and matches names without regard to case', async () => {
    const result = await fetchFile({
      port: running.port,
      file: 'boot2.scr',
      options: [
        ['BlkSize', 1024],
        ['blksize', 2048],
        ['TIMEOUT', 3],
      ],
    });
    expect(result.oack).toEqual({ blksize: '1024', timeout: '3' });
  });

  it('leaves tsize out in netascii mode (the size is not known before conversion)', async () => {
    fs.writeFileSync(`${root}/cmdline.txt`, 'console=hvc0\n');
    const result = await fetchFile({
      port: running.port,
      file: 'cmdline.txt',
      mode: 'NetASCII',
      options: [
        ['tsize', 0],
        ['blksize', 1468],
      ],
    });
    expect(result.oack).toEqual({ blksize: '1468' });
    expect(result.data.toString('latin1')).toBe('console=hvc0\r\n');
  });
});

describe('clients that misbehave', () => {
  it('gives up on a client that stops answering, and says so', async () => {
    const { server, port } = await startServer({ root, timeoutMs: 30, maxRetries: 2 });
    try {
      const failed = new Promise<TftpErrorEvent>((resolve) => server.once('error', resolve));
      const socket = dgram.createSocket('udp4');
      const received: number[] = [];
      socket.on('message', (packet) => received.push(packet.readUInt16BE(2)));
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
      socket.send(encodeRequest(1, 'boot2.scr', 'octet'), port, '127.0.0.1');
      const event = await failed;
      socket.close();
      expect(event.why).toMatch(/stopped answering/);
      expect(received).toEqual([1, 1, 1]); // the block, then maxRetries retransmissions
      expect(server.active).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('ends the transfer when the client declines the OACK with error 8', async () => {
    const socket = dgram.createSocket('udp4');
    const failed = new Promise<TftpErrorEvent>((resolve) => {
      const listener = (event: TftpErrorEvent) => {
        if (event.why.includes('declined')) {
          running.server.off('error', listener);
          resolve(event);
        }
      };
      running.server.on('error', listener);
    });
    socket.on('message', (_packet, rinfo) => socket.send(Buffer.from('\0\x05\0\x08no thanks\0', 'latin1'), rinfo.port, rinfo.address));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    socket.send(encodeRequest(1, 'boot2.scr', 'octet', [['blksize', 1468]]), running.port, '127.0.0.1');
    expect((await failed).why).toBe('the client declined the options (no thanks)');
    socket.close();
  });

  it('ignores a repeated RRQ from the same port instead of starting a second transfer', async () => {
    const socket = dgram.createSocket('udp4');
    const senders = new Set<number>();
    socket.on('message', (_packet, rinfo) => senders.add(rinfo.port));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    const request = encodeRequest(1, 'boot2.scr', 'octet', [['blksize', 1468]]);
    socket.send(request, running.port, '127.0.0.1');
    socket.send(request, running.port, '127.0.0.1');
    await vi.waitFor(() => expect(senders.size).toBe(1));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(senders.size).toBe(1);
    socket.send(Buffer.from('\0\x05\0\x00bye\0', 'latin1'), [...senders][0]!, '127.0.0.1');
    const mine = () => running.server.active.filter((transfer) => transfer.client.port === socket.address().port);
    await vi.waitFor(() => expect(mine()).toEqual([]));
    socket.close();
  });

  it('keeps serving others while one client stalls', async () => {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    socket.send(encodeRequest(1, 'boot2.scr', 'octet'), running.port, '127.0.0.1'); // and never ACKs
    await Promise.all([stillServes(), stillServes(), stillServes()]);
    socket.close();
  });
});

describe('limits', () => {
  it('answers "server busy" beyond maxTransfers, and keeps a bounded log', async () => {
    const { server, port } = await startServer({ root, maxTransfers: 1, logLimit: 3, timeoutMs: 5000 });
    const socket = dgram.createSocket('udp4');
    try {
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
      socket.send(encodeRequest(1, 'boot2.scr', 'octet'), port, '127.0.0.1'); // holds the only slot
      await vi.waitFor(() => expect(server.active.length).toBe(1));
      expect(errorOf(await exchange(port, encodeRequest(1, 'boot2.scr', 'octet')))).toEqual({ code: 0, message: 'Server busy, try again' });
      expect(server.log.length).toBe(3);
      expect(server.log.at(-1)?.message).toMatch(/refused boot2\.scr: 1 transfers already running/);
    } finally {
      socket.close();
      await server.close();
    }
  });
});

describe('listeners', () => {
  it('keeps serving when an event listener throws, and logs it', async () => {
    const { server, port } = await startServer({ root });
    try {
      server.on('request', () => {
        throw new Error('a broken UI');
      });
      expect((await fetchFile({ port, file: 'boot2.scr' })).data.equals(payload)).toBe(true);
      expect(server.log.some((entry) => entry.message === 'a "request" listener failed: a broken UI')).toBe(true);
    } finally {
      await server.close();
    }
  });
});

describe('stopping', () => {
  it('close() stops running transfers, tells their clients, and frees the port', async () => {
    const { server, port } = await startServer({ root, timeoutMs: 5000 });
    const socket = dgram.createSocket('udp4');
    const packets: Buffer[] = [];
    socket.on('message', (packet) => packets.push(packet));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    socket.send(encodeRequest(1, 'boot2.scr', 'octet'), port, '127.0.0.1');
    await vi.waitFor(() => expect(server.active.length).toBe(1));
    await server.close();
    await vi.waitFor(() => expect(errorOf(packets.at(-1))).toEqual({ code: 0, message: 'Server shutting down' }));
    socket.close();
    expect(server.active).toEqual([]);
    expect(server.listening).toBeUndefined();
    // the port is free again
    const again = await startServer({ root, port });
    await again.server.close();
  });
});
