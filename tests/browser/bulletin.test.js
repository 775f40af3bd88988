// Browser test of a bulletin's print view (issue 7): the office drafts this month's
// bulletin on /bulletins, publishes it, and opens the print view — the red-headed
// notice on A4. The view is checked as printed (print media, an A4 page's width at
// 96 dpi): the issuer in large red characters on one line, the number line, no table
// wider than the page, Chinese not clipped; a screenshot and a PDF are kept.
//
// Runs again on the same database: an existing bulletin of the month is reused.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { BASE, SHOTS, login, open, shot, useBrowser } from './helpers.js';

useBrowser();

/** The width of A4 (210 mm) at 96 dpi, as Chrome lays out a printed page. */
const A4 = { width: 794, height: 1123 };

test('office publishes this month\'s bulletin and prints it on A4 with the red header', async (t) => {
  const { page, clean } = await open(t);
  page.on('dialog', (d) => d.accept());
  await login(page, 'office');
  await page.goto(`${BASE}/bulletins`);
  const period = await page.inputValue('#bulletin-period');
  assert.match(period, /^\d{4}-\d{2}$/, 'the form offers this month');
  await page.click('#bulletin-create');
  await page.waitForLoadState('load');
  let rerun = false;
  if (!/\/bulletins\/\d+/.test(new URL(page.url()).pathname)) {
    rerun = true;
    // An earlier run made this month's bulletin: open it from the list.
    await page.goto(`${BASE}/bulletins`);
    const label = `${Number(period.slice(0, 4))}年${Number(period.slice(5))}月`;
    await page.click(`#bulletins-table tr:has-text("${label}") a`);
  }
  const id = new URL(page.url()).pathname.split('/')[2];
  if (await page.locator('#bulletin-publish').count()) {
    await shot(page, 'bulletin-draft', { full: false });
    await page.click('#bulletin-publish');
    await page.waitForLoadState('load');
  }
  assert.equal(await page.textContent('#bulletin-state'), '已发布');
  assert.match(await page.textContent('#bulletin-number'), /^〔\d{4}〕第\d+号$/);
  await shot(page, 'bulletin-page', { full: false });
  // Every number drills down: a unit's first indicator score opens its explanation.
  // (Its number is today's: a correction after publishing changes the drill-down,
  // never the bulletin.)
  const cell = page.locator('table.detail td a[href*="/indicators/"]').first();
  const href = await cell.getAttribute('href');
  await cell.click();
  await page.waitForURL((u) => u.pathname === href);
  assert.match((await page.textContent('#explain-score')).trim(), /^-?\d+(\.\d+)?$/, 'the drill-down explains the score');
  await page.goBack();

  await page.setViewportSize(A4);
  await page.emulateMedia({ media: 'print' });
  await page.goto(`${BASE}/bulletins/${id}/print`);
  const issuer = page.locator('#issuer');
  assert.equal(await issuer.textContent(), '江汉新区绩效考核办公室');
  const look = await issuer.evaluate((e) => {
    const s = getComputedStyle(e);
    return { color: s.color, size: parseFloat(s.fontSize), height: e.getBoundingClientRect().height, line: parseFloat(s.lineHeight) };
  });
  assert.equal(look.color, 'rgb(221, 0, 0)', 'the issuer is red');
  assert.ok(look.size >= 36, `the issuer is large (${look.size}px)`);
  assert.ok(look.height < look.line * 1.5, 'the issuer fits on one line');
  assert.match(await page.textContent('#doc-number'), /^〔\d{4}〕第\d+号/);
  // Nothing is wider than the page: every table fits, no cell's text is cut off.
  const wide = await page.evaluate(() => {
    const limit = document.body.getBoundingClientRect().right + 1;
    return [...document.querySelectorAll('table, h1, .issuer, th, td')]
      .filter((e) => e.getBoundingClientRect().right > limit || e.scrollWidth > e.clientWidth + 1)
      .map((e) => `${e.tagName}#${e.id || ''} ${e.textContent.slice(0, 30)}`);
  });
  assert.deepEqual(wide, [], 'nothing overflows the A4 width');
  assert.ok(await page.locator('table.detail').count() > 3, 'the office sees every score, in tables that fit');
  await shot(page, 'bulletin-print-a4', { full: false });
  await page.screenshot({ path: path.join(SHOTS, 'bulletin-print-a4-full.png'), fullPage: true });
  // The first table of scores and the formulas, as they print.
  await page.locator('.detail-block').first().screenshot({ path: path.join(SHOTS, 'bulletin-print-detail.png') });
  await page.locator('#formulas').screenshot({ path: path.join(SHOTS, 'bulletin-print-formulas.png') });
  await page.pdf({ path: path.join(SHOTS, 'bulletin-print.pdf'), format: 'A4', printBackground: true, preferCSSPageSize: true });
  // On a second run the draft was refused (409: this month has its bulletin).
  clean(rerun ? /status of 409/ : null);
});
