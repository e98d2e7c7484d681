// `xen-pi-imager ui`: browser mode — the app's UI served on 127.0.0.1 with the same services, for machines without Electron.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { appRoot, createServices } from '../../services';
import { createEventHub } from '../../services/events';
import { findExecutable } from '../../node/host-tools';
import { startWebServer } from '../../web/server';
import { UsageError, type CliCommand } from '../command';

const usage = `Usage: xen-pi-imager ui [--port N] [--no-open] [PROFILE_FILE]

Serves the app's UI on http://127.0.0.1 (loopback only) for a browser ("browser mode"),
with the same services as the desktop app. The printed URL carries a random token that
every request needs; keep it to yourself. Ctrl-C stops the server.
A PROFILE_FILE given is added to the saved profiles and opened in the wizard.

Options:
  --port N     Listen on port N (default: a free port)
  --no-open    Do not open the system browser
  -h, --help   Show this help`;

export const serveUiCommand: CliCommand = {
  name: 'ui',
  summary: 'Serve the UI in a browser on 127.0.0.1 (browser mode)',
  usage,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { port: { type: 'string' }, 'no-open': { type: 'boolean', default: false } },
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length > 1) throw new UsageError('Give at most one profile file to open.');
    const port = values.port === undefined ? 0 : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError(`--port must be a number from 0 to 65535, not "${values.port}".`);

    const events = createEventHub();
    const services = createServices({
      transport: 'browser',
      emit: events.emit,
      openExternal: async (url) => openInBrowser(url),
    });
    if (positionals[0]) {
      // before the server starts, so a bad file fails fast and the page finds it waiting
      const opened = await services.openProfileFile(path.resolve(io.cwd, positionals[0]));
      io.stdout(`Opened profile "${opened.name}" (saved as ${opened.file}).\n`);
    }
    const server = await startWebServer({ services, events, staticDir: path.join(appRoot, 'out', 'renderer'), port });
    io.stdout(`Xen Pi Imager is running in browser mode.\nOpen: ${server.url}\nPress Ctrl-C to stop.\n`);
    if (!values['no-open'] && !io.env.CI) openInBrowser(server.url);

    await new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    io.stdout('Stopping…\n');
    await server.close();
    await services.dispose();
    return 0;
  },
};

/** Opens a URL in the system browser when there is one; quietly does nothing on a headless machine. */
function openInBrowser(url: string): void {
  const opener =
    process.platform === 'darwin'
      ? { cmd: 'open', args: [url] }
      : process.platform === 'win32'
        ? { cmd: 'cmd', args: ['/c', 'start', '""', url] }
        : process.env.DISPLAY || process.env.WAYLAND_DISPLAY
          ? { cmd: 'xdg-open', args: [url] }
          : undefined;
  if (!opener || (process.platform === 'linux' && !findExecutable(opener.cmd))) return;
  const child = spawn(opener.cmd, opener.args, { stdio: 'ignore', detached: true });
  child.on('error', () => undefined);
  child.unref();
}
