// The serial domain behind the contract: the port list, console sessions (one owner per port), their bytes, state and
// timeline pushed as events, logs in the app's logs folder, and the TFTP server's transfers joined to each timeline.
import fs from 'node:fs';
import type { SerialSessionInfo } from '../../../shared/api/serial';
import { serialOpenSchema } from '../../../shared/api/serial';
import type { TftpTransferEvent } from '../../../shared/api/tftp';
import { ImagerError } from '../../../shared/errors';
import type { DomainService, ServiceHost } from '../host';
import { listSerialPorts, type PortListOptions } from './ports';
import { logFileName, openConsoleSession, type ConsoleSession } from './session';

export type SerialService = DomainService<
  'serialPorts' | 'serialOpen' | 'serialWrite' | 'serialClose' | 'serialSessions' | 'serialTimeline' | 'serialSaveLog'
> & {
  /** A transfer of the app's TFTP server (or the trial's): joined to every open console's timeline. */
  observeTftp(event: TftpTransferEvent): void;
};

export interface SerialServiceOptions {
  logsDir: string;
  ports?: PortListOptions;
  reconnectIntervalMs?: number;
}

export const DEFAULT_BAUD = 115200;

/** The same port under any of its names (/dev/serial/by-id/… and /dev/ttyUSB0). */
function portIdentity(devicePath: string): string {
  try {
    return fs.realpathSync(devicePath);
  } catch {
    return devicePath;
  }
}

export function createSerialService(host: ServiceHost, options: SerialServiceOptions): SerialService {
  const sessions = new Map<number, { session: ConsoleSession; identity: string }>();
  let nextSessionId = 1;

  function sessionOf(sessionId: number): ConsoleSession {
    const found = sessions.get(sessionId)?.session;
    if (!found) {
      throw new ImagerError({
        code: 'NOT_FOUND',
        subject: `serial session ${sessionId}`,
        message: 'That console session is closed.',
        hint: 'Open the serial port again.',
      });
    }
    return found;
  }

  return {
    async serialPorts() {
      return listSerialPorts(options.ports);
    },
    async serialOpen(request) {
      const { path: devicePath, baud = DEFAULT_BAUD } = serialOpenSchema.parse(request);
      const identity = portIdentity(devicePath);
      const holder = [...sessions.values()].find((entry) => entry.identity === identity);
      if (holder) {
        throw new ImagerError({
          code: 'BUSY',
          subject: devicePath,
          message: `The console already has ${holder.session.info.path} open.`,
          hint: 'Use the console that is open, or close it before opening the port again.',
        });
      }
      const sessionId = nextSessionId++;
      const session = await openConsoleSession(
        sessionId,
        {
          path: devicePath,
          baud,
          logFile: logFileName(options.logsDir, devicePath, Date.now()),
          ...(options.reconnectIntervalMs !== undefined && { reconnectIntervalMs: options.reconnectIntervalMs }),
        },
        {
          onData: (data, timeMs) => host.emit('serial:data', { sessionId, data, timeMs }),
          onState: (state, message) => host.emit('serial:state', { sessionId, state, message }),
          onTimeline: (entry) => host.emit('serial:timeline', { sessionId, entry }),
        },
      );
      sessions.set(sessionId, { session, identity });
      return { ...session.info };
    },
    async serialWrite(sessionId, text) {
      await sessionOf(sessionId).type(text);
    },
    async serialClose(sessionId) {
      const entry = sessions.get(sessionId);
      if (!entry) return;
      sessions.delete(sessionId);
      await entry.session.close();
    },
    async serialSessions(): Promise<SerialSessionInfo[]> {
      return [...sessions.values()].map((entry) => ({ ...entry.session.info }));
    },
    async serialTimeline(sessionId) {
      return [...sessionOf(sessionId).timeline.entries];
    },
    async serialSaveLog(sessionId) {
      const saved = await sessionOf(sessionId).flushLog();
      if (!saved)
        throw new ImagerError({
          code: 'NOT_AVAILABLE',
          subject: `serial session ${sessionId}`,
          message: 'This console keeps no log.',
          hint: 'Open the port again from the app.',
        });
      return saved;
    },
    observeTftp(event) {
      for (const entry of sessions.values()) entry.session.tftp(event);
    },
    async dispose() {
      const open = [...sessions.values()];
      sessions.clear();
      await Promise.allSettled(open.map((entry) => entry.session.close()));
    },
  };
}
