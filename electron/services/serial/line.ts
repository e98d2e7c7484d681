// One serial line held open: 8N1 at a baud rate, no flow control, bytes both ways; when the adapter goes away it says
// so and opens it again as soon as it is back. Open errors become sentences that name the fix.
import fs from 'node:fs';
import { SerialPort } from 'serialport';
import { ImagerError } from '../../../shared/errors';
import type { SerialState } from '../../../shared/api/serial';
import { serialBinding } from './binding';

export interface SerialLineOptions {
  path: string;
  baud: number;
  /** How often to look for an unplugged adapter coming back. */
  reconnectIntervalMs?: number;
}

export interface SerialLineHandlers {
  onData: (bytes: Buffer) => void;
  onState: (state: SerialState, message: string) => void;
}

export interface SerialLine {
  readonly state: SerialState;
  write(bytes: Buffer): Promise<void>;
  close(): Promise<void>;
}

/** Keystrokes not yet sent are bounded: a line that does not drain (flow stopped, adapter stuck) refuses more. */
const MAX_PENDING_WRITE_BYTES = 1024 * 1024;

/** The group that owns a device node, by name when /etc/group says it ("dialout", "uucp"). */
function groupOf(devicePath: string): string | undefined {
  try {
    const gid = fs.statSync(devicePath).gid;
    const line = fs
      .readFileSync('/etc/group', 'utf8')
      .split('\n')
      .find((entry) => entry.split(':')[2] === String(gid));
    return line?.split(':')[0] ?? String(gid);
  } catch {
    return undefined;
  }
}

/** serialport's open errors ("Error: Permission denied, cannot open /dev/ttyUSB0") as errors a newcomer can act on. */
export function openError(devicePath: string, error: Error): ImagerError {
  const text = error.message;
  if (/Cannot lock port|Resource temporarily unavailable|Device or resource busy/i.test(text)) {
    return new ImagerError({
      code: 'BUSY',
      subject: devicePath,
      message: `Another program has ${devicePath} open (minicom, screen, PuTTY, or another console of this app), so the console cannot use it.`,
      hint: 'Close the serial port in that program, then open the console again.',
    });
  }
  if (/Permission denied|EACCES|Operation not permitted/i.test(text)) {
    const group = groupOf(devicePath) ?? 'dialout';
    return new ImagerError({
      code: 'PERMISSION_DENIED',
      subject: devicePath,
      message: `You are not allowed to open ${devicePath}: serial ports belong to the ${group} group, and your user is not in it.`,
      hint:
        process.platform === 'linux'
          ? `Run \`sudo usermod -aG ${group} $USER\` once, then log out and back in; the app itself never needs sudo.`
          : 'Give your user access to the serial port (or close the program holding it), then open the console again.',
    });
  }
  if (/No such file|ENOENT|cannot find|File not found/i.test(text)) {
    return new ImagerError({
      code: 'NOT_FOUND',
      subject: devicePath,
      message: `There is no serial port at ${devicePath}.`,
      hint: 'Plug the USB-UART adapter in and pick it from the list of ports (it may have a new name after replugging).',
    });
  }
  return new ImagerError({
    code: 'IO_ERROR',
    subject: devicePath,
    message: `${devicePath} could not be opened as a serial port: ${text.replace(/^Error:\s*/, '')}.`,
    hint: 'Check that this is the USB-UART adapter’s port, unplug it and plug it back in, then try again.',
  });
}

function openPort(options: SerialLineOptions): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const settings = {
      // serialport's binding with its spin on a hung-up line fixed (see binding.ts)
      binding: serialBinding,
      path: options.path,
      baudRate: options.baud,
      dataBits: 8,
      stopBits: 1,
      parity: 'none',
      rtscts: false,
      xon: false,
      xoff: false,
      hupcl: false,
      lock: true,
      autoOpen: false,
    };
    const port = new SerialPort(settings);
    port.open((error) => (error ? reject(openError(options.path, error)) : resolve(port)));
  });
}

/** Opens the line; rejects with a clear error when it cannot (busy, no permission, no such port). */
export async function openSerialLine(options: SerialLineOptions, handlers: SerialLineHandlers): Promise<SerialLine> {
  const interval = options.reconnectIntervalMs ?? 500;
  let port: SerialPort | undefined = await openPort(options);
  let state: SerialState = 'open';
  let retry: NodeJS.Timeout | undefined;

  const setState = (next: SerialState, message: string) => {
    state = next;
    handlers.onState(next, message);
  };

  const attach = (opened: SerialPort) => {
    opened.on('data', (bytes: Buffer) => handlers.onData(bytes));
    // an error after open (a failed write) must not crash the host; a lost device arrives as close(disconnected)
    opened.on('error', () => undefined);
    opened.on('close', (error: (Error & { disconnected?: boolean }) | null) => {
      if (opened !== port || state === 'closed') return;
      port = undefined;
      setState(
        'lost',
        `${options.path} went away${error?.disconnected ? ' (unplugged?)' : ''}: the console waits for it and carries on when it is back.`,
      );
      retry = setTimeout(reconnect, interval);
    });
  };

  const reconnect = () => {
    retry = undefined;
    if (state === 'closed') return;
    const tryAgain = () => {
      if (state !== 'closed') retry = setTimeout(reconnect, interval);
    };
    if (!fs.existsSync(options.path)) return tryAgain();
    openPort(options).then(
      (opened) => {
        if (state === 'closed') {
          opened.close(() => undefined);
          return;
        }
        port = opened;
        attach(opened);
        setState('open', `${options.path} is back: the console carries on.`);
      },
      // udev may not have set the node's permissions yet, or another program grabbed it: keep looking
      tryAgain,
    );
  };

  attach(port);
  return {
    get state() {
      return state;
    },
    write(bytes) {
      const current = port;
      if (!current || state !== 'open') {
        return Promise.reject(
          new ImagerError({
            code: 'NOT_AVAILABLE',
            subject: options.path,
            message: `${options.path} is unplugged: nothing can be sent to the board.`,
            hint: 'Plug the adapter back in; the console reconnects by itself.',
          }),
        );
      }
      if (current.writableLength > MAX_PENDING_WRITE_BYTES) {
        return Promise.reject(
          new ImagerError({
            code: 'BUSY',
            subject: options.path,
            message: `${options.path} is not taking the bytes sent to it.`,
            hint: 'Check the adapter and the wiring (TX to the Pi’s RX), then type again.',
          }),
        );
      }
      return new Promise((resolve, reject) =>
        current.write(bytes, (error) => (error ? reject(openError(options.path, error)) : resolve())),
      );
    },
    close() {
      if (state === 'closed') return Promise.resolve();
      const current = port;
      port = undefined;
      clearTimeout(retry);
      setState('closed', `${options.path} is closed.`);
      if (!current?.isOpen) return Promise.resolve();
      return new Promise((resolve) => current.close(() => resolve()));
    },
  };
}
