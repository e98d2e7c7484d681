// A newcomer's wizard in Chromium through browser mode: a Pi 4 set up with file pickers only (no typed path), messages
// about fields in the user's words, focus on each new step's heading, and profiles that reopen, rename and import as
// expected. Every step is photographed in both themes at 1024×700 (test-results/newcomer-*.png).
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultProfile } from '../../shared/profile/defaults';
import { writeTestComponents, type TestComponents } from '../helpers/components';
import { buildRpiLikeImage, tempDir, type TestImageLayout } from '../helpers/disk-images';
import { closeAll, haveChromium, launchChromium, openStartPage, startBrowserMode, type BrowserModeApp } from './browser';
import { photographBothThemes } from './photograph';

const work = tempDir('xpi-e2e-newcomer-');
let components: TestComponents;
let base: TestImageLayout;
let app: BrowserModeApp;
let browser: Browser;
let page: Page;

/** Photographs the page in the light and the dark theme, checks both with axe and for sideways scrolling. */
const photograph = (name: string) => photographBothThemes(page, 'newcomer', name);

/** Browse… → the page's file browser → Temporary files → the test's folders → the file (or folder): clicks only. */
async function pick(testId: string, folders: string[], file?: string): Promise<void> {
  await page.getByTestId(`${testId}-browse`).click();
  const dialog = page.getByTestId('file-browser');
  await dialog.waitFor();
  await dialog.getByRole('button', { name: 'Temporary files' }).click();
  for (const folder of folders) await dialog.getByRole('button', { name: `Folder ${folder}`, exact: true }).click();
  if (file) await dialog.getByRole('button', { name: `File ${file}`, exact: true }).click();
  await dialog.waitFor({ state: 'detached' });
}

async function next(): Promise<void> {
  await page.getByTestId('next').click();
  // focus is on the new step's heading, so a second Enter does not press the next step's Next
  await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('step-title');
}

const workName = path.basename(work);

describe.skipIf(!haveChromium)('a newcomer’s wizard', () => {
  beforeAll(async () => {
    components = writeTestComponents(path.join(work, 'components'));
    base = buildRpiLikeImage(work, 'raspios.img', { bootMiB: 36, rootMiB: 12 });
    app = await startBrowserMode();
    browser = await launchChromium();
    page = await openStartPage(browser, app);
  }, 120_000);

  afterAll(() => closeAll(browser, app, work));

  it('shows a fresh default on first launch as not saved yet, without "Unsaved changes"', async () => {
    await page.getByText('Not saved yet').waitFor();
    expect(await page.getByText('Unsaved changes', { exact: true }).count()).toBe(0);
    await photograph('01-start');
  });

  it('sets up a Pi 4 with pickers only, then writes an image file chosen with the save browser', async () => {
    await page.getByTestId('new-rpi4').click();
    await page.getByRole('heading', { name: 'Board and Xen' }).waitFor();
    await photograph('02-board');
    await next();

    const dir = [workName, 'components'];
    await pick('component-uboot', dir, 'u-boot.bin');
    await pick('component-xen', dir, 'xen');
    await pick('component-dtb', dir, 'board.dtb');
    await pick('component-kernel', dir, 'Image');
    await pick('component-ramdisk', dir, 'initrd.cpio');
    await pick('component-base', [workName], 'raspios.img');
    expect(await page.getByTestId('component-xen').inputValue()).toBe(components.xen);
    expect(await page.getByTestId('component-base').inputValue()).toBe(base.path);
    await page.getByTestId('recognised-kernel').waitFor();
    expect(await page.getByTestId('recognised-kernel').textContent()).toMatch(/Linux 6\.1\.0-test/);
    await photograph('03-components');
    await next();
    await photograph('04-console');
    await next();
    await page.getByTestId('mode-sd').check();
    await photograph('05-network');
    await next();
    await page.getByTestId('review').waitFor();
    expect(await page.getByTestId('review-problems').count()).toBe(0);
    await photograph('06-review');
    await next();

    await page.getByTestId('target-file').check();
    await page.getByTestId('target-file-path-browse').click();
    const dialog = page.getByTestId('file-browser');
    await dialog.getByRole('button', { name: 'Temporary files' }).click();
    await dialog.getByRole('button', { name: `Folder ${workName}`, exact: true }).click();
    await dialog.getByLabel('File name').fill('pi4.img');
    await dialog.getByRole('button', { name: 'Save here' }).click();
    expect(await page.getByTestId('target-file-path').inputValue()).toBe(path.join(work, 'pi4.img'));
    await photograph('07-target');
    await page.getByTestId('write').click();
    await page.getByTestId('write-done').waitFor({ timeout: 120_000 });
    expect(fs.statSync(path.join(work, 'pi4.img')).size).toBe(base.size);
    await photograph('08-write');
  }, 240_000);

  it('keeps the file browser to its places and says so', async () => {
    await page
      .getByRole('navigation', { name: 'Wizard steps' })
      .getByRole('button', { name: /Components/ })
      .click();
    await page.getByTestId('component-xen-browse').click();
    const dialog = page.getByTestId('file-browser');
    await dialog.getByRole('button', { name: 'File xen', exact: true }).waitFor(); // it opens where the field points
    await dialog.getByLabel('Folder', { exact: true }).fill('/etc');
    await dialog.getByRole('button', { name: 'Go' }).click();
    expect(await dialog.getByTestId('error').textContent()).toMatch(/does not show \/etc: it shows only/);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
  });

  it('understands a ~/ path and a quoted path typed into a file field', async () => {
    await page.getByTestId('component-dtb').fill(`'${components.dtb}'`);
    expect(await page.getByTestId('component-dtb').inputValue()).toBe(components.dtb);
    await page.getByTestId('component-dtb').fill('~/board.dtb');
    expect(await page.getByTestId('component-dtb').inputValue()).toMatch(/^\/.*\/board\.dtb$/);
    await page.getByTestId('component-dtb').fill(components.dtb);
  });

  it('words a bad address as a sentence about the field, on the field and on Review, and forgets it once fixed', async () => {
    await page
      .getByRole('navigation', { name: 'Wizard steps' })
      .getByRole('button', { name: /Network boot/ })
      .click();
    await page.getByTestId('mode-tftp').check();
    await page.getByTestId('method-static').check();
    await page.getByTestId('server-ip').fill('192.168.1.300');
    await page.getByText('The TFTP server address must be an IPv4 address').first().waitFor();
    await photograph('05-network-tftp-problem');
    await page
      .getByRole('navigation', { name: 'Wizard steps' })
      .getByRole('button', { name: /Review/ })
      .click();
    const problems = page.getByTestId('review-problems');
    await problems.waitFor();
    expect(await problems.textContent()).toMatch(
      /TFTP server address \(Network boot step\): The TFTP server address must be an IPv4 address/,
    );
    expect(await page.locator('body').textContent()).not.toMatch(/Invalid arguments|this is a bug|\$\.boot|Too small|expected int/);
    await photograph('06-review-problems');
    await problems.getByRole('button', { name: 'TFTP server address' }).click();
    await page.getByTestId('server-ip').fill('192.168.1.10');
    await page.getByTestId('board-ip').fill('192.168.1.50');
    await page
      .getByRole('navigation', { name: 'Wizard steps' })
      .getByRole('button', { name: /Review/ })
      .click();
    await page.getByTestId('review').waitFor();
    expect(await page.getByTestId('review-problems').count()).toBe(0);
    expect(await page.getByTestId('error').count()).toBe(0);
  });

  it('keeps a rename of the open profile through the next Save, and reopens it after a reload without making a copy', async () => {
    await page.getByLabel('Profile name').fill('Bench Pi');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText(/^Saved "Bench Pi"/).waitFor();
    await page.getByRole('navigation', { name: 'Wizard steps' }).getByRole('button', { name: /Start/ }).click();
    await page.getByRole('button', { name: 'Rename Bench Pi' }).click();
    await page.getByLabel('New name for Bench Pi').fill('Desk Pi');
    await page.getByRole('button', { name: 'Rename', exact: true }).click();
    await page.getByTestId('profiles').getByText('Desk Pi').waitFor();
    expect(await page.getByLabel('Profile name').inputValue()).toBe('Desk Pi');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText(/^Saved "Desk Pi"/).waitFor();

    await page.reload();
    await expect.poll(() => page.getByLabel('Profile name').inputValue()).toBe('Desk Pi');
    await page.getByText('Reopened “Desk Pi”, the profile you last used.').waitFor();
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText(/^Saved "Desk Pi"/).waitFor();
    expect(fs.readdirSync(path.join(app.home, 'profiles')).filter((f) => f.endsWith('.json'))).toEqual(['bench-pi.json']);
  });

  it('says when an import renames a same-named profile, and the "Saved" line goes when another profile opens', async () => {
    const same = path.join(work, 'desk.xenpi');
    fs.writeFileSync(same, JSON.stringify({ ...defaultProfile('rpi4'), name: 'Desk Pi' }));
    await page.getByTestId('import-profile').setInputFiles(same);
    await page
      .getByText('Imported “Desk Pi” as “Desk Pi (2)”: a saved profile already had that name, and both are kept.', { exact: false })
      .waitFor();
    expect(await page.getByTestId('status').textContent()).not.toMatch(/Saved/);
    expect(await page.getByLabel('Profile name').inputValue()).toBe('Desk Pi (2)');
    await page.getByRole('button', { name: 'Open Desk Pi', exact: true }).click();
    await page.getByText('Opened “Desk Pi”.', { exact: false }).waitFor();
    expect(await page.getByTestId('profiles').getByTestId('open-now').count()).toBe(1);
    await photograph('01-start-profiles');
  });
});
