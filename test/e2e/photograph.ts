// Screenshots of a step in the light and the dark theme (test-results/PREFIX-NAME-SCHEME.png), each checked with axe,
// and the page checked for sideways scrolling.
import path from 'node:path';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { a11yViolations } from './a11y';
import { resultsDir } from './browser';

export async function photographBothThemes(page: Page, prefix: string, name: string): Promise<void> {
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.screenshot({ path: path.join(resultsDir, `${prefix}-${name}-${scheme}.png`), fullPage: true });
    expect(await a11yViolations(page), `accessibility of ${name} (${scheme})`).toEqual([]);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  expect(
    await page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth),
    `sideways scrolling on ${name}`,
  ).toBe(false);
}
