// Browser test of a public service request from end to end (issue 8): a citizen files
// it on the public form and gets a case number and query password; the office
// dispatches it to 区发改局 (the demo reporter's unit); the department accepts it,
// attaches evidence and replies; the office verifies; the citizen rates it 满意 on
// the public query page; and the department's 满意率 on its dashboard changes. Every
// page on the way is kept as a screenshot. The office's category editor and the
// service settings are looked at too.
//
// Runs again on the same database: the dashboard's figures before are read, not
// assumed, and the case is found by its number.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, captchaAnswer, login, open, shot, useBrowser } from './helpers.js';

useBrowser();

// A 1×1 PNG, as a department's photo of the repaired road.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

/** The department's figures of this month on its dashboard. */
async function thisMonth(page) {
  await page.goto(`${BASE}/`);
  const row = page.locator('#service-metrics tr:has(.tag)');
  assert.equal(await row.count(), 1, 'the dashboard has this month\'s row');
  const cell = row.locator('.satisfaction');
  return {
    month: await row.getAttribute('data-month'),
    received: Number(await row.locator('.received').textContent()),
    closed: Number(await row.locator('.closed').textContent()),
    rated: Number(await cell.getAttribute('data-rated')),
    satisfied: Number(await cell.getAttribute('data-satisfied')),
    satisfaction: (await cell.textContent()).trim(),
  };
}

/** A rate as the pages print it: percent, one decimal at most, or a dash. */
function percent(n, d) {
  return d === 0 ? '—' : `${Math.round((n / d) * 1000) / 10}%`;
}

test('a citizen\'s request goes through office and department, the rating moves the department\'s 满意率', async (t) => {
  const citizen = await open(t);
  const office = await open(t);
  const department = await open(t);

  // The department's figures before.
  await login(department.page, 'reporter');
  const before = await thisMonth(department.page);
  assert.equal(before.satisfaction, percent(before.satisfied, before.rated));
  await shot(department.page, 'service-dashboard-before');

  // 1. The citizen files the request.
  const c = citizen.page;
  await c.goto(`${BASE}/service`);
  await c.selectOption('#service_code', 'road');
  await c.fill('#description', '人民路12号门前路面塌陷，雨天积水，行人绕行到机动车道。');
  await c.fill('#address', '江汉新区人民路12号');
  await c.fill('#phone', '13800000000');
  await c.fill('#name', '张先生');
  // The CAPTCHA: a picture drawn by the server; the test reads its answer from its
  // own database, as a person reads the picture.
  assert.match(await c.getAttribute('#captcha-image', 'src'), /^data:image\/png;base64,/);
  await c.fill('#captcha', (await captchaAnswer(c)).toLowerCase());
  await shot(c, 'service-form');
  await c.click('#service-submit');
  await c.waitForLoadState('load');
  const caseNo = (await c.textContent('#case-no')).trim();
  const password = (await c.textContent('#query-password')).trim();
  assert.match(caseNo, /^QK-\d{4}-\d{6}$/);
  assert.match(password, /^[A-Z0-9]{8}$/);
  await shot(c, 'service-taken');

  // 2. The office finds it in the dispatch queue and dispatches it to 区发改局.
  const o = office.page;
  await login(o, 'office');
  await o.goto(`${BASE}/service/dispatch`);
  await shot(o, 'service-dispatch-queue', { full: false });
  await o.click(`#queue a:text-is("${caseNo}")`);
  await o.waitForLoadState('load');
  const requestUrl = o.url();
  assert.match(new URL(requestUrl).pathname, /^\/service\/requests\/\d+$/);
  assert.equal(await o.textContent('#request-state'), '已受理');
  const unit = await o.locator('#step-dispatch select option', { hasText: '区发改局' }).getAttribute('value');
  await o.selectOption('#step-dispatch select', unit);
  await shot(o, 'service-request-office-new');
  await o.click('#step-dispatch button');
  await o.waitForLoadState('load');
  assert.equal(await o.textContent('#request-state'), '已派单');
  assert.equal(await o.textContent('#request-unit'), '区发改局');

  // 3. The department accepts it, attaches evidence and replies.
  const d = department.page;
  await d.goto(`${BASE}/service/queue`);
  await shot(d, 'service-department-queue', { full: false });
  await d.click(`#queue a:text-is("${caseNo}")`);
  await d.waitForLoadState('load');
  assert.equal(d.url(), requestUrl);
  await d.click('#step-accept button');
  await d.waitForLoadState('load');
  assert.equal(await d.textContent('#request-state'), '办理中');
  await d.setInputFiles('#evidence-file', { name: '修复后现场.png', mimeType: 'image/png', buffer: PNG });
  await d.click('#evidence-submit');
  await d.waitForLoadState('load');
  assert.equal(await d.textContent('#flash'), '佐证材料已上传。');
  assert.equal(await d.locator('#evidence-list a.evidence-link').first().textContent(), '修复后现场.png');
  await d.fill('#step-reply textarea', '已安排施工队修复路面并清理积水，现已恢复通行。');
  await shot(d, 'service-request-department');
  await d.click('#step-reply button');
  await d.waitForLoadState('load');
  assert.equal(await d.textContent('#request-state'), '已办结待核查');

  // 4. The office verifies, seeing the evidence.
  await o.goto(requestUrl);
  assert.equal(await o.locator('#evidence-list a.evidence-link').first().textContent(), '修复后现场.png');
  const download = await o.request.get(`${BASE}${await o.locator('#evidence-list a.evidence-link').first().getAttribute('href')}`);
  assert.equal(download.status(), 200);
  assert.deepEqual(Buffer.from(await download.body()), PNG, 'the evidence downloads unchanged');
  await shot(o, 'service-request-office-verify');
  await o.click('#step-verify button');
  await o.waitForLoadState('load');
  assert.equal(await o.textContent('#request-state'), '已核查待评价');

  // 5. The citizen looks it up and rates it.
  await c.goto(`${BASE}/service/query?case=${caseNo}`);
  assert.equal(await c.inputValue('#case'), caseNo, 'the link fills in the case number');
  await c.fill('#password', password);
  await c.click('#query-form button');
  await c.waitForLoadState('load');
  assert.equal(await c.getAttribute('#found-state', 'data-state'), 'verified');
  assert.equal(await c.textContent('#found-reply'), '已安排施工队修复路面并清理积水，现已恢复通行。');
  assert.equal(await c.locator('text=修复后现场.png').count(), 0, 'the citizen does not see the evidence');
  await c.check('#rate-form input[value="satisfied"]');
  await c.fill('#comment', '修得很快，谢谢！');
  await shot(c, 'service-query-rate');
  await c.click('#rate-submit');
  await c.waitForLoadState('load');
  assert.equal(await c.textContent('#found-rating'), '满意');
  assert.equal(await c.getAttribute('#found-state', 'data-state'), 'closed');
  await shot(c, 'service-query-rated');

  // 6. The department's 满意率 of this month changed.
  const after = await thisMonth(d);
  assert.equal(after.month, before.month);
  assert.equal(after.rated, before.rated + 1);
  assert.equal(after.satisfied, before.satisfied + 1);
  assert.equal(after.received, before.received + 1);
  assert.equal(after.closed, before.closed + 1);
  assert.equal(after.satisfaction, percent(before.satisfied + 1, before.rated + 1));
  assert.notEqual(after.satisfaction, before.satisfaction, `满意率 ${before.satisfaction} → ${after.satisfaction}`);
  await shot(d, 'service-dashboard-after');

  // The office sees the same figures on the unit's page.
  await o.goto(`${BASE}/units/${unit}`);
  const row = o.locator(`#service-metrics tr[data-month="${after.month}"]`);
  assert.equal((await row.locator('.satisfaction').textContent()).trim(), after.satisfaction);
  await shot(o, 'service-unit-office');

  citizen.clean();
  office.clean();
  department.clean();
});

test('the office edits a service category; the administrator sets the service settings', async (t) => {
  const { page, clean } = await open(t);
  await login(page, 'office');
  await page.goto(`${BASE}/service/categories`);
  assert.ok(await page.locator('#categories tr[data-code="road"]').count(), 'the demo categories are listed');
  await shot(page, 'service-categories');
  await page.click('#categories tr[data-code="road"] a >> nth=0');
  await page.waitForLoadState('load');
  assert.equal(await page.inputValue('#cat-name'), '道路破损');
  // A bad time limit is refused with the field named, nothing saved.
  await page.fill('#cat-sla', '999');
  await page.locator('#cat-sla').evaluate((e) => e.removeAttribute('max'));
  await page.click('#category-save');
  await page.waitForLoadState('load');
  assert.match(await page.textContent('#form-errors'), /办理时限/);
  await shot(page, 'service-category-error');
  await page.goto(`${BASE}/service/categories/road`);
  assert.equal(await page.inputValue('#cat-sla'), '3', 'unchanged');
  await shot(page, 'service-category-edit');
  clean(/status of 400/);

  const admin = await open(t);
  await login(admin.page, 'admin');
  await admin.page.goto(`${BASE}/admin/settings`);
  assert.ok(await admin.page.isVisible('#workdays'));
  await admin.page.fill('#workdays', '2027-02-06\n2027-02-30');
  await admin.page.click('#settings-save');
  await admin.page.waitForLoadState('load');
  assert.match(await admin.page.textContent('[data-field="workdays"]'), /第 2 行/);
  await shot(admin.page, 'service-settings-error');
  admin.clean(/status of 400/);
});
