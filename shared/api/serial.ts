// The serial console as the UI sees it: the USB-UART adapters this machine has, one open port per session streaming
// bytes both ways, its state (lost when unplugged, back when plugged in again), its log, and its boot timeline.
import { z } from 'zod';
import type { TimelineEntry } from '../console/timeline';
import { event, method } from './contract';

export type { TimelineEntry } from '../console/timeline';

export interface SerialPortInfo {
  /** The device node: /dev/ttyUSB0, /dev/ttyACM0, COM3. */
  path: string;
  /** The stable name udev gives the adapter (/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0), when it has one. */
  byId?: string;
  /** What to open: the by-id name when there is one (it survives replugging into another USB socket), else `path`. */
  openPath: string;
  /** What a user recognises: "FTDI FT232R USB UART (ttyUSB0)". */
  label: string;
  /** The adapter's chip family when it is one of the usual ones (FTDI, CP210x, CH340, PL2303). */
  chip?: string;
  manufacturer?: string;
  product?: string;
  serialNumber?: string;
  vendorId?: string;
  productId?: string;
  /** When its device node appeared (milliseconds since the epoch): when it was plugged in. */
  pluggedInAt?: number;
  /** The adapter plugged in last: the one the console opens unless told otherwise. */
  newest: boolean;
}

/** open: bytes flow; lost: the adapter went away (unplugged) and the session waits for it to come back; closed: ended. */
export type SerialState = 'open' | 'lost' | 'closed';

export interface SerialSessionInfo {
  sessionId: number;
  path: string;
  baud: number;
  state: SerialState;
  /** Milliseconds since the epoch; timeline times count from here. */
  openedAt: number;
  /** The session's log, every line with the time it arrived. */
  logPath?: string;
  /** Which side has the keyboard under Xen, from Xen's own "Serial input to …" line (Ctrl-A three times switches it). */
  xenInput?: string;
}

export interface SerialDataEvent {
  sessionId: number;
  /** The bytes as they came, one character per byte (latin1): the terminal decodes them as UTF-8. */
  data: string;
  /** Milliseconds since the session opened. */
  timeMs: number;
}

export interface SerialStateEvent {
  sessionId: number;
  state: SerialState;
  /** For a person: "The adapter on /dev/ttyUSB0 went away (unplugged?): waiting for it to come back." */
  message: string;
}

export interface SerialTimelineEvent {
  sessionId: number;
  entry: TimelineEntry;
}

export interface SerialSavedLog {
  path: string;
  bytes: number;
}

export const serialOpenSchema = z.object({
  /** A device path from serialPorts (its openPath), or any tty: a pty, /dev/ttyAMA0. */
  path: z.string().min(1).max(4096),
  /** Bits per second; 8N1, no flow control. Default 115200 (what the profile's console uses unless changed). */
  baud: z.number().int().min(50).max(4_000_000).optional(),
});

export type SerialOpenOptions = z.infer<typeof serialOpenSchema>;

const sessionId = z.number().int().min(1);

export const serialMethods = {
  /** The serial ports this machine has, the adapter plugged in last first. */
  serialPorts: method(z.tuple([])).returns<SerialPortInfo[]>(),
  /** Opens a port (one owner per port); bytes arrive as serial:data events. */
  serialOpen: method(z.tuple([serialOpenSchema])).returns<SerialSessionInfo>(),
  /** Sends keystrokes: the text is written as UTF-8 (at most 64 KiB per call). */
  serialWrite: method(z.tuple([sessionId, z.string().max(65_536)])).returns<void>(),
  /** Ends the session and releases the port; its log stays. */
  serialClose: method(z.tuple([sessionId])).returns<void>(),
  /** The open sessions (a page loaded again finds its console). */
  serialSessions: method(z.tuple([])).returns<SerialSessionInfo[]>(),
  /** The session's timeline so far. */
  serialTimeline: method(z.tuple([sessionId])).returns<TimelineEntry[]>(),
  /** Writes out what the session's log holds so far (every line with its time) and says where it is. */
  serialSaveLog: method(z.tuple([sessionId])).returns<SerialSavedLog>(),
};

export const serialEvents = {
  'serial:data': event<SerialDataEvent>(),
  'serial:state': event<SerialStateEvent>(),
  /** A milestone, a TFTP transfer, a failure, a stall or a switch of Xen's input, in the order they happened. */
  'serial:timeline': event<SerialTimelineEvent>(),
};
