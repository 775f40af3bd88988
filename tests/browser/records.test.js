// Browser test of bonus applications (issue 16): the development and reform bureau's
// reporter applies for an innovation bonus with its evidence claim on
// /records/applications; the office opens it from its list and approves it in part;
// the unit's total of January 2027 moves by the points approved, and the unit sees the
// record the approval registered. The office's register form and the topic reports
// are looked at too.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, login, logout, open, shot, useBrowser } from './helpers.js';

useBrowser();

/** The demo reporter's unit, 区发改局. */
const UNIT = 'u09';

async function total(page) {
  await page.goto(`${BASE}/scores/2027-01/units/${UNIT}`);
  return Number((await page.textContent('#unit-score-total')).trim());
}

test('a unit applies for a bonus, the office approves it in part, the unit\'s total moves', async (t) => {
  const { page, clean } = await open(t);
  await login(page, 'reporter');
  const before = await total(page);
  await page.click('#menu a:text("加减分记录")');
  await page.waitForURL((u) => u.pathname === '/records');
  await page.click('#to-applications');
  await page.waitForURL((u) => u.pathname === '/records/applications');
  await page.selectOption('#application-category', 'innovation');
  await page.selectOption('#application-indicator', 'X2');
  await page.fill('#application-title', '“企业开办一日办结”改革');
  await page.fill('#application-basis', '获市级推广（市政府办公室文件）');
  await page.fill('#application-date', '2027-01-20');
  await page.fill('#application-points', '2.5');
  await shot(page, 'records-apply', { full: false });
  await page.click('#application-submit');
  await page.waitForURL((u) => /^\/records\/applications\/\d+$/.test(u.pathname));
  const id = new URL(page.url()).pathname.split('/')[3];
  assert.equal(await page.textContent('#application-state'), '待审核');
  assert.equal(await page.textContent('#flash'), '加分申报已提交，等待考核办审核。');
  await logout(page);

  await login(page, 'office');
  await page.goto(`${BASE}/records/applications?year=2027`);
  await shot(page, 'records-applications-office', { full: false });
  await page.click(`#application-row-${id} a`);
  await page.waitForURL((u) => u.pathname === `/records/applications/${id}`);
  await page.fill('#decide-points', '2');
  await page.fill('#decide-note', '按市级推广标准核定 2 分');
  await shot(page, 'records-decide', { full: false });
  await page.click('#decide-approve');
  await page.waitForLoadState('load');
  assert.equal(await page.textContent('#application-state'), '已批准');
  assert.equal(await page.textContent('#application-approved'), '2');
  // The office's register form offers the record indicators with their rule.
  await page.goto(`${BASE}/records?year=2027`);
  assert.ok(await page.locator('#record-new').count(), 'the register form');
  await shot(page, 'records-office');
  await page.goto(`${BASE}/records/topics?year=2027`);
  await shot(page, 'records-topics', { full: false });
  await logout(page);

  await login(page, 'reporter');
  const after = await total(page);
  assert.ok(Math.abs(after - before - 2) < 1e-9, `the total moved by the 2 points approved: ${before} → ${after}`);
  await page.goto(`${BASE}/records/applications/${id}`);
  await page.click('#application-record');
  await page.waitForURL((u) => /^\/records\/\d+$/.test(u.pathname));
  assert.equal(await page.textContent('#record-points-value'), '2');
  assert.equal(await page.locator('#record-edit').count(), 0, 'the unit does not edit records');
  await shot(page, 'records-record-unit', { full: false });
  clean();
});
