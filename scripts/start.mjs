// `npm start`: the desktop app when Electron's binary is here (and a display), otherwise browser mode.
// `npm start -- --browser` forces browser mode; other arguments go to the app.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const forceBrowser = args.includes('--browser');
const rest = args.filter((a) => a !== '--browser');

function electronBinary() {
  try {
    // the electron package exports the binary's path, and throws when the binary was never downloaded
    const binary = createRequire(import.meta.url)('electron');
    return typeof binary === 'string' && existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}

const hasDisplay = process.platform !== 'linux' || Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
const binary = forceBrowser ? undefined : electronBinary();
let child;
if (binary && hasDisplay) {
  child = spawn(binary, [root, ...rest], { stdio: 'inherit' });
} else {
  if (!forceBrowser) {
    console.log(
      binary
        ? 'No display found: starting browser mode instead of the desktop window.'
        : "Electron's binary is not installed here: starting browser mode (the same app, in your browser).",
    );
  }
  child = spawn(process.execPath, [path.join(root, 'out', 'cli', 'index.mjs'), 'ui', ...rest], { stdio: 'inherit' });
}
// Ctrl-C reaches the child through the terminal's process group; just wait for it.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => undefined);
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
