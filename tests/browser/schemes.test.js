// Browser test of the scheme editor (issue 6): the office starts a draft of the demo's
// 2027 scheme, adds an indicator under 经济发展 (A1), types its formula — checked as it
// is typed — and points, sees the running points check go red and the draft's
// problems listed, moves the new indicator up, and discards the draft, so that the
// test can run again on the same database.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, login, open, shot, useBrowser } from './helpers.js';

useBrowser();

test('the office edits the indicator tree in a draft', async (t) => {
  const { page, clean } = await open(t);
  await login(page, 'office');
  await page.goto(`${BASE}/schemes/2027`);
  await page.click('#edit-draft');
  await page.click('#draft-start-button');
  assert.equal(await page.textContent('#flash'), '草稿已创建，可以开始编辑。');
  assert.ok(await page.locator('#draft-valid').isVisible(), 'a copy of a version is valid');
  assert.match(await page.textContent('#node-A1'), /∑ 18 \/ 18 ✓/);

  await page.selectOption('#add-parent', 'A1');
  await page.fill('#add-id', 'A19');
  await page.fill('#add-name', '新增：数字经济核心产业增加值');
  await page.click('#draft-add-button');
  await page.waitForURL((u) => u.pathname === '/schemes/2027/draft/nodes/A19');

  // The formula is checked by the engine while it is typed.
  await page.fill('#formula', 'min(valu / target, 1) * points');
  await page.locator('#try-result .alert').waitFor();
  assert.match(await page.textContent('#try-result'), /valu/);
  await page.fill('#n-fields', 'value | 增加值(亿元) | number | last | 0');
  await page.fill('#n-params', 'target = 12');
  await page.fill('#formula', 'min(value / target, 1) * points');
  await page.fill('#n-points', '2');
  await page.locator('#try-result #live-score').waitFor();
  await shot(page, 'scheme-editor-node');
  await page.click('#node-save');
  await page.waitForURL((u) => u.searchParams.get('flash') === 'draft_saved');

  await page.goto(`${BASE}/schemes/2027/draft`);
  assert.match(await page.textContent('#node-A1'), /∑ 20 \/ 18 ✗/, 'the parent no longer adds up');
  assert.match(await page.textContent('#draft-issues'), /A1/);
  assert.ok(await page.locator('#draft-save-button').isDisabled(), 'an invalid draft cannot be saved');
  await page.click('#node-A19 button[value=up]');
  await page.waitForLoadState('load');
  const ids = await page.locator('#draft-tree tr[id^=node-A1]').evaluateAll((rows) => rows.map((r) => r.id));
  assert.ok(ids.indexOf('node-A19') < ids.length - 1, `A19 moved up: ${ids.join(' ')}`);
  await shot(page, 'scheme-editor-tree');

  page.once('dialog', (d) => d.accept());
  await page.click('#draft-discard button');
  await page.waitForURL((u) => u.pathname === '/schemes/2027');
  assert.equal(await page.textContent('#flash'), '草稿已放弃。');
  clean();
});
