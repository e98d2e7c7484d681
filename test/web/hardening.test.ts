// Browser mode under hostile input: broken WebSocket frames and reset connections end that connection, never the server.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

const appRoot = path.resolve(import.meta.dirname, '../..');
const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

let child: ChildProcess;
let home: string;
let output = '';
let port: number;
let token: string;

/** Starts `xen-pi-imager ui` from the source as its own process, so a crash shows as an exit, and waits for its URL. */
async function startServer(): Promise<void> {
  output = '';
  child = spawn(process.execPath, ['--import', 'tsx', 'electron/cli/index.ts', 'ui', '--no-open'], {
    cwd: appRoot,
    env: { ...process.env, XEN_PI_IMAGER_HOME: home, CI: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<URL>((resolve, reject) => {
    child.stdout!.on('data', () => {
      const match = /Open: (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(output);
      if (match?.[1]) resolve(new URL(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`browser mode exited with ${code}:\n${output}`)));
  });
  port = Number(url.port);
  token = url.searchParams.get('token')!;
}

const running = () => child.exitCode === null && child.signalCode === null;

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'xpi-web-hard-'));
  await startServer();
});

/** Whether the server still accepts connections (a crashed one stops listening as it exits). */
function accepting(): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(port, '127.0.0.1');
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

// Each case gets a live server, so one crash does not hide what the next case would do.
beforeEach(async () => {
  if (running() && (await accepting())) return;
  if (running()) await new Promise((resolve) => child.once('exit', resolve));
  await startServer();
});

afterAll(async () => {
  if (running()) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    await exited;
  }
  fs.rmSync(home, { recursive: true, force: true });
});

const origin = () => `http://127.0.0.1:${port}`;

/** A plain TCP connection that has finished the WebSocket handshake (token and Origin right). */
async function rawWebSocket(): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined); // the server may reset the connection: that is allowed
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(
    [
      'GET /api HTTP/1.1',
      `Host: 127.0.0.1:${port}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      'Sec-WebSocket-Version: 13',
      `Origin: ${origin()}`,
      `Cookie: xpi_token=${token}`,
      '',
      '',
    ].join('\r\n'),
  );
  let head = Buffer.alloc(0);
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      if (!head.toString('latin1').startsWith('HTTP/1.1 101')) reject(new Error(`handshake refused: ${head.toString('latin1')}`));
      else resolve();
    };
    socket.on('data', onData);
  });
  return socket;
}

/** One frame as a client would send it (masked unless told not to), with every header bit under the test's control. */
function frame(options: {
  opcode: number;
  payload?: Uint8Array;
  fin?: boolean;
  rsv1?: boolean;
  masked?: boolean;
  declaredLength?: number;
}): Buffer {
  const payload = Buffer.from(options.payload ?? []);
  const length = options.declaredLength ?? payload.length;
  const first = ((options.fin ?? true) ? 0x80 : 0) | (options.rsv1 ? 0x40 : 0) | options.opcode;
  const maskBit = (options.masked ?? true) ? 0x80 : 0;
  const header =
    length < 126
      ? Buffer.from([first, maskBit | length])
      : length < 65536
        ? Buffer.concat([Buffer.from([first, maskBit | 126]), Buffer.from([length >> 8, length & 0xff])])
        : (() => {
            const extended = Buffer.alloc(8);
            extended.writeBigUInt64BE(BigInt(length));
            return Buffer.concat([Buffer.from([first, maskBit | 127]), extended]);
          })();
  if (!(options.masked ?? true)) return Buffer.concat([header, payload]);
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
  return Buffer.concat([header, mask, masked]);
}

/** Sends bytes on a fresh WebSocket and returns the close code the server answered with, once it has closed the connection. */
async function sendAndAwaitClose(bytes: Buffer): Promise<number | undefined> {
  const socket = await rawWebSocket();
  let received = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(bytes);
  await closed;
  // The server's close frame: 0x88, length, then the status code.
  const at = received.indexOf(0x88);
  return at >= 0 && received.length >= at + 4 ? received.readUInt16BE(at + 2) : undefined;
}

/** The server still runs and still answers a contract call on a new connection. */
async function expectStillServing(): Promise<void> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api`, { headers: { origin: origin(), cookie: `xpi_token=${token}` } });
  try {
    const reply = await new Promise<Record<string, unknown>>((resolve, reject) => {
      ws.once('error', (error) => reject(new Error(`no reply (${error.message}); the server printed:\n${output}`)));
      ws.once('open', () => ws.send(JSON.stringify({ type: 'call', id: 1, method: 'appInfo', args: [] })));
      ws.on('message', (data) => {
        const message = JSON.parse(String(data)) as Record<string, unknown>;
        if (message.type === 'reply' && message.id === 1) resolve(message);
      });
    });
    expect(reply).toMatchObject({ ok: true, value: { name: 'xen-pi-imager', transport: 'browser' } });
  } finally {
    ws.close();
  }
  expect(running(), output).toBe(true);
}

const text = (s: string) => new TextEncoder().encode(s);
const closePayload = (code: number) => Buffer.from([code >> 8, code & 0xff]);

describe('browser-mode server under hostile input (a real process)', () => {
  it('survives a refused upgrade (foreign Origin, no token) whose connection is reset', async () => {
    for (let i = 0; i < 20; i++) {
      const socket = net.connect(port, '127.0.0.1');
      const connected = await new Promise<boolean>((resolve) => {
        socket.once('connect', () => resolve(true));
        socket.once('error', () => resolve(false));
      });
      if (!connected) break; // the server is gone: the check below says so
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) =>
        socket.write(
          `GET /api HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://evil.example\r\n\r\n`,
          () => resolve(),
        ),
      );
      socket.resetAndDestroy();
      await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    }
    await expectStillServing();
  });

  const broken: Array<{ name: string; bytes: () => Buffer; code: number }> = [
    { name: 'a message over the size limit', bytes: () => frame({ opcode: 1, declaredLength: MAX_MESSAGE_BYTES + 1 }), code: 1009 },
    { name: 'a text message that is not UTF-8', bytes: () => frame({ opcode: 1, payload: Uint8Array.of(0xc3, 0x28, 0xff) }), code: 1007 },
    { name: 'an unmasked frame', bytes: () => frame({ opcode: 1, payload: text('{}'), masked: false }), code: 1002 },
    { name: 'a reserved opcode', bytes: () => frame({ opcode: 3, payload: text('x') }), code: 1002 },
    { name: 'RSV1 set without compression', bytes: () => frame({ opcode: 1, payload: text('{}'), rsv1: true }), code: 1002 },
    { name: 'a ping longer than 125 bytes', bytes: () => frame({ opcode: 9, payload: new Uint8Array(126) }), code: 1002 },
    { name: 'a fragmented ping', bytes: () => frame({ opcode: 9, payload: text('hi'), fin: false }), code: 1002 },
    { name: 'a close frame with an invalid status code', bytes: () => frame({ opcode: 8, payload: closePayload(999) }), code: 1002 },
    { name: 'a continuation frame with nothing to continue', bytes: () => frame({ opcode: 0, payload: text('x') }), code: 1002 },
  ];

  for (const { name, bytes, code } of broken) {
    it(`closes the connection on ${name} and keeps serving`, async () => {
      expect(await sendAndAwaitClose(bytes())).toBe(code);
      await expectStillServing();
    });
  }
});
