import { mkdtempSync, rmSync, writeFileSync, mkdirSync, symlinkSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createServices } from '../../electron/services';
import { createEventHub } from '../../electron/services/events';
import { startWebServer, type WebServer } from '../../electron/web/server';

const TOKEN = 'test-token-0123456789abcdef';

function get(
  port: number,
  pathname: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: pathname, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
  });
}

function openSocket(port: number, headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api`, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`refused with ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

function call(ws: WebSocket, id: number, method: string, args: unknown[]): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const message = JSON.parse(String(data));
      if (message.type === 'reply' && message.id === id) {
        ws.off('message', onMessage);
        resolve(message);
      }
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ type: 'call', id, method, args }));
  });
}

describe('browser-mode server', () => {
  let dir: string;
  let server: WebServer;
  const events = createEventHub();

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'xpi-web-'));
    mkdirSync(path.join(dir, 'assets'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>Xen Pi Imager</title>');
    writeFileSync(path.join(dir, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(path.join(os.tmpdir(), 'xpi-secret.txt'), 'secret');
    const services = createServices({ transport: 'browser', emit: events.emit, openExternal: async () => undefined, userDataDir: dir });
    server = await startWebServer({ services, events, staticDir: dir, token: TOKEN });
  });

  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const origin = () => `http://127.0.0.1:${server.port}`;
  const cookie = () => ({ cookie: `xpi_token=${TOKEN}` });

  it('listens on loopback only and prints a URL with the token', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${TOKEN}`);
  });

  it('refuses a page request without the token', async () => {
    const res = await get(server.port, '/');
    expect(res.status).toBe(403);
    expect(res.body).toMatch(/token/);
    expect((await get(server.port, '/assets/app.js')).status).toBe(403);
    expect((await get(server.port, '/?token=wrong')).status).toBe(403);
  });

  it('trades the token in the URL for a strict same-site cookie', async () => {
    const res = await get(server.port, `/?token=${TOKEN}`);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/');
    expect(String(res.headers['set-cookie'])).toMatch(/xpi_token=.*HttpOnly; SameSite=Strict/);
    const page = await get(server.port, '/', cookie());
    expect(page.status).toBe(200);
    expect(page.body).toContain('Xen Pi Imager');
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect((await get(server.port, '/assets/app.js', cookie())).headers['content-type']).toMatch(/javascript/);
  });

  it('rejects a foreign Host or Origin even with the token (DNS rebinding)', async () => {
    expect((await get(server.port, `/?token=${TOKEN}`, { host: `evil.example:${server.port}` })).status).toBe(403);
    expect((await get(server.port, '/', { ...cookie(), origin: 'http://evil.example' })).status).toBe(403);
  });

  it('does not serve files outside its folder', async () => {
    const res = await get(server.port, '/..%2f..%2fxpi-secret.txt', cookie());
    expect(res.status).toBe(404);
    expect(res.body).not.toContain('secret');
    expect((await get(server.port, '/../xpi-secret.txt', cookie())).body).not.toContain('secret');
  });

  it('ends the response, not the server, when a file in its folder cannot be read', async () => {
    // /proc/self/mem stats as an empty regular file and fails every read at offset 0 (EIO)
    symlinkSync('/proc/self/mem', path.join(dir, 'assets', 'unreadable.js'));
    await get(server.port, '/assets/unreadable.js', cookie()).catch(() => undefined);
    expect((await get(server.port, '/', cookie())).status).toBe(200);
  });

  it('refuses a WebSocket without the token, with a foreign Origin, or with no Origin', async () => {
    await expect(openSocket(server.port, { origin: origin() })).rejects.toThrow(/403/);
    await expect(openSocket(server.port, { ...cookie(), origin: 'http://evil.example' })).rejects.toThrow(/403/);
    await expect(openSocket(server.port, cookie())).rejects.toThrow(/403/);
  });

  it('answers contract calls and forwards events over the WebSocket', async () => {
    const ws = await openSocket(server.port, { ...cookie(), origin: origin() });
    try {
      const info = await call(ws, 1, 'appInfo', []);
      expect(info).toMatchObject({ ok: true, value: { name: 'xen-pi-imager', transport: 'browser', userDataDir: dir } });
      const bad = await call(ws, 2, 'openExternal', ['file:///etc/passwd']);
      expect(bad).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
      const unknown = await call(ws, 3, 'rmRf', ['/']);
      expect(unknown).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } });
      const received = new Promise((resolve) => ws.once('message', (data) => resolve(JSON.parse(String(data)))));
      events.emit('app:log', { level: 'info', source: 'test', message: 'hello', time: 1 });
      expect(await received).toEqual({
        type: 'event',
        name: 'app:log',
        payload: { level: 'info', source: 'test', message: 'hello', time: 1 },
      });
    } finally {
      ws.close();
    }
  });
});
