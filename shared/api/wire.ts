// The browser-mode WebSocket's message shapes (the Electron transport carries the same call/reply/event data over IPC).
import type { ImagerErrorData } from '../errors';

export const WS_PATH = '/api';
export const TOKEN_COOKIE = 'xpi_token';
export const TOKEN_PARAM = 'token';

export type ClientMessage = { type: 'call'; id: number; method: string; args: unknown[] };

export type ServerMessage =
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; error: ImagerErrorData }
  | { type: 'event'; name: string; payload: unknown };

/** The Content-Security-Policy of every page the app shows (Electron and browser mode). */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');
