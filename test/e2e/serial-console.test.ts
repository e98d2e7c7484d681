// The serial console in Chromium through browser mode: opened from the Start step on a pty (the host holds the port, the
// page sees bytes over the contract), a boot shown in the terminal and on the timeline with the TFTP server's transfers,
// keystrokes and Xen's input switch reaching the board, the log saved; screenshots in both themes.
// Binds port 69 for the TFTP server: run it inside `unshare -n` (as root) like the other port-binding tests.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { SerialPort } from 'serialport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { findExecutable } from '../../electron/node/host-tools';
import { haveSocat, startPtyPair, type PtyPair } from '../helpers/pty-pair';
import { a11yViolations } from './a11y';
import { haveChromium, launchChromium, resultsDir, startBrowserMode, type BrowserModeApp } from './browser';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '../shared/emulator/fixtures', `${name}.console.txt`), 'latin1');
const canBind69 = process.getuid?.() === 0 && findExecutable('curl') !== undefined;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'xpi-e2e-serial-'));

let app: BrowserModeApp;
let browser: Browser;
let page: Page;
let pair: PtyPair;
let board: SerialPort;
const atBoard: Buffer[] = [];
const cspViolations: string[] = [];

/** Calls one contract method over the app's WebSocket, as the page does (token in the URL). */
function call(method: string, ...args: unknown[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${new URL(app.url).port}/api`, {
      headers: { cookie: `xpi_token=${app.token}`, origin: app.origin },
    });
    ws.on('error', reject);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'call', id: 1, method, args })));
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; ok?: boolean; value?: unknown; error?: unknown };
      if (message.type !== 'reply') return;
      ws.close();
      if (message.ok) resolve(message.value);
      else reject(message.error);
    });
  });
}

async function until(test: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const started = Date.now();
  while (!(await test())) {
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const terminalText = () => page.locator('[data-testid="serial-terminal"] .xterm-rows').innerText();

describe.skipIf(!haveChromium || !haveSocat)('the serial console in the app (browser mode, Chromium)', () => {
  beforeAll(async () => {
    pair = await startPtyPair(work);
    board = await new Promise<SerialPort>((resolve, reject) => {
      const port = new SerialPort({ path: pair.board, baudRate: 115200, autoOpen: false, lock: false });
      port.open((error) => (error ? reject(error) : resolve(port)));
    });
    board.on('data', (bytes: Buffer) => atBoard.push(bytes));
    app = await startBrowserMode();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (error) => console.error('page error:', error));
    page.on('console', (message) => {
      if (/Content Security Policy|Content-Security-Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    await page.goto(app.url);
    await page.getByRole('heading', { name: 'Start' }).waitFor();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await new Promise<void>((resolve) => (board?.isOpen ? board.close(() => resolve()) : resolve()));
    await pair?.unplug();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('keeps the port list and the console behind the token', async () => {
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${new URL(app.url).port}/api`, { headers: { origin: app.origin } });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
    });
    expect(refused).toBe(403);
    expect(Array.isArray(await call('serialPorts'))).toBe(true);
  });

  it('opens the console on a pty from the Start step and shows the boot in the terminal and on the timeline', async () => {
    await page.getByTestId('start-open-console').click();
    await page.getByRole('heading', { name: 'Serial console' }).waitFor();
    await page.getByTestId('serial-path').fill(pair.adapter);
    await expect(page.getByTestId('serial-baud').inputValue()).resolves.toBe('115200');
    await page.getByTestId('serial-open').click();
    await page.getByTestId('serial-state').getByText('Connected').waitFor();
    if (canBind69) {
      // the TFTP server of the Network step, serving a folder; a TFTP client plays the Pi's U-Boot
      fs.mkdirSync(path.join(work, 'tftp'));
      fs.writeFileSync(path.join(work, 'tftp', 'boot2.scr'), Buffer.alloc(3000, 7));
      await call('tftpStart', { root: path.join(work, 'tftp'), port: 69 });
    }
    const log = fixture('boot-ok');
    const xen = log.indexOf('Starting kernel');
    board.write(Buffer.from(log.slice(0, xen), 'latin1'));
    if (canBind69) execFileSync('curl', ['-s', '-o', path.join(work, 'got.scr'), 'tftp://127.0.0.1/boot2.scr']);
    board.write(Buffer.from(log.slice(xen), 'latin1'));
    const timeline = page.getByTestId('serial-timeline');
    await timeline.getByText(/Dom0 userspace started/).waitFor();
    await until(async () => (await terminalText()).includes('XEN-PI-IMAGER-DOM0 powering off'), 'the end of the boot in the terminal');
    const text = await terminalText();
    expect(text).toContain('Booting Linux on physical CPU'); // U-Boot's lines are in the scrollback by now (searched below)
    expect(text).toContain('(XEN) Xen version 4.17');
    expect(await timeline.textContent()).toMatch(/U-Boot 2023\.01\S* started[\s\S]*Xen 4\.17\.\d+ started[\s\S]*Dom0 Linux started/);
    if (canBind69) await timeline.getByText(/boot2\.scr: 2\.9 KiB in [\d.]+ s \([\d.]+ [KM]iB\/s\)$/).waitFor();
    expect(await page.getByTestId('serial-tftp').textContent()).toMatch(canBind69 ? /is running/ : /is not running/);
  });

  it('sends what is typed, and Ctrl-A three times from the Xen/Dom0 button, to the board', async () => {
    atBoard.length = 0;
    await page.getByTestId('serial-terminal').click();
    await page.keyboard.type('xl list');
    await page.keyboard.press('Enter');
    await until(() => Buffer.concat(atBoard).toString() === 'xl list\r', 'the keystrokes at the board');
    atBoard.length = 0;
    board.write("(XEN) *** Serial input to Xen (type 'CTRL-a' three times to switch input)\r\n");
    await page.getByTestId('xen-input').getByText('Xen has the input').waitFor();
    await page.getByTestId('xen-switch').click();
    await until(() => Buffer.concat(atBoard).equals(Buffer.from('\x01\x01\x01')), 'Ctrl-A three times at the board');
    board.write("(XEN) *** Serial input to DOM0 (type 'CTRL-a' three times to switch input)\r\n");
    await page.getByTestId('xen-input').getByText('Dom0 has the input').waitFor();
  });

  it('looks right in the light and the dark theme, passes axe, and needs no weaker Content-Security-Policy', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.waitForTimeout(200);
      await page.getByTestId('serial-console').screenshot({ path: path.join(resultsDir, `serial-console-${scheme}.png`) });
      const background = await page
        .locator('[data-testid="serial-terminal"] .xterm-scrollable-element')
        .evaluate((element) => getComputedStyle(element).backgroundColor);
      expect(background).toBe(scheme === 'dark' ? 'rgb(11, 14, 18)' : 'rgb(255, 255, 255)');
    }
    await page.emulateMedia({ colorScheme: 'light' });
    expect(await a11yViolations(page)).toEqual([]);
    // xterm's own style elements are refused by the CSP; their rules reach the page as adopted style sheets instead
    expect(await page.evaluate(() => document.adoptedStyleSheets.length)).toBeGreaterThan(0);
    const rows = page.locator('[data-testid="serial-terminal"] .xterm-rows > div').first();
    expect(await rows.evaluate((element) => getComputedStyle(element).height)).not.toBe('auto');
    expect(cspViolations.filter((text) => !/Applying inline style violates/.test(text))).toEqual([]);
  });

  it('finds text in the scrollback and saves the log with every line’s time', async () => {
    const search = page.getByTestId('serial-terminal-search');
    await search.fill('Hit any key to stop autoboot');
    await search.press('Enter');
    // found in the scrollback: the terminal scrolled up to it
    await until(async () => (await terminalText()).includes('Hit any key to stop autoboot'), 'the search to scroll to U-Boot');
    expect(await page.getByText('is not in the console').count()).toBe(0);
    await search.fill('no such words on this console');
    await search.press('Enter');
    await page.getByText('“no such words on this console” is not in the console.').waitFor();
    await page.getByTestId('serial-save-log').click();
    const saved = await page.getByTestId('serial-saved').locator('code').textContent();
    expect(saved).toMatch(/serial-adapter-.*\.log$/);
    const lines = fs.readFileSync(saved!, 'latin1').split('\n').filter(Boolean);
    expect(lines.find((line) => line.includes('(XEN) Xen version'))).toMatch(/^\[\d{4}-\d\d-\d\dT[\d:.]+Z\] \(XEN\) Xen version 4\.17/);
  });

  it('says the adapter went away when it is unplugged', async () => {
    await new Promise<void>((resolve) => board.close(() => resolve()));
    await pair.unplug();
    await page.getByText(/went away \(unplugged\?\): the console waits for it/).waitFor();
    await page.getByTestId('serial-state').getByText('Adapter unplugged').waitFor();
    await page.getByTestId('serial-console').screenshot({ path: path.join(resultsDir, 'serial-console-unplugged.png') });
    await page.getByTestId('serial-close').click();
    await page.getByTestId('serial-open').waitFor();
  });
});
