// `xen-pi-imager serve`: the built-in TFTP server in the foreground, on a folder or a profile's boot files, logging transfers.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { isIPv4 } from 'node:net';
import type { TftpLimitEvent, TftpTransferEvent } from '../../../shared/api/tftp';
import { ImagerError } from '../../../shared/errors';
import { loadProfileFile } from '../../services/profiles';
import { createTftpServer, formatRate, localAddresses, printable, tftpFilesForProfile, type TftpServerOptions } from '../../services/tftp';
import { parseUdpPort, UsageError, type CliCommand, type CliIO } from '../command';

const usage = `Usage: xen-pi-imager serve (--root DIR | --profile FILE) [--address A] [--port N]

Runs the built-in read-only TFTP server in the foreground until Ctrl-C, logging every transfer:
the Pi's U-Boot asking for boot2.scr, then Xen, the kernel, the device tree. Requests refused or
trimmed by the server's limits are logged too, at most one line per limit every 10 seconds.

Options:
  --root DIR       Serve the files under DIR (nothing outside it: no "..", no symlinks out)
  --profile FILE   Serve a TFTP-mode profile: its generated stage 2 (from memory) and the
                   files it names (Xen, Dom0 kernel and ramdisk, device tree...); relative
                   paths in the profile are relative to its folder, as for generate and try
  --address A      IPv4 address to listen on (default 127.0.0.1, this machine only; give the
                   address the Pi's serverip names, or 0.0.0.0 for every interface)
  --port N         UDP port (default 69, the only port U-Boot uses; needs privileges)
  -h, --help       Show this help`;

/** What to serve: a folder, or a profile's generated files and components. */
function content(
  values: { root?: string | undefined; profile?: string | undefined },
  io: CliIO,
): { options: TftpServerOptions; what: string } {
  if (values.root) {
    const root = path.resolve(io.cwd, values.root);
    if (!fs.statSync(root, { throwIfNoEntry: false })?.isDirectory()) {
      throw new ImagerError({
        code: 'NOT_FOUND',
        subject: root,
        message: `${root} is not a folder.`,
        hint: 'Give --root the folder that holds the boot files.',
      });
    }
    return { options: { root }, what: root };
  }
  const file = path.resolve(io.cwd, values.profile!);
  const profile = loadProfileFile(file);
  // a profile file's relative paths name files next to it, as `generate` and `try` read them
  const served = tftpFilesForProfile(profile, path.dirname(file), io.env);
  for (const warning of served.warnings) io.stderr(`warning: ${warning}\n`);
  const names = [...served.files.keys(), ...served.diskFiles.keys()];
  return { options: { files: served.files, diskFiles: served.diskFiles }, what: `profile "${profile.name}" (${names.join(', ')})` };
}

function describe(event: TftpTransferEvent): string | undefined {
  const who = `${event.client.address}:${event.client.port}`;
  switch (event.kind) {
    case 'request': {
      const options = Object.entries(event.options).map(([name, value]) => `${name} ${value}`);
      return `${who} asks for ${event.file}${options.length ? ` (${options.join(', ')})` : ''}`;
    }
    case 'done':
      return `${who} got ${event.file}: ${event.bytes} bytes in ${(event.ms / 1000).toFixed(2)} s (${formatRate(event.rate)})`;
    case 'error':
      return `${who} cannot have ${event.file}: ${event.why}`;
    case 'progress':
      return event.total ? `${who} ${event.file}: ${Math.floor((event.bytes * 100) / Math.max(event.total, 1))}%` : undefined;
  }
}

/** A limit the server applied; held-back hits of the same limit are counted, not printed one by one. */
function describeLimit(event: TftpLimitEvent): string {
  return `limit: ${event.message}${event.suppressed > 0 ? ` (and ${event.suppressed} more like it since the last notice)` : ''}`;
}

export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'Run the built-in TFTP server on a folder or a profile, until Ctrl-C',
  usage,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: { root: { type: 'string' }, profile: { type: 'string' }, address: { type: 'string' }, port: { type: 'string' } },
      strict: true,
    });
    if (Boolean(values.root) === Boolean(values.profile)) throw new UsageError('Give exactly one of --root DIR or --profile FILE.');
    const address = values.address ?? '127.0.0.1';
    if (!isIPv4(address)) throw new UsageError(`--address must be an IPv4 address, not "${address}".`);
    const port = parseUdpPort('--port', values.port);
    const { options, what } = content(values, io);

    // progress lines only on a terminal, at most every 2 s per transfer
    const server = createTftpServer({ ...options, address, port, progressIntervalMs: 2000 });
    const time = () => new Date().toTimeString().slice(0, 8);
    for (const kind of ['request', 'done', 'error', ...(io.isTTY ? ['progress' as const] : [])] as const) {
      server.on(kind, (event: TftpTransferEvent) => {
        const line = describe(event);
        // the server escapes what clients send already; a line reaching the terminal is escaped once more regardless
        if (line) (event.kind === 'error' ? io.stderr : io.stdout)(`${time()} ${printable(line)}\n`);
      });
    }
    server.on('limit', (event) => io.stderr(`${time()} ${printable(describeLimit(event))}\n`));
    const stopped = new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    const bound = await server.listen();
    io.stdout(`Serving ${what} over TFTP on ${bound.address}:${bound.port}. Press Ctrl-C to stop.\n`);
    if (bound.address === '127.0.0.1') {
      const lan = localAddresses()
        .filter((entry) => !entry.internal)
        .map((entry) => `${entry.address} (${entry.interface})`);
      if (lan.length > 0) io.stdout(`Only this machine can reach it; for a Raspberry Pi, pass --address with one of: ${lan.join(', ')}.\n`);
    }
    await stopped;
    await server.close();
    io.stdout('TFTP server stopped.\n');
    return 0;
  },
};
