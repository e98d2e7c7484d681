// Browser mode: serves the built UI and the contract over a WebSocket on loopback, behind a per-run token.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pipeline } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { dispatchCall } from '../../shared/api/dispatch';
import { toErrorData } from '../../shared/errors';
import { CONTENT_SECURITY_POLICY, TOKEN_COOKIE, TOKEN_PARAM, WS_PATH, type ClientMessage, type ServerMessage } from '../../shared/api/wire';
import type { ImagerApi } from '../../shared/api';
import type { EventHub } from '../services/events';

export interface WebServerOptions {
  services: ImagerApi;
  events: EventHub;
  /** Folder holding the built renderer (index.html and assets/). */
  staticDir: string;
  /** Loopback only: 127.0.0.1 (default) or ::1. */
  host?: '127.0.0.1' | '::1';
  /** 0 (default) picks a free port. */
  port?: number;
  /** Fixed token for tests; a random one per run otherwise. */
  token?: string;
}

export interface WebServer {
  /** The URL to open, token included. */
  url: string;
  origin: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? randomBytes(24).toString('base64url');
  const staticDir = path.resolve(options.staticDir);
  let port = 0;
  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
  const allowedOrigins = () => new Set([...allowedHosts()].map((h) => `http://${h}`));

  const tokenMatches = (candidate: string | undefined): boolean => {
    if (!candidate) return false;
    const a = Buffer.from(candidate);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  };

  /** Why this request may not go on, or undefined when it may. */
  const refusal = (req: http.IncomingMessage, url: URL): string | undefined => {
    if (!allowedHosts().has(req.headers.host ?? '')) return 'foreign Host header';
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins().has(origin)) return 'foreign Origin header';
    if (!tokenMatches(url.searchParams.get(TOKEN_PARAM) ?? readCookie(req.headers.cookie, TOKEN_COOKIE))) {
      return 'missing or wrong token';
    }
    return undefined;
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const why = refusal(req, url);
    if (why) {
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end(`Forbidden: ${why}. Open the URL that xen-pi-imager printed when it started (it carries the token).\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (url.searchParams.has(TOKEN_PARAM)) {
      // Trade the token in the URL for a same-site cookie, so assets and the WebSocket carry it
      // and the token leaves the address bar.
      url.searchParams.delete(TOKEN_PARAM);
      res.writeHead(303, {
        location: url.pathname + url.search,
        'set-cookie': `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`,
        'cache-control': 'no-store',
      });
      res.end();
      return;
    }
    serveStatic(staticDir, url.pathname, res).catch(() => res.destroy());
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  server.on('upgrade', (req, socket, head) => {
    // Node's HTTP server lets go of an upgraded socket, error listener included: a peer that resets
    // the connection must cost that connection only, not the process.
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://localhost');
    const why =
      url.pathname !== WS_PATH ? 'unknown path' : (refusal(req, url) ?? (req.headers.origin ? undefined : 'missing Origin header'));
    if (why) {
      socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nForbidden: ${why}\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  wss.on('error', () => undefined); // only the listening server's errors, and it has none of its own (noServer)

  wss.on('connection', (ws: WebSocket) => {
    // A protocol error (oversized message, bad UTF-8, unmasked or reserved frame...) has already
    // closed this connection with its status code when ws reports it; the server goes on.
    ws.on('error', () => undefined);
    const send = (message: ServerMessage) => {
      if (ws.readyState !== ws.OPEN) return;
      let text: string;
      try {
        text = JSON.stringify(message);
      } catch (error) {
        if (message.type !== 'reply') return;
        text = JSON.stringify({ type: 'reply', id: message.id, ok: false, error: toErrorData(error) } satisfies ServerMessage);
      }
      ws.send(text);
    };
    const unsubscribe = options.events.subscribe((name, payload) => send({ type: 'event', name, payload }));
    ws.on('close', unsubscribe);
    ws.on('message', (data) => {
      let message: ClientMessage;
      try {
        message = JSON.parse(String(data)) as ClientMessage;
      } catch {
        ws.close(1007, 'messages must be JSON');
        return;
      }
      if (message?.type !== 'call' || typeof message.id !== 'number') {
        ws.close(1008, 'unexpected message');
        return;
      }
      void dispatchCall(options.services, message.method, message.args).then((reply) =>
        send(
          reply.ok
            ? { type: 'reply', id: message.id, ok: true, value: reply.value }
            : { type: 'reply', id: message.id, ok: false, error: reply.error },
        ),
      );
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const origin = host === '::1' ? `http://[::1]:${port}` : `http://127.0.0.1:${port}`;

  return {
    url: `${origin}/?${TOKEN_PARAM}=${token}`,
    origin,
    port,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

async function serveStatic(root: string, pathname: string, res: http.ServerResponse): Promise<void> {
  const security = {
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
  };
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    res.writeHead(400, security).end('Bad path\n');
    return;
  }
  const relative = path.normalize(decoded).replace(/^([/\\])+/, '');
  let file = path.join(root, relative);
  if (file !== root && !file.startsWith(root + path.sep)) {
    res.writeHead(404, security).end();
    return;
  }
  let info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) {
    // the wizard is one page: unknown paths without an extension get index.html
    if (path.extname(relative)) {
      res.writeHead(404, { ...security, 'content-type': 'text/plain' }).end('Not found\n');
      return;
    }
    file = path.join(root, 'index.html');
    info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) {
      res.writeHead(500, { ...security, 'content-type': 'text/plain' }).end('The UI is not built: run `npm run build`.\n');
      return;
    }
  }
  res.writeHead(200, {
    ...security,
    'content-type': MIME[path.extname(file)] ?? 'application/octet-stream',
    'content-length': info.size,
    'cache-control': file.endsWith('index.html') ? 'no-store' : 'max-age=3600',
  });
  // The file may go away between stat and open: end this response, not the server.
  pipeline(createReadStream(file), res, () => undefined);
}
