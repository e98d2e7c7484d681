// One console session on a serial line: bytes out to the terminal, through the boot timeline and into a timestamped
// log; keystrokes in; TFTP transfers joined to the timeline. Used by the app's serial service and by the CLI alike.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { TftpTransferEvent } from '../../../shared/api/tftp';
import type { SerialSessionInfo, SerialState } from '../../../shared/api/serial';
import { TimestampedLines } from '../../../shared/console/log';
import { BootTimeline, type TimelineEntry } from '../../../shared/console/timeline';
import { openSerialLine, type SerialLine } from './line';

export interface ConsoleSessionOptions {
  path: string;
  baud: number;
  /** The timestamped log goes here (a file); none when undefined. */
  logFile?: string;
  /** Console bytes are handed on at most this often, in one piece (a UART delivers a few bytes per read). */
  flushMs?: number;
  stallSeconds?: number;
  reconnectIntervalMs?: number;
}

export interface ConsoleSessionHandlers {
  /** Bytes as they came, one character per byte (latin1). */
  onData?: (data: string, timeMs: number) => void;
  onState?: (state: SerialState, message: string) => void;
  onTimeline?: (entry: TimelineEntry) => void;
}

/** Bytes handed on at once when they pile up faster than the flush interval. */
const MAX_CHUNK_BYTES = 64 * 1024;

export interface ConsoleSession {
  readonly info: SerialSessionInfo;
  readonly timeline: BootTimeline;
  /** Keystrokes: written as UTF-8. */
  type(text: string): Promise<void>;
  tftp(event: TftpTransferEvent): void;
  /** Everything received so far is in the log file. */
  flushLog(): Promise<{ path: string; bytes: number } | undefined>;
  close(): Promise<void>;
}

export function logFileName(logsDir: string, devicePath: string, openedAt: number): string {
  const device = path.basename(devicePath).replace(/[^A-Za-z0-9._-]/g, '_');
  return path.join(logsDir, `serial-${device}-${new Date(openedAt).toISOString().replace(/[:.]/g, '-')}.log`);
}

export async function openConsoleSession(
  sessionId: number,
  options: ConsoleSessionOptions,
  handlers: ConsoleSessionHandlers = {},
): Promise<ConsoleSession> {
  const openedAt = Date.now();
  const timeline = new BootTimeline({
    startedAt: openedAt,
    ...(options.stallSeconds !== undefined && { stallSeconds: options.stallSeconds }),
  });
  const stamps = new TimestampedLines();
  const elapsed = () => Date.now() - openedAt;
  const flushMs = options.flushMs ?? 15;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let flushTimer: NodeJS.Timeout | undefined;
  let log: fs.WriteStream | undefined;
  let logFailure: Error | undefined;

  const emitEntries = (entries: TimelineEntry[]) => {
    for (const entry of entries) handlers.onTimeline?.(entry);
  };
  const flush = () => {
    clearTimeout(flushTimer);
    flushTimer = undefined;
    if (pendingBytes === 0) return;
    const data = Buffer.concat(pending, pendingBytes).toString('latin1');
    pending = [];
    pendingBytes = 0;
    const timeMs = elapsed();
    handlers.onData?.(data, timeMs);
    emitEntries(timeline.console(data, timeMs));
    if (timeline.xenInput !== undefined) info.xenInput = timeline.xenInput;
    if (log && !logFailure) log.write(Buffer.from(stamps.stamp(data, Date.now()), 'latin1'));
  };

  if (options.logFile) {
    await fsp.mkdir(path.dirname(options.logFile), { recursive: true });
    log = fs.createWriteStream(options.logFile, { flags: 'a' });
    log.on('error', (error) => (logFailure = error));
  }
  const info: SerialSessionInfo = {
    sessionId,
    path: options.path,
    baud: options.baud,
    state: 'open',
    openedAt,
    ...(options.logFile && { logPath: options.logFile }),
  };
  let line: SerialLine;
  try {
    line = await openSerialLine(
      {
        path: options.path,
        baud: options.baud,
        ...(options.reconnectIntervalMs !== undefined && { reconnectIntervalMs: options.reconnectIntervalMs }),
      },
      {
        onData(bytes) {
          pending.push(bytes);
          pendingBytes += bytes.length;
          if (pendingBytes >= MAX_CHUNK_BYTES) flush();
          else flushTimer ??= setTimeout(flush, flushMs);
        },
        onState(state, message) {
          flush();
          info.state = state;
          handlers.onState?.(state, message);
          if (log && !logFailure && state !== 'closed') log.write(`\n[${new Date().toISOString()}] --- ${message}\n`);
        },
      },
    );
  } catch (error) {
    log?.end();
    throw error;
  }
  const ticker = setInterval(() => emitEntries(timeline.tick(elapsed())), 1000);
  ticker.unref();

  return {
    info,
    timeline,
    type: (text) => line.write(Buffer.from(text, 'utf8')),
    tftp(event) {
      emitEntries(timeline.tftp(event));
    },
    async flushLog() {
      flush();
      if (!log || !options.logFile) return undefined;
      if (logFailure) throw logFailure;
      await new Promise<void>((resolve) => log!.write('', () => resolve()));
      return { path: options.logFile, bytes: fs.statSync(options.logFile).size };
    },
    async close() {
      clearInterval(ticker);
      flush();
      await line.close();
      if (log) await new Promise<void>((resolve) => log!.end(() => resolve()));
    },
  };
}
