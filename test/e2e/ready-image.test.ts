// The "easy button": flash a ready-made image as it is (like Project EVE's live.raw), and the unsaved-changes question.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRpiLikeImage, sha256, tempDir, type TestImageLayout } from '../helpers/disk-images';
import { a11yViolations } from './a11y';
import { closeAll, haveChromium, launchChromium, openStartPage, resultsDir, startBrowserMode, type BrowserModeApp } from './browser';

describe.skipIf(!haveChromium)('a ready-made image and unsaved changes', () => {
  const work = tempDir('xpi-e2e-ready-');
  let image: TestImageLayout;
  let app: BrowserModeApp;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    image = buildRpiLikeImage(work, 'live.raw', { bootMiB: 36, rootMiB: 12, rootDataBytes: 512 * 1024 });
    app = await startBrowserMode();
    browser = await launchChromium();
    page = await openStartPage(browser, app);
  }, 120_000);

  afterAll(() => closeAll(browser, app, work));

  it('asks before discarding unsaved changes, and keeps them on Cancel', async () => {
    await page.getByTestId('new-rpi4').click();
    await page.getByTestId('xen-version').fill('4.18');
    await page.getByRole('navigation', { name: 'Wizard steps' }).getByRole('button', { name: /Start/ }).click();
    await page.getByTestId('new-qemu-virt').click();
    const dialog = page.getByRole('dialog', { name: 'Discard unsaved changes?' });
    await dialog.waitFor();
    await page.screenshot({ path: path.join(resultsDir, 'unsaved-changes.png') });
    expect(await a11yViolations(page)).toEqual([]);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await page
      .getByRole('navigation', { name: 'Wizard steps' })
      .getByRole('button', { name: /Board and Xen/ })
      .click();
    expect(await page.getByTestId('xen-version').inputValue()).toBe('4.18');
    expect(await page.getByTestId('board-rpi4').isChecked()).toBe(true);
  });

  it('writes a ready-made image as it is, byte for byte, with its checksum checked', async () => {
    await page.getByRole('navigation', { name: 'Wizard steps' }).getByRole('button', { name: /Start/ }).click();
    await page.getByLabel(/Flash a ready-made image/).check();
    expect(await page.getByRole('navigation', { name: 'Wizard steps' }).getByRole('button').count()).toBe(3);
    await page.getByTestId('ready-image').fill(image.path);
    await page.getByLabel('SHA-256 (optional)').fill(sha256(fs.readFileSync(image.path)));
    await page.getByTestId('next').click();
    await page.getByTestId('target-file').check();
    const out = path.join(work, 'copy.img');
    await page.getByTestId('target-file-path').fill(out);
    await page.getByTestId('write').click();
    await page.getByTestId('write-done').waitFor({ timeout: 120_000 });
    await page.screenshot({ path: path.join(resultsDir, 'ready-image-done.png'), fullPage: true });
    expect(await page.getByTestId('write-done').textContent()).not.toContain('On the boot partition');
    expect(sha256(fs.readFileSync(out))).toBe(sha256(fs.readFileSync(image.path)));
  });

  it('refuses an image whose checksum does not match and says so', async () => {
    await page.getByRole('navigation', { name: 'Wizard steps' }).getByRole('button', { name: /Start/ }).click();
    await page.getByLabel('SHA-256 (optional)').fill('0'.repeat(64));
    await page
      .getByRole('navigation', { name: 'Wizard steps' })
      .getByRole('button', { name: /Target/ })
      .click();
    await page.getByTestId('target-file-path').fill(path.join(work, 'wrong.img'));
    await page.getByTestId('write').click();
    const failed = page.getByTestId('write-failed');
    await failed.waitFor({ timeout: 120_000 });
    expect(await failed.textContent()).toMatch(/SHA-256|checksum/i);
    await page.screenshot({ path: path.join(resultsDir, 'ready-image-checksum.png'), fullPage: true });
  });
});
