// The whole wizard in Chromium through browser mode, against the real services: a Pi 4 TFTP set-up with test
// components, saved and reopened, the TFTP server answering a real client, then a composed image file checked with mtools.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkQemu } from '../../electron/node/host-tools';
import { readScriptImage } from '../../shared/boot/script-image';
import { writeTestComponents, type TestComponents } from '../helpers/components';
import { buildRpiLikeImage, isRoot, mtoolsRead, tempDir, type TestImageLayout } from '../helpers/disk-images';
import { a11yViolations } from './a11y';
import { closeAll, haveChromium, launchChromium, openStartPage, resultsDir, startBrowserMode, type BrowserModeApp } from './browser';

const work = tempDir('xpi-e2e-wizard-');
let components: TestComponents;
let base: TestImageLayout;
let app: BrowserModeApp;
let browser: Browser;
let page: Page;
let shot = 0;

/** Saves a screenshot of the step and checks it with axe: every input labelled, colours with enough contrast. */
async function screenshot(name: string): Promise<void> {
  shot += 1;
  await page.screenshot({ path: path.join(resultsDir, `wizard-${String(shot).padStart(2, '0')}-${name}.png`), fullPage: true });
  expect(await a11yViolations(page), `accessibility of the ${name} step`).toEqual([]);
  expect(
    await page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth),
    `horizontal scrolling on the ${name} step`,
  ).toBe(false);
}

async function fill(testId: string, value: string): Promise<void> {
  await page.getByTestId(testId).fill(value);
}

async function next(): Promise<void> {
  await page.getByTestId('next').click();
}

describe.skipIf(!haveChromium)('the wizard, end to end', () => {
  beforeAll(async () => {
    components = writeTestComponents(path.join(work, 'components'));
    base = buildRpiLikeImage(work, 'raspios.img', { bootMiB: 36, rootMiB: 12, rootDataBytes: 1024 * 1024 });
    // Debian's arm64 parts for "Try in QEMU" are cached where the QEMU e2e test keeps them
    app = await startBrowserMode({
      XEN_PI_IMAGER_CACHE: process.env.XEN_PI_IMAGER_CACHE ?? path.join(__dirname, '..', '..', '.cache', 'emulator'),
    });
    browser = await launchChromium();
    page = await openStartPage(browser, app);
  }, 120_000);

  afterAll(() => closeAll(browser, app, work));

  it('walks a Raspberry Pi 4 TFTP set-up from a default to the review', async () => {
    await screenshot('start');
    await page.getByTestId('new-rpi4').click();
    await page.getByRole('heading', { name: 'Board and Xen' }).waitFor();
    expect(await page.getByTestId('xen-version').inputValue()).toBe('4.17');
    await fill('xen-version', '4.13');
    await expect(page.getByText(/cannot boot a Raspberry Pi 4/).isVisible()).resolves.toBe(true);
    await fill('xen-version', '4.17');
    await screenshot('board');
    await next();

    await fill('component-uboot', components.uboot);
    await fill('component-xen', components.xen);
    await fill('component-dtb', components.dtb);
    await fill('component-kernel', components.kernel);
    await fill('component-ramdisk', components.ramdisk);
    await fill('component-base', base.path);
    await page.getByTestId('recognised-kernel').waitFor();
    expect(await page.getByTestId('recognised-kernel').textContent()).toMatch(/arm64.*Linux 6\.1\.0-test/i);
    // a plain Image can be stored gzip'd beside it (Xen decompresses it): the field then names the .gz, and says what it saves
    await page.getByTestId('kernel-gzip').click();
    await expect.poll(() => page.getByTestId('component-kernel').inputValue()).toBe(`${components.kernel}.gz`);
    expect(await page.getByTestId('kernel-gzip-saved').textContent()).toMatch(
      /^Stored gzip’d: 512 KiB → \d+ KiB, \d+ KiB less to load at every boot\.$/,
    );
    expect(fs.existsSync(`${components.kernel}.gz`)).toBe(true);
    await expect.poll(() => page.getByTestId('recognised-kernel').textContent()).toMatch(/gzip compressed data — Linux 6\.1\.0-test/);
    expect(await page.getByTestId('recognised-dtb').textContent()).toMatch(/Device Tree Blob/);
    await screenshot('components');
    await next();

    await page.getByTestId('sync-console').check();
    expect(await page.getByTestId('xen-cmdline').textContent()).toMatch(
      /^console=dtuart dtuart=\/soc\/serial@7e215040 sync_console dom0_mem=\d+M dom0_max_vcpus=1/,
    );
    await page.getByTestId('uart-pl011').check();
    expect(await page.getByTestId('config-lines').textContent()).toContain('dtoverlay=disable-bt');
    expect(await page.getByTestId('xen-cmdline').textContent()).toContain('dtuart=/soc/serial@7e201000');
    await page.getByTestId('uart-mini').check();
    await screenshot('console');
    await next();

    await fill('server-ip', '127.0.0.1');
    await fill('board-ip', '127.0.0.1');
    await expect(page.getByText(/cannot have the TFTP server/).isVisible()).resolves.toBe(true);
    await fill('board-ip', '127.0.0.2');
    await screenshot('network');
    await next();

    await page.getByTestId('memory-map').waitFor();
    const stage1 = await page.getByTestId('preview-boot.source').textContent();
    expect(stage1).toContain('setenv serverip 127.0.0.1');
    expect(stage1).toContain('tftpb 0xC00000 boot2.scr');
    expect(await page.getByTestId('preview-boot2.source').textContent()).toMatch(/booti 0x\w+ - 0x\w+/);
    expect(await page.getByTestId('memory-map').textContent()).toContain('0xE00000');
    await screenshot('review');
  });

  it('saves the profile and opens it again after a reload', async () => {
    await page.getByLabel('Profile name').fill('Lab Pi 4');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText(/^Saved "Lab Pi 4"/).waitFor();
    expect(await page.getByTestId('status').textContent()).toMatch(/^Saved "Lab Pi 4" to .*lab-pi-4\.json$/);
    await page.reload();
    await page.getByRole('heading', { name: 'Start' }).waitFor();
    const list = page.getByTestId('profiles');
    await list.getByText('Lab Pi 4').waitFor();
    await screenshot('start-with-saved-profile');
    await page.getByRole('button', { name: 'Open Lab Pi 4' }).click();
    await expect.poll(() => page.getByLabel('Profile name').inputValue()).toBe('Lab Pi 4');
    await page.getByText('Saved', { exact: true }).waitFor();
    await page.getByRole('button', { name: /Network boot/ }).click();
    expect(await page.getByTestId('board-ip').inputValue()).toBe('127.0.0.2');
  });

  it.skipIf(!isRoot)('starts the TFTP server on port 69 and shows a real client fetching boot2.scr', async () => {
    await page.getByTestId('tftp-start').click();
    // the profile's server address is one of this machine's, so the server listens there
    await page.getByText(/Serving on 127\.0\.0\.1:69/).waitFor();
    const out = path.join(work, 'fetched-boot2.scr');
    execFileSync('curl', ['-s', '--tftp-blksize', '1468', '-o', out, 'tftp://127.0.0.1/boot2.scr']);
    expect(readScriptImage(new Uint8Array(fs.readFileSync(out))).source).toMatch(/booti/);
    await page.getByTestId('tftp-transfers').getByText('done').waitFor();
    // a client asking for more than the server allows in flight: the panel says what was lowered
    execFileSync('atftp', ['--option', 'blksize 65464', '--option', 'windowsize 64', '-g', '-r', 'boot2.scr', '-l', out, '127.0.0.1']);
    await page
      .getByTestId('tftp-limits')
      .getByText(/asked windowsize 64 at blksize 65464 for boot2\.scr: answered 1/)
      .waitFor();
    await screenshot('network-transfers');
    await page.getByTestId('tftp-stop').click();
    await page.getByText('Stopped').waitFor();
  });

  it('writes a composed image file whose boot partition holds config.txt, u-boot.bin and boot.scr', async () => {
    await page.getByRole('button', { name: /Target/ }).click();
    await page.getByTestId('target-file').check();
    const image = path.join(work, 'card.img');
    await fill('target-file-path', image);
    await screenshot('target');
    await page.getByTestId('write').click();
    await page.getByTestId('write-done').waitFor({ timeout: 120_000 });
    const where = await page.getByTestId('write-done').textContent();
    expect(where).toContain(`Image file ${image}`);
    expect(where).toMatch(/On the boot partition: .*boot\.scr/);
    expect(where).toMatch(/Source image SHA-256: [0-9a-f]{64}/);
    await screenshot('write-done');

    const configTxt = mtoolsRead(image, base.boot.offset, 'config.txt').toString();
    expect(configTxt).toMatch(/^arm_64bit=1$/m);
    expect(configTxt).toMatch(/^kernel=u-boot\.bin$/m);
    expect(configTxt).toMatch(/^enable_uart=1$/m);
    expect(configTxt).toContain('dtparam=audio=on'); // the base image's own lines stay
    expect(mtoolsRead(image, base.boot.offset, 'u-boot.bin').equals(fs.readFileSync(components.uboot))).toBe(true);
    const stage1 = readScriptImage(new Uint8Array(mtoolsRead(image, base.boot.offset, 'boot.scr')));
    expect(stage1.loadAddress).toBe(0x2400000);
    expect(stage1.source).toContain('setenv ipaddr 127.0.0.2');
  });

  it.skipIf(!isRoot || !checkQemu().available)(
    'tries the profile in QEMU from the Review step: Debian’s Xen and Dom0 boot, milestones and console on the page',
    async () => {
      await page
        .getByRole('navigation', { name: 'Wizard steps' })
        .getByRole('button', { name: /Review/ })
        .click();
      // the test components are headers only: Debian's Xen and kernel boot in their place, on QEMU virt
      await page.getByTestId('qemu-mode-debian').check();
      expect(await page.getByTestId('qemu-try').textContent()).toBe('Try on QEMU virt');
      // while the app's own TFTP server holds port 69 the trial says so and offers to stop it, instead of blaming another program
      await page
        .getByRole('navigation', { name: 'Wizard steps' })
        .getByRole('button', { name: /Network boot/ })
        .click();
      await page.getByTestId('tftp-start').click();
      await page.getByText(/Serving on 127\.0\.0\.1:69/).waitFor();
      await page
        .getByRole('navigation', { name: 'Wizard steps' })
        .getByRole('button', { name: /Review/ })
        .click();
      await page.getByTestId('qemu-mode-debian').check();
      await page.getByTestId('qemu-try').click();
      await page
        .locator('section.qemu [data-testid="error"]')
        .getByText(/The app’s own TFTP server \(Network boot step\)/)
        .waitFor();
      await page.getByTestId('qemu-stop-tftp').click();
      const result = page.getByTestId('qemu-result');
      // a trial refused before QEMU starts shows an error instead of a verdict: fail with its words, not a timeout
      const refused = page.locator('section.qemu [data-testid="error"]');
      await result.or(refused).waitFor({ timeout: 240_000 });
      expect(await refused.count(), (await refused.allTextContents()).join(' ')).toBe(0);
      await screenshot('review-qemu');
      expect(await result.textContent()).toMatch(/^Booted: /);
      expect(await page.getByTestId('qemu-machine').textContent()).toMatch(/^Ran on: QEMU virt/);
      expect(await page.getByTestId('qemu-substituted').textContent()).toMatch(
        /Xen \(Debian’s, not the profile’s\).*the device tree \(QEMU virt’s, not the Pi 4’s\)/,
      );
      const timeline = await page.getByRole('list', { name: 'Boot milestones' }).textContent();
      expect(timeline).toMatch(/U-Boot/);
      expect(timeline).toMatch(/Xen 4\.17/);
      // the console is a terminal: what scrolled away is found with its search
      await page.getByTestId('qemu-console-search').fill('(XEN) Xen version 4.17');
      await page.getByTestId('qemu-console-search').press('Enter');
      expect(await page.locator('section.qemu').getByText('is not in the console').count()).toBe(0);
      expect(await page.getByTestId('qemu-console').textContent()).toContain('(XEN) Xen version 4.17');
    },
    300_000,
  );
});
