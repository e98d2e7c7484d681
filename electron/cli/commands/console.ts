// `xen-pi-imager console`: the board's serial console in this terminal (raw mode, Ctrl-] quits), its boot timeline,
// JSON lines of milestones for scripts, and an exit status for board farms (`--until userspace`).
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { SerialState } from '../../../shared/api/serial';
import type { TimelineEntry } from '../../../shared/console/timeline';
import { ImagerError } from '../../../shared/errors';
import { isIPv4 } from 'node:net';
import type { TftpTransferEvent } from '../../../shared/api/tftp';
import { loadProfileFile } from '../../services/profiles';
import { DEFAULT_BAUD, listSerialPorts, openConsoleSession } from '../../services/serial';
import { createTftpServer, printable, tftpFilesForProfile, type TftpServer } from '../../services/tftp';
import { parseUdpPort, UsageError, type CliCommand, type CliIO } from '../command';

const usage = `Usage: xen-pi-imager console [--port PATH] [--baud N] [--log FILE] [--timeline] [--json] [--until userspace] [--timeout S]
                              [--serve PROFILE [--address A] [--tftp-port N]]

The board's serial console in this terminal: what U-Boot, Xen and Dom0 print, and your keystrokes to
them (8N1, no flow control). On a terminal the keyboard goes to the board as it is typed (raw mode:
Ctrl-C reaches the board); Ctrl-] quits. Piped input is sent to the board as it comes. An adapter that
is unplugged is waited for, and the console carries on when it is back.

Options:
  --port PATH        The serial port (default: the USB-UART adapter plugged in last); any tty works,
                     /dev/serial/by-id/... names survive replugging
  --baud N           Bits per second (default 115200, what the profile's console uses unless changed)
  --log FILE         Also write the session to FILE, every line with the time it arrived
  --timeline         Print the boot's milestones as they are reached (on stderr, between the lines)
  --json             Print JSON lines of the timeline (milestones, failures, stalls) and of the
                     port's state instead of the console text
  --until userspace  Exit once Dom0 userspace is reached (status 0), or when the boot fails (status 1)
  --timeout S        With --until: give up after S seconds (status 1)
  --serve PROFILE    Also serve a TFTP-mode profile's boot files (as \`serve --profile\` does) from this
                     process, so the timeline shows each transfer beside the console's milestones; the
                     baud rate defaults to the profile's
  --address A        With --serve: the IPv4 address to serve on (default: the profile's serverIp)
  --tftp-port N      With --serve: the UDP port (default 69, the only port U-Boot uses)
  -h, --help         Show this help`;

/** Ctrl-]: telnet's and picocom's escape; the board never needs it. */
const QUIT_KEY = 0x1d;

function parseBaud(text: string | undefined): number {
  if (text === undefined) return DEFAULT_BAUD;
  const baud = Number(text);
  if (!/^\d+$/.test(text) || baud < 50 || baud > 4_000_000)
    throw new UsageError(`--baud must be a whole number of bits per second (such as 115200), not "${text}".`);
  return baud;
}

function parseTimeout(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const seconds = Number(text);
  if (!/^\d+$/.test(text) || seconds < 1) throw new UsageError(`--timeout must be a whole number of seconds, not "${text}".`);
  return seconds;
}

async function defaultPort(): Promise<string> {
  const ports = await listSerialPorts();
  const chosen = ports.find((port) => port.newest) ?? ports.find((port) => port.vendorId !== undefined);
  if (!chosen) {
    throw new ImagerError({
      code: 'NOT_FOUND',
      subject: 'serial port',
      message: 'No USB-UART adapter is plugged into this computer.',
      hint: `Plug one in (wired to the Pi's GPIO 14/15 and ground), or name a port with --port PATH${ports.length ? ` (this machine has ${ports.map((p) => p.path).join(', ')})` : ''}.`,
    });
  }
  return chosen.openPath;
}

/** One timeline entry as a line for a person: "  12.3 s  Xen 4.17.5 started". */
export function describeEntry(entry: TimelineEntry): string {
  const at = `${(entry.timeMs / 1000).toFixed(1).padStart(6)} s  `;
  switch (entry.kind) {
    case 'milestone':
      return `${at}${entry.milestone.label}`;
    case 'transfer':
    case 'input':
    case 'new-boot':
      return `${at}${entry.label}`;
    case 'stall':
      return `${at}${entry.label}. ${entry.hint}`;
    case 'failure':
      return `${at}FAIL: ${entry.diagnosis.message}${entry.diagnosis.line ? `\n          console: ${entry.diagnosis.line}` : ''}\n          ${entry.diagnosis.hint}`;
  }
}

export const consoleCommand: CliCommand = {
  name: 'console',
  summary: 'The board’s serial console in this terminal, with its boot timeline (Ctrl-] quits)',
  usage,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        baud: { type: 'string' },
        log: { type: 'string' },
        timeline: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        until: { type: 'string' },
        timeout: { type: 'string' },
        serve: { type: 'string' },
        address: { type: 'string' },
        'tftp-port': { type: 'string' },
      },
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length) throw new UsageError(`Unexpected argument "${positionals[0]}".`);
    if (values.until !== undefined && values.until !== 'userspace')
      throw new UsageError(`--until takes "userspace" (Dom0's first program ran), not "${values.until}".`);
    if (!values.serve && (values.address !== undefined || values['tftp-port'] !== undefined))
      throw new UsageError('--address and --tftp-port go with --serve PROFILE.');
    const served = values.serve ? serveProfile(path.resolve(io.cwd, values.serve), values.address, values['tftp-port'], io) : undefined;
    const baud = values.baud === undefined && served ? served.baud : parseBaud(values.baud);
    const timeoutSeconds = parseTimeout(values.timeout);
    if (timeoutSeconds !== undefined && values.until === undefined) throw new UsageError('--timeout goes with --until userspace.');
    const port = values.port ? path.resolve(io.cwd, values.port) : await defaultPort();
    return runConsole(io, {
      port,
      baud,
      json: values.json,
      timeline: values.timeline,
      until: values.until === 'userspace',
      ...(values.log && { log: path.resolve(io.cwd, values.log) }),
      ...(timeoutSeconds && { timeoutSeconds }),
      ...(served && { served }),
    });
  },
};

interface Served {
  baud: number;
  server: TftpServer;
  address: string;
  port: number;
  what: string;
}

/** The profile's boot files over TFTP, as `serve --profile` serves them; listening starts with the console. */
function serveProfile(file: string, address: string | undefined, portText: string | undefined, io: CliIO): Served {
  const profile = loadProfileFile(file);
  if (profile.boot.mode !== 'tftp' || !profile.boot.network) {
    throw new UsageError(`${path.basename(file)} boots from the card (SD-only): there is nothing to serve over TFTP. Leave out --serve.`);
  }
  const listenOn = address ?? profile.boot.network.serverIp;
  if (listenOn === undefined)
    throw new UsageError(
      `${path.basename(file)} takes the TFTP server from DHCP: give --address with this computer's address on the Pi's network.`,
    );
  if (!isIPv4(listenOn)) throw new UsageError(`--address must be an IPv4 address, not "${listenOn}".`);
  const port = parseUdpPort('--tftp-port', portText);
  const files = tftpFilesForProfile(profile, path.dirname(file), io.env);
  for (const warning of files.warnings) io.stderr(`warning: ${warning}\n`);
  const server = createTftpServer({ files: files.files, diskFiles: files.diskFiles, address: listenOn, port });
  return { baud: profile.console.baud, server, address: listenOn, port, what: `profile "${profile.name}"` };
}

interface ConsoleRun {
  port: string;
  baud: number;
  log?: string;
  json: boolean;
  timeline: boolean;
  until: boolean;
  timeoutSeconds?: number;
  served?: Served;
}

async function runConsole(io: CliIO, run: ConsoleRun): Promise<number> {
  const decoder = new TextDecoder('utf-8');
  let done = false;
  let resolveFinished: (status: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => (resolveFinished = resolve));
  const finish = (status: number) => {
    done = true;
    resolveFinished(status);
  };
  const json = (record: object) => io.stdout(`${JSON.stringify(record)}\n`);
  const note = (text: string) => io.stderr(`${io.isTTY ? '\r\n' : ''}[console] ${text}${io.isTTY ? '\r\n' : '\n'}`);
  const onTimeline = (entry: TimelineEntry) => {
    if (done) return; // what follows the verdict in the same chunk is not part of it
    if (run.json) json({ type: 'timeline', entry });
    else if (run.timeline) note(describeEntry(entry));
    if (!run.until) return;
    if (entry.kind === 'milestone' && entry.milestone.kind === 'dom0-userspace') finish(0);
    if (entry.kind === 'failure') finish(1);
  };
  const session = await openConsoleSession(
    1,
    { path: run.port, baud: run.baud, ...(run.log && { logFile: run.log }) },
    {
      // a console line may hold anything the board (or whoever is on the line) sends: bytes go to the terminal as they
      // are, which is what a terminal program does; only the JSON mode leaves them out
      onData: (data) => {
        if (!run.json) io.stdout(decoder.decode(Buffer.from(data, 'latin1'), { stream: true }));
      },
      onState: (state: SerialState, message: string) => (run.json ? json({ type: 'state', state, message }) : note(printable(message))),
      onTimeline,
    },
  );
  const served = run.served;
  if (served) {
    for (const kind of ['request', 'progress', 'done', 'error'] as const)
      served.server.on(kind, (event: TftpTransferEvent) => session.tftp(event));
    try {
      const bound = await served.server.listen();
      note(`Serving ${served.what} over TFTP on ${bound.address}:${bound.port}.`);
    } catch (error) {
      await session.close();
      throw error;
    }
  }
  const input = io.stdin;
  const raw = Boolean(input?.isTTY && input.setRawMode);
  const onInput = (chunk: Buffer) => {
    if (raw && chunk.includes(QUIT_KEY)) return finish(0);
    session.type(chunk.toString('utf8')).catch((error: unknown) => note(error instanceof Error ? error.message : String(error)));
  };
  if (input) {
    if (raw) input.setRawMode!(true);
    input.on('data', onInput);
    input.resume();
  }
  const connected = `Connected to ${run.port} at ${run.baud} 8N1.`;
  if (run.json) json({ type: 'state', state: 'open', message: connected });
  else note(`${connected}${raw ? ' Ctrl-] quits.' : ' Ctrl-C quits.'}`);
  const onAbort = () => finish(run.until ? 130 : 0);
  io.signal.addEventListener('abort', onAbort, { once: true });
  if (io.signal.aborted) onAbort();
  const timer = run.timeoutSeconds
    ? setTimeout(() => {
        const last = session.timeline.current.last;
        const message = `Dom0 userspace was not reached within ${run.timeoutSeconds} s${last ? ` (last: ${last.label})` : ' (the board printed no milestone)'}.`;
        if (run.json) json({ type: 'timeout', message });
        else note(message);
        finish(1);
      }, run.timeoutSeconds * 1000)
    : undefined;
  const status = await finished;
  clearTimeout(timer);
  io.signal.removeEventListener('abort', onAbort);
  if (input) {
    input.removeListener('data', onInput);
    if (raw) input.setRawMode!(false);
    input.pause();
  }
  await session.close();
  await served?.server.close();
  if (!run.json) note(`Closed ${run.port}.${run.log ? ` The log is in ${run.log}.` : ''}`);
  return status;
}
