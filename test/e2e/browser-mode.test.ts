import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { haveChromium, launchChromium, resultsDir, startBrowserMode, type BrowserModeApp } from './browser';

describe.skipIf(!haveChromium)('browser mode in Chromium', () => {
  let app: BrowserModeApp;
  let browser: Browser;

  beforeAll(async () => {
    app = await startBrowserMode();
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    const code = await app?.stop();
    expect(code).toBe(0);
  });

  it('renders the shell with the app info that came over the WebSocket', async () => {
    const page = await browser.newPage({ viewport: { width: 1024, height: 700 } });
    const consoleErrors: string[] = [];
    page.on('console', (message) => message.type() === 'error' && consoleErrors.push(message.text()));
    page.on('pageerror', (error) => consoleErrors.push(String(error)));
    await page.goto(app.url);
    expect(new URL(page.url()).searchParams.has('token')).toBe(false);
    await expect(page.getByRole('heading', { name: 'Xen Pi Imager' }).isVisible()).resolves.toBe(true);
    const transport = page.getByTestId('transport');
    await transport.waitFor();
    expect(await transport.textContent()).toMatch(/Browser mode · v\d+\.\d+\.\d+/);
    expect(await transport.getAttribute('title')).toContain(app.home);
    expect(await page.getByRole('navigation', { name: 'Wizard steps' }).getByRole('button').count()).toBe(8);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
    expect(overflow).toBe(false);
    await page.screenshot({ path: path.join(resultsDir, 'browser-mode-shell.png'), fullPage: true });
    expect(consoleErrors).toEqual([]);
    await page.close();
  });

  it('refuses the page and the WebSocket to a browser without the token', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const response = await page.goto(app.origin + '/');
    expect(response?.status()).toBe(403);
    expect(await page.textContent('body')).toMatch(/token/);
    const opened = await page.evaluate(
      (wsUrl) =>
        new Promise<boolean>((resolve) => {
          const ws = new WebSocket(wsUrl);
          ws.onopen = () => resolve(true);
          ws.onerror = () => resolve(false);
        }),
      app.origin.replace('http', 'ws') + '/api',
    );
    expect(opened).toBe(false);
    await context.close();
  });
});
