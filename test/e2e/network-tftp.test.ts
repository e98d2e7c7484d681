// The Network step's TFTP server choice in Chromium through browser mode: who serves the Pi, and the window and block
// size under "Advanced", change the stage 1 the Review step shows; a size out of range is a sentence about its field.
// The step is photographed in both themes (test-results/network-tftp-*.png).
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testProfile, writeTestComponents } from '../helpers/components';
import { tempDir } from '../helpers/disk-images';
import { closeAll, haveChromium, launchChromium, openStartPage, startBrowserMode, type BrowserModeApp } from './browser';
import { photographBothThemes } from './photograph';

const work = tempDir('xpi-e2e-network-');
let app: BrowserModeApp;
let browser: Browser;
let page: Page;

/** Photographs the page in the light and the dark theme, checks both with axe and for sideways scrolling. */
const photograph = (name: string) => photographBothThemes(page, 'network-tftp', name);

async function goTo(step: RegExp): Promise<void> {
  await page.getByRole('navigation', { name: 'Wizard steps' }).getByRole('button', { name: step }).click();
}

/** Stage 1 as the Review step shows it, once its preview is there. */
async function stage1(): Promise<string> {
  await goTo(/Review/);
  await page.getByTestId('memory-map').waitFor();
  return (await page.getByTestId('preview-boot.source').textContent()) ?? '';
}

describe.skipIf(!haveChromium)('the Network step’s TFTP server choice', () => {
  beforeAll(async () => {
    const file = path.join(work, 'lab-pi.xenpi');
    fs.writeFileSync(file, JSON.stringify({ ...testProfile(writeTestComponents(path.join(work, 'components'))), name: 'Lab Pi' }));
    app = await startBrowserMode({}, [file]);
    browser = await launchChromium();
    page = await openStartPage(browser, app);
  }, 60_000);

  afterAll(() => closeAll(browser, app, work));

  it('starts with the built-in server: stage 1 asks for windows of 16 and the Review says so', async () => {
    await expect.poll(() => page.getByLabel('Profile name').inputValue()).toBe('Lab Pi');
    expect(await stage1()).toContain('setenv tftpwindowsize 16\nsetenv tftptimeout 1000\n');
    expect(await page.getByTestId('review-tftp').textContent()).toBe(
      'TFTP: this app’s built-in server at 192.168.1.10; U-Boot fetches 1468-byte blocks in windows of 16, retrying after 1 s.',
    );
    await photograph('review');
    await goTo(/Network boot/);
    expect(await page.getByTestId('tftp-server-built-in').isChecked()).toBe(true);
    // the sizes wait under "Advanced" while the profile leaves them to the defaults
    expect(await page.getByTestId('tftp-windowsize').isVisible()).toBe(false);
    await photograph('built-in');
  });

  it('leaves U-Boot lock-step for another server', async () => {
    await page.getByRole('radio', { name: /^Another TFTP server \(tftpd-hpa, dnsmasq…; lock-step, works with any\)/ }).check();
    const text = await stage1();
    expect(text).not.toMatch(/tftpwindowsize|tftpblocksize|tftptimeout/);
    expect(text).toContain('setenv netmask 255.255.255.0\ntftpb 0xC00000 boot2.scr\n');
    expect(await page.getByTestId('review-tftp').textContent()).toBe(
      'TFTP: another TFTP server at 192.168.1.10; U-Boot fetches blocks of U-Boot’s own size one at a time (lock-step).',
    );
  });

  it('sets the window size the built-in server gets', async () => {
    await goTo(/Network boot/);
    await page.getByTestId('tftp-server-built-in').check();
    await page.getByText('Advanced: TFTP window and block size').click();
    expect(await page.getByTestId('tftp-windowsize').getAttribute('placeholder')).toBe('16 (default)');
    await page.getByTestId('tftp-windowsize').fill('8');
    expect(await stage1()).toContain('setenv tftpwindowsize 8\n');
    expect(await page.getByTestId('review-tftp').textContent()).toContain('1468-byte blocks in windows of 8,');
  });

  it('says what a block size above one Ethernet frame does, and an impossible window size is an error on the Review too', async () => {
    await goTo(/Network boot/);
    await page.getByTestId('tftp-blocksize').fill('2000');
    await page
      .getByText(/^Warning: Block size 2000: a U-Boot without IP reassembly .* lowers it to 1468/)
      .first()
      .waitFor();
    await photograph('warning');
    await page.getByTestId('tftp-windowsize').fill('65');
    await page.getByText('Error: The TFTP window size must be at most 64 blocks (the built-in server answers no more).').waitFor();
    await photograph('error');
    await goTo(/Review/);
    const problems = page.getByTestId('review-problems');
    await problems.waitFor();
    expect(await problems.textContent()).toContain('TFTP window size (Network boot step): The TFTP window size must be at most 64 blocks');
    // the field's name leads back to the Network step, where the sizes are open
    await problems.getByRole('button', { name: 'TFTP window size' }).click();
    await page.getByTestId('tftp-windowsize').fill('');
    await page.getByTestId('tftp-blocksize').fill('');
    expect(await stage1()).toContain('setenv tftpblocksize 1468\nsetenv tftpwindowsize 16\n');
  });
});
