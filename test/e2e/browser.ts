// End-to-end helpers: start the real browser-mode server as a child process, and Debian's Chromium through playwright-core.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const root = path.resolve(__dirname, '../..');
export const resultsDir = path.join(root, 'test-results');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);

export interface BrowserModeApp {
  url: string;
  origin: string;
  token: string;
  home: string;
  output: () => string;
  stop(): Promise<number | null>;
}

/** Runs `xen-pi-imager ui --no-open` from the build and waits for the URL it prints. */
export async function startBrowserMode(env: Record<string, string> = {}, args: string[] = []): Promise<BrowserModeApp> {
  const cli = path.join(root, 'out', 'cli', 'index.mjs');
  if (!existsSync(cli)) throw new Error('The app is not built: run `npm run build` (npm test does it first).');
  const home = mkdtempSync(path.join(os.tmpdir(), 'xpi-e2e-home-'));
  const child: ChildProcess = spawn(process.execPath, [cli, 'ui', '--no-open', ...args], {
    env: { ...process.env, XEN_PI_IMAGER_HOME: home, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`browser mode did not print its URL:\n${output}`)), 15_000);
    const check = () => {
      const match = /Open: (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => reject(new Error(`browser mode exited with ${code}:\n${output}`)));
  });
  const parsed = new URL(url);
  return {
    url,
    origin: parsed.origin,
    token: parsed.searchParams.get('token')!,
    home,
    output: () => output,
    stop: () =>
      new Promise((resolve) => {
        const done = (code: number | null) => {
          rmSync(home, { recursive: true, force: true });
          resolve(code);
        };
        if (child.exitCode !== null) return done(child.exitCode);
        child.once('exit', (code) => done(code));
        child.kill('SIGINT');
      }),
  };
}

export async function launchChromium(): Promise<Browser> {
  mkdirSync(resultsDir, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/** A page of the app at 1024×700, page errors printed, shown once the Start step is there. */
export async function openStartPage(browser: Browser, app: BrowserModeApp): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1024, height: 700 } });
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (error) => console.error('page error:', error));
  await page.goto(app.url);
  await page.getByRole('heading', { name: 'Start' }).waitFor();
  return page;
}

/** After a file's tests: Chromium and the app stopped, the test's own folder removed. */
export async function closeAll(browser: Browser | undefined, app: BrowserModeApp | undefined, work: string): Promise<void> {
  await browser?.close();
  await app?.stop();
  rmSync(work, { recursive: true, force: true });
}
