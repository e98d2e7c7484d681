// Importing a profile file in the page: a file far too large for a profile is refused with a sentence, and the app goes on working.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultProfile } from '../../shared/profile/defaults';
import { tempDir } from '../helpers/disk-images';
import { closeAll, haveChromium, launchChromium, openStartPage, startBrowserMode, type BrowserModeApp } from './browser';

describe.skipIf(!haveChromium)('importing a profile file in the page', () => {
  const dir = tempDir('xpi-e2e-import-');
  let app: BrowserModeApp;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    app = await startBrowserMode();
    browser = await launchChromium();
    page = await openStartPage(browser, app);
  }, 60_000);

  afterAll(() => closeAll(browser, app, dir));

  it('refuses a file over the size a profile can have, naming it, before sending anything', async () => {
    // Larger than the server takes in one message (4 MiB): before, the connection dropped mid-import.
    const huge = path.join(dir, 'huge.json');
    fs.writeFileSync(huge, JSON.stringify({ ...defaultProfile('rpi4'), name: 'x'.repeat(5 * 1024 * 1024) }));
    await page.getByTestId('import-profile').setInputFiles(huge);
    const alert = page.getByTestId('error');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/huge\.json is 5\.2 MB; a profile file is at most 1 MB/);
    expect(await alert.textContent()).toMatch(/Choose a profile file/);
  });

  it('still imports a profile file of a normal size afterwards', async () => {
    const small = path.join(dir, 'lab.xenpi');
    fs.writeFileSync(small, JSON.stringify({ ...defaultProfile('rpi4'), name: 'Lab import' }));
    await page.getByTestId('import-profile').setInputFiles(small);
    await page.getByTestId('profiles').getByText('Lab import').waitFor();
    expect(app.output()).not.toMatch(/Error/);
  });
});
