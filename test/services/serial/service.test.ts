// The serial service on a real pty pair (socat): bytes both ways at 115200, a long session without loss or growing
// memory, an adapter unplugged and plugged back, one owner per port, and errors that name the fix.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SerialPort } from 'serialport';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventName, ImagerEvents } from '../../../shared/api';
import type { SerialDataEvent, SerialStateEvent, SerialTimelineEvent } from '../../../shared/api/serial';
import { createSerialService, type SerialService } from '../../../electron/services/serial/service';
import { haveSocat, startPtyPair, type PtyPair } from '../../helpers/pty-pair';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '../../shared/emulator/fixtures', `${name}.console.txt`), 'latin1');

interface Harness {
  service: SerialService;
  events: Array<{ name: EventName; payload: unknown }>;
  received: (sessionId: number) => string;
  waitFor: (test: () => boolean, what: string, ms?: number) => Promise<void>;
}

function harness(logsDir: string): Harness {
  const events: Harness['events'] = [];
  const service = createSerialService(
    { transport: 'browser', emit: (name, payload) => events.push({ name, payload }), openExternal: async () => undefined },
    { logsDir, reconnectIntervalMs: 100 },
  );
  return {
    service,
    events,
    received: (sessionId) =>
      events
        .filter((e) => e.name === 'serial:data' && (e.payload as SerialDataEvent).sessionId === sessionId)
        .map((e) => (e.payload as SerialDataEvent).data)
        .join(''),
    async waitFor(test, what, ms = 10_000) {
      const started = Date.now();
      while (!test()) {
        if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
  };
}

/** The board's end of the line, opened as the board's UART would be: 115200 8N1. */
function openBoard(pair: PtyPair): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path: pair.board, baudRate: 115200, autoOpen: false, lock: false });
    port.open((error) => (error ? reject(error) : resolve(port)));
  });
}

const closePort = (port: SerialPort) => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));

describe.skipIf(!haveSocat)('the serial console on a pty pair', () => {
  let dir: string;
  let pair: PtyPair;
  let board: SerialPort;
  let h: Harness;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-test-'));
    pair = await startPtyPair(dir);
    board = await openBoard(pair);
    h = harness(path.join(dir, 'logs'));
  });

  afterEach(async () => {
    await h.service.dispose?.();
    await closePort(board);
    await pair.unplug();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('carries the board’s console to the UI and keystrokes to the board, at 115200 8N1', async () => {
    const session = await h.service.serialOpen({ path: pair.adapter, baud: 115200 });
    expect(session).toMatchObject({ path: pair.adapter, baud: 115200, state: 'open' });
    board.write('U-Boot 2023.01+dfsg-2 (Jan 01 2024)\r\n\r\nHit any key to stop autoboot:  2 ');
    await h.waitFor(() => h.received(session.sessionId).includes('autoboot'), 'the banner');
    const typed: Buffer[] = [];
    board.on('data', (bytes: Buffer) => typed.push(bytes));
    await h.service.serialWrite(session.sessionId, ' version\r');
    await h.service.serialWrite(session.sessionId, 'ü\x01\x01\x01');
    await h.waitFor(() => Buffer.concat(typed).length >= 14, 'the keystrokes at the board');
    expect(Buffer.concat(typed).toString('utf8')).toBe(' version\rü\x01\x01\x01');
    // the U-Boot banner is the first milestone of the session's timeline
    const entries = await h.service.serialTimeline(session.sessionId);
    expect(entries).toEqual([
      expect.objectContaining({
        kind: 'milestone',
        milestone: expect.objectContaining({ kind: 'uboot', label: 'U-Boot 2023.01+dfsg-2 started' }),
      }),
    ]);
  });

  it('follows a whole boot on the timeline and writes a log with every line’s time', async () => {
    const session = await h.service.serialOpen({ path: pair.adapter });
    const log = fixture('boot-ok');
    for (let i = 0; i < log.length; i += 200) board.write(Buffer.from(log.slice(i, i + 200), 'latin1'));
    await h.waitFor(() => h.received(session.sessionId).length === log.length, 'the whole boot log');
    expect(h.received(session.sessionId)).toBe(log);
    const kinds = h.events.filter((e) => e.name === 'serial:timeline').map((e) => (e.payload as SerialTimelineEvent).entry);
    expect(kinds.filter((e) => e.kind === 'milestone').map((e) => e.kind === 'milestone' && e.milestone.kind)).toContain('dom0-userspace');
    const saved = await h.service.serialSaveLog(session.sessionId);
    const lines = fs.readFileSync(saved.path, 'latin1').split('\n').filter(Boolean);
    expect(lines.length).toBe(log.split('\n').filter(Boolean).length);
    expect(lines.every((line) => /^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] /.test(line))).toBe(true);
    expect(lines.find((line) => line.includes('(XEN) Xen version'))).toMatch(/^\[[^\]]+\] \(XEN\) Xen version 4\.17/);
  });

  it('passes 50 MB through without losing a byte or holding it in memory', async () => {
    const session = await h.service.serialOpen({ path: pair.adapter });
    const total = 50 * 1024 * 1024;
    const sentHash = createHash('sha256');
    const receivedHash = createHash('sha256');
    let received = 0;
    const baseline = process.memoryUsage();
    let peak = 0;
    // the test's own listener hashes and drops each chunk, as a UI that draws it does
    h.events.length = 0;
    const events = h.events;
    events.push = (...items) => {
      for (const item of items) {
        if (item.name !== 'serial:data') continue;
        const data = (item.payload as ImagerEvents['serial:data']).data;
        receivedHash.update(Buffer.from(data, 'latin1'));
        received += data.length;
      }
      const used = process.memoryUsage();
      peak = Math.max(peak, used.heapUsed + used.arrayBuffers - baseline.heapUsed - baseline.arrayBuffers);
      return 0;
    };
    const started = Date.now();
    let seed = 1;
    const chunk = Buffer.alloc(64 * 1024);
    for (let sent = 0; sent < total; sent += chunk.length) {
      for (let i = 0; i < chunk.length; i++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        chunk[i] = (seed >>> 16) % 97 === 0 ? 10 : seed >>> 24; // newline-separated noise
      }
      sentHash.update(chunk);
      if (!board.write(Buffer.from(chunk))) await new Promise((resolve) => board.once('drain', resolve));
    }
    await h.waitFor(() => received >= total, '50 MB at the console', 120_000);
    console.info(
      `50 MiB through the pty pair in ${((Date.now() - started) / 1000).toFixed(1)} s; peak extra memory ${(peak / 1048576).toFixed(1)} MiB`,
    );
    expect(received).toBe(total);
    expect(receivedHash.digest('hex')).toBe(sentHash.digest('hex'));
    // the session keeps nothing of what passed: far less than the 50 MB that went through
    expect(peak).toBeLessThan(24 * 1024 * 1024);
    const saved = await h.service.serialSaveLog(session.sessionId);
    expect(saved.bytes).toBeGreaterThan(total);
  }, 180_000);

  it('says the adapter went away when unplugged, and carries on when it is plugged back', async () => {
    const session = await h.service.serialOpen({ path: pair.adapter });
    const states = () => h.events.filter((e) => e.name === 'serial:state').map((e) => e.payload as SerialStateEvent);
    await closePort(board);
    await pair.unplug();
    await h.waitFor(() => states().some((s) => s.state === 'lost'), 'the lost state');
    expect(states()[0]!.message).toBe(`${pair.adapter} went away (unplugged?): the console waits for it and carries on when it is back.`);
    await expect(h.service.serialWrite(session.sessionId, 'x')).rejects.toMatchObject({
      code: 'NOT_AVAILABLE',
      message: expect.stringContaining('unplugged'),
    });
    expect(await h.service.serialSessions()).toEqual([expect.objectContaining({ sessionId: session.sessionId, state: 'lost' })]);

    pair = await startPtyPair(dir);
    board = await openBoard(pair);
    await h.waitFor(() => states().some((s) => s.state === 'open'), 'the reconnection');
    expect(states().at(-1)!.message).toBe(`${pair.adapter} is back: the console carries on.`);
    board.write('(XEN) Xen version 4.17.5 (Debian)\r\n');
    await h.waitFor(() => h.received(session.sessionId).includes('Xen version'), 'bytes after the reconnection');
    const typed: Buffer[] = [];
    board.on('data', (bytes: Buffer) => typed.push(bytes));
    await h.service.serialWrite(session.sessionId, 'xl list\r');
    await h.waitFor(() => Buffer.concat(typed).toString() === 'xl list\r', 'keystrokes after the reconnection');
  });

  it('gives a port one owner: a second open, here or in another program, gets a sentence naming the fix', async () => {
    const first = await h.service.serialOpen({ path: pair.adapter });
    await expect(h.service.serialOpen({ path: pair.adapter })).rejects.toMatchObject({
      code: 'BUSY',
      message: `The console already has ${pair.adapter} open.`,
    });
    await h.service.serialClose(first.sessionId);
    // another program (minicom, screen) holding the port locked
    const other = new SerialPort({ path: pair.adapter, baudRate: 115200, autoOpen: false, lock: true });
    await new Promise<void>((resolve, reject) => other.open((error) => (error ? reject(error) : resolve())));
    try {
      await expect(h.service.serialOpen({ path: pair.adapter })).rejects.toMatchObject({
        code: 'BUSY',
        message: expect.stringMatching(/^Another program has .* open \(minicom, screen, PuTTY/),
        hint: 'Close the serial port in that program, then open the console again.',
      });
    } finally {
      await closePort(other);
    }
    const again = await h.service.serialOpen({ path: pair.adapter });
    expect(again.state).toBe('open');
  });

  it('names the missing port', async () => {
    await expect(h.service.serialOpen({ path: path.join(dir, 'ttyUSB9') })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: `There is no serial port at ${path.join(dir, 'ttyUSB9')}.`,
    });
  });

  it.skipIf(process.getuid?.() !== 0)('tells a user outside the dialout group how to join it, without sudo for the app', () => {
    // The child stays uid 0 (so it can read this checkout wherever CI cloned it, even a 0700 folder) but loses every
    // capability and group: to it the port is then another user's, root:dialout 0660 as udev sets a USB-UART, in effect.
    const device = fs.realpathSync(pair.adapter);
    fs.chownSync(device, 65534, 20); // an owner that is not the child, group dialout
    fs.chmodSync(device, 0o060);
    const script = `
      import { openSerialLine } from ${JSON.stringify(path.resolve(__dirname, '../../../electron/services/serial/line.ts'))};
      openSerialLine({ path: ${JSON.stringify(device)}, baud: 115200 }, { onData() {}, onState() {} })
        .then(() => console.log('opened'), (error) => console.log(JSON.stringify(error.toJSON())));`;
    const run = spawnSync(
      'setpriv',
      [
        '--clear-groups',
        '--inh-caps=-all',
        '--bounding-set=-all',
        process.execPath,
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        script,
      ],
      {
        encoding: 'utf8',
        cwd: path.resolve(__dirname, '../../..'),
      },
    );
    const error = JSON.parse(run.stdout.trim().split('\n').pop()!);
    expect(error).toMatchObject({
      code: 'PERMISSION_DENIED',
      message: `You are not allowed to open ${device}: serial ports belong to the dialout group, and your user is not in it.`,
      hint: 'Run `sudo usermod -aG dialout $USER` once, then log out and back in; the app itself never needs sudo.',
    });
  });
});
