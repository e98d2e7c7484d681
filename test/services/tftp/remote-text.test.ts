// Text from the network (file names, modes, options, a peer's error message) reaches logs, events and the terminal escaped, never raw.
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CliIO } from '../../../electron/cli/command';
import { runCli } from '../../../electron/cli/main';
import type { TftpErrorEvent, TftpRequestEvent } from '../../../shared/api/tftp';
import { encodeRequest, errorOf, exchange, freePort, randomFile, startServer, tempRoot, type RunningServer } from './helpers';

/** Clears the screen, sets the window title, rings the bell, then forges a log line of its own. */
const hostileName = '\x1b[2J\x1b]0;pwned\x07boot2.scr\r\n12:00:00 127.0.0.1:4242 got xen: 1 bytes\x9b6n';
const shownName = '\\x1b[2J\\x1b]0;pwned\\x07boot2.scr\\x0d\\x0a12:00:00 127.0.0.1:4242 got xen: 1 bytes\\x9b6n';
/** Any C0 or C1 control character, or DEL; `allowNewline` lets a terminal's own line ends through. */
const control = (allowNewline = false) => (allowNewline ? /[\x00-\x09\x0b-\x1f\x7f-\x9f]/ : /[\x00-\x1f\x7f-\x9f]/); // eslint-disable-line no-control-regex

let root: string;
let running: RunningServer;
const requests: TftpRequestEvent[] = [];
const errors: TftpErrorEvent[] = [];

beforeAll(async () => {
  root = tempRoot();
  randomFile(root, 'boot2.scr', 3000);
  running = await startServer({ root, timeoutMs: 5000 });
  running.server.on('request', (event) => requests.push(event));
  running.server.on('error', (event) => errors.push(event));
});

afterAll(async () => {
  await running.server.close();
  fs.rmSync(root, { recursive: true, force: true });
});

function expectNothingRaw(): void {
  for (const entry of running.server.log) expect(JSON.stringify(entry.message) + JSON.stringify(entry.file ?? '')).not.toMatch(control());
  for (const event of [...requests, ...errors]) expect(JSON.stringify(event)).not.toMatch(/\\u00[0189]|\\u007f/);
}

describe('text a client sends', () => {
  it('shows a file name’s control characters as \\xNN in the request, the refusal and the log', async () => {
    const reply = await exchange(running.port, encodeRequest(1, hostileName, 'octet', [['blksize', 1468]]));
    expect(errorOf(reply)?.code).toBe(2); // a name with control characters is refused
    await vi.waitFor(() => expect(errors.at(-1)?.file).toBe(shownName));
    expect(requests.at(-1)?.file).toBe(shownName);
    expect(running.server.log.some((entry) => entry.message.includes(`asks for ${shownName}`))).toBe(true);
    expectNothingRaw();
  });

  it('escapes an unsupported mode, and option names and values', async () => {
    const reply = await exchange(
      running.port,
      encodeRequest(1, 'boot2.scr', 'oct\x1b[5met', [
        ['blk\x1bsize', '\x1b[31m1468'],
        ['tsize', 0],
      ]),
    );
    expect(errorOf(reply)?.code).toBe(4);
    await vi.waitFor(() => expect(errors.at(-1)?.why).toBe('transfer mode "oct\\x1b[5met" is not supported (octet or netascii)'));
    expect(requests.at(-1)).toMatchObject({ mode: 'oct\\x1b[5met', options: { 'blk\\x1bsize': '\\x1b[31m1468', tsize: '0' } });
    expectNothingRaw();
  });

  it('escapes the error message a client aborts with', async () => {
    const socket = dgram.createSocket('udp4');
    const aborted = new Promise<TftpErrorEvent>((resolve) => running.server.once('error', resolve));
    socket.on('message', (_packet, rinfo) =>
      socket.send(Buffer.from('\0\x05\0\x00\x1b[2Jgone\r\nforged\0', 'latin1'), rinfo.port, rinfo.address),
    );
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    socket.send(encodeRequest(1, 'boot2.scr', 'octet'), running.port, '127.0.0.1');
    expect((await aborted).why).toBe('the client aborted: \\x1b[2Jgone\\x0d\\x0aforged');
    socket.close();
    expectNothingRaw();
  });

  it('escapes the name of a write request it refuses', async () => {
    expect(errorOf(await exchange(running.port, encodeRequest(2, 'up\x1b]0;x\x07load', 'octet')))?.code).toBe(2);
    await vi.waitFor(() => expect(errors.at(-1)?.file).toBe('up\\x1b]0;x\\x07load'));
    expectNothingRaw();
  });
});

describe('xen-pi-imager serve', () => {
  it('prints a hostile request as one escaped line: no screen clearing, no title, no forged line', async () => {
    const dir = tempRoot('xpi-serve-text-');
    fs.writeFileSync(path.join(dir, 'boot2.scr'), 'stage two');
    const controller = new AbortController();
    const io: CliIO & { out: string; err: string } = {
      out: '',
      err: '',
      stdout: (text: string) => void (io.out += text),
      stderr: (text: string) => void (io.err += text),
      isTTY: true,
      env: { ...process.env, XDG_CONFIG_HOME: path.join(dir, 'config') },
      cwd: dir,
      signal: controller.signal,
    };
    const port = await freePort();
    const status = runCli(['serve', '--root', dir, '--port', String(port)], io);
    try {
      await vi.waitFor(() => expect(io.out).toContain(`over TFTP on 127.0.0.1:${port}`));
      await exchange(port, encodeRequest(1, hostileName, 'octet'));
      await vi.waitFor(() => expect(io.err).toContain('cannot have'));
    } finally {
      controller.abort();
      expect(await status).toBe(0);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const printed = io.out + io.err;
    expect(printed).not.toMatch(control(true));
    const lines = printed.split('\n').filter((line) => line.includes('boot2.scr'));
    expect(lines).toHaveLength(2); // the request and its refusal, nothing forged between them
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d 127\.0\.0\.1:\d+ asks for \\x1b\[2J/);
    expect(lines[1]).toMatch(/^\d\d:\d\d:\d\d 127\.0\.0\.1:\d+ cannot have \\x1b\[2J.*: the name contains control characters$/);
  });
});
