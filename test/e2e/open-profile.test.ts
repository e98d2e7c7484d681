// Opening a profile file with the app (`xen-pi-imager ui FILE`, what a double-click does) opens it in the wizard, in dark mode too.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultProfile } from '../../shared/profile/defaults';
import { tempDir } from '../helpers/disk-images';
import { a11yViolations } from './a11y';
import { haveChromium, launchChromium, resultsDir, startBrowserMode, type BrowserModeApp } from './browser';

describe.skipIf(!haveChromium)('a profile file opened with the app', () => {
  const dir = tempDir('xpi-e2e-open-');
  const file = path.join(dir, 'bench-pi.xenpi');
  let app: BrowserModeApp;
  let browser: Browser;

  beforeAll(async () => {
    fs.writeFileSync(
      file,
      JSON.stringify({ ...defaultProfile('qemu-virt'), name: 'Bench QEMU', xen: { version: '4.19', binary: 'xen-4.19-arm64' } }, null, 2),
    );
    app = await startBrowserMode({}, [file]);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('shows up in the wizard, added to the saved profiles, in the system’s dark colours', async () => {
    expect(app.output()).toMatch(/Opened profile "Bench QEMU"/);
    const page = await browser.newPage({ viewport: { width: 1024, height: 700 }, colorScheme: 'dark' });
    page.setDefaultTimeout(10_000);
    await page.goto(app.url);
    await expect.poll(() => page.getByLabel('Profile name').inputValue()).toBe('Bench QEMU');
    await page.getByTestId('profiles').getByText('Bench QEMU').waitFor();
    const background = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    expect(background).toBe('rgb(17, 20, 24)');
    await page.screenshot({ path: path.join(resultsDir, 'open-profile-dark.png'), fullPage: true });
    expect(await a11yViolations(page)).toEqual([]);
    await page
      .getByRole('navigation', { name: 'Wizard steps' })
      .getByRole('button', { name: /Board and Xen/ })
      .click();
    expect(await page.getByTestId('xen-version').inputValue()).toBe('4.19');
    expect(await page.getByTestId('board-qemu-virt').isChecked()).toBe(true);
    await page.screenshot({ path: path.join(resultsDir, 'open-profile-dark-board.png'), fullPage: true });
    expect(await a11yViolations(page)).toEqual([]);
  });
});
