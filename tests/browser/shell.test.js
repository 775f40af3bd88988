// Browser end-to-end tests of the web shell (issue 5): Debian's chromium, driven by
// playwright-core, against a demo database served by `jixiao serve`. Run them with
// scripts/browser-test, which sets JIXIAO_BASE_URL and JIXIAO_SCREENSHOTS.
//
// helpers.js checks every page a test opens for script errors and CSP violations (both
// reach the console), and every screenshot for a page wider than the window.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, login, logout, menu, open, shot, useBrowser } from './helpers.js';

useBrowser();

// The demo accounts of crates/core/src/generate/users.rs, and the menu each may see.
const MENU_ALL = ['首页', '单位', '考核结果', '考核方案', '考核通报', '加减分记录', '用户管理', '组织机构', '接口令牌', '系统设置', '个人设置'];
const MENU_SECURITY = ['首页', '考核通报', '安全策略', '个人设置'];
const MENU_AUDITOR = ['首页', '考核通报', '审计日志', '个人设置'];
const MENU_AUDIT = ['首页', '单位', '考核结果', '考核方案', '考核通报', '加减分记录', '领导驾驶舱', '督办事项', '审计日志', '个人设置'];
const MENU_OFFICE = ['首页', '单位', '考核结果', '考核方案', '数据填报', '考核通报', '加减分记录', '考核期', '领导驾驶舱', '督办事项', '诉求派单', '诉求类别', '短信记录', '接口密钥', '审计日志', '个人设置'];
const MENU_REPORTING = ['首页', '单位', '考核结果', '考核方案', '数据填报', '考核通报', '加减分记录', '个人设置'];
const MENU_UNIT = ['首页', '单位', '考核结果', '考核方案', '数据填报', '考核通报', '加减分记录', '督办事项', '本单位诉求', '个人设置'];
const MENU_PLAIN = ['首页', '单位', '考核结果', '考核方案', '考核通报', '加减分记录', '督办事项', '本单位诉求', '个人设置'];
const ROLES = [
  ['admin', MENU_ALL],
  ['security', MENU_SECURITY],
  ['auditor', MENU_AUDITOR],
  ['office', MENU_OFFICE],
  ['assessor', MENU_REPORTING],
  ['reporter', MENU_UNIT],
  ['head', MENU_UNIT],
  ['leader', MENU_AUDIT],
  ['staff', MENU_PLAIN],
];

// Unique per run, so that reruns on the same database do not collide.
const RUN = Date.now().toString(36);

test('the public front page lists the 76 demo units without login', async (t) => {
  const { page, clean } = await open(t);
  const response = await page.goto(`${BASE}/`);
  assert.equal(response.status(), 200);
  // The 76 units of the demo district, and besides them only units an earlier run of
  // these tests made (on a fresh demo database: none).
  const ids = await page.locator('.unit .id').allTextContents();
  assert.equal(ids.filter((id) => !id.startsWith('e2e_')).length, 76);
  assert.equal(await page.textContent('#unit-count'), String(ids.length));
  assert.equal(await page.locator('#menu').count(), 0, 'no menu before login');
  assert.ok(await page.isVisible('#login-link'));
  await shot(page, 'public-home');
  clean();
});

test('a wrong password shows the login error', async (t) => {
  const { page, clean } = await open(t);
  await login(page, 'staff', 'not-the-password');
  assert.equal(new URL(page.url()).pathname, '/login');
  const error = await page.textContent('#login-error');
  assert.match(error, /[\u4e00-\u9fff]/, 'the message is in Chinese');
  assert.equal(await page.inputValue('#username'), 'staff', 'the username is kept');
  assert.equal(await page.inputValue('#password'), '', 'the password is not');
  await shot(page, 'login-error');
  clean();
});

for (const [role, expected] of ROLES) {
  test(`${role} logs in, sees the dashboard and exactly the menu of the role, logs out`, async (t) => {
    const { page, clean } = await open(t);
    await login(page, role);
    assert.equal(new URL(page.url()).pathname, '/', 'the dashboard is the home page');
    assert.equal(await page.locator('#login-error').count(), 0);
    assert.match(await page.textContent('main h1'), /^您好，/);
    assert.ok(await page.isVisible('#due-month'), 'the dashboard shows the month due');
    assert.ok(await page.isVisible('#who-name'), 'the header names the user');
    assert.deepEqual(await menu(page), expected);
    assert.equal(await page.textContent('#menu a.active'), '首页');
    await shot(page, `dashboard-${role}`);
    await logout(page);
    clean();
  });
}

test('the language switch turns the pages into English and back', async (t) => {
  const { page, clean } = await open(t);
  await login(page, 'leader');
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  // With scripts on, the select submits itself and its button is hidden.
  assert.equal(await page.isHidden('[data-autosubmit-button]'), true);
  await page.selectOption('#lang-switch', 'en');
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  assert.equal(new URL(page.url()).pathname, '/', 'back on the page it was switched on');
  assert.deepEqual(await menu(page), ['Home', 'Units', 'Scores', 'Schemes', 'Bulletins', 'Records', 'Leader dashboard', 'Supervision', 'Audit log', 'My account']);
  assert.match(await page.textContent('main h1'), /^Welcome, /);
  await shot(page, 'language-en');
  // The choice is the user's: it holds on another page.
  await page.goto(`${BASE}/units`);
  assert.equal(await page.textContent('#menu a.active'), 'Units');
  await page.selectOption('#lang-switch', 'zh-CN');
  await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
  assert.equal(new URL(page.url()).pathname, '/units');
  assert.deepEqual(await menu(page), MENU_AUDIT);
  await shot(page, 'language-zh', { full: false });
  clean();
});

test('without scripts the language is switched by its button', async (t) => {
  const { page, clean } = await open(t, { javaScriptEnabled: false });
  await page.goto(`${BASE}/login`);
  assert.equal(await page.textContent('main h1'), '用户登录');
  await page.selectOption('#lang-switch', 'en');
  await page.click('[data-autosubmit-button]');
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  assert.equal(new URL(page.url()).pathname, '/login');
  assert.ok(await page.isVisible('#login-submit'));
  assert.equal(await page.textContent('#login-submit'), 'Log in');
  await shot(page, 'login-en-noscript');
  await page.selectOption('#lang-switch', 'zh-CN');
  await page.click('[data-autosubmit-button]');
  await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
  clean();
});

test('admin creates a unit and finds it in the list and the audit log', async (t) => {
  const { page, clean } = await open(t);
  await login(page, 'admin');
  const id = `e2e_${RUN}`;
  const name = `浏览器测试单位${RUN}`;

  await page.goto(`${BASE}/admin/units/new`);
  await page.fill('#id', id);
  await page.fill('#name', name);
  const groups = await page.locator('#group option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
  assert.ok(groups.length >= 2, 'the demo has groups to choose from');
  await page.selectOption('#group', groups[0]);
  await page.fill('#sort_order', '990');
  await shot(page, 'unit-form');
  await page.click('#save-unit');
  await page.waitForURL((u) => u.pathname === '/admin/units' && u.searchParams.get('flash') === 'unit_created');
  assert.equal(await page.textContent('#flash'), '单位已创建。');
  await shot(page, 'units-created', { full: false });

  await page.goto(`${BASE}/admin/units?q=${encodeURIComponent(id)}`);
  const rows = page.locator('#org-units tr', { hasText: id });
  assert.equal(await rows.count(), 1, 'the new unit is listed');
  assert.match(await rows.first().textContent(), new RegExp(name));
  await shot(page, 'units-list');

  // The audit log is the auditor's to read (三权分立), not the administrator's.
  const denied = await page.goto(`${BASE}/audit`);
  assert.equal(denied.status(), 403);
  clean(/status of 403/);
  const auditor = await open(t);
  await login(auditor.page, 'auditor');
  await auditor.page.goto(`${BASE}/audit?action=unit`);
  const entries = auditor.page.locator('#audit-table tr', { hasText: id });
  assert.equal(await entries.count(), 1, 'one audit entry names the new unit');
  const entry = await entries.first().textContent();
  assert.match(entry, /unit\.add/);
  assert.match(entry, new RegExp(name));
  assert.match(entry, /admin|王磊/, 'the entry names who did it');
  await shot(auditor.page, 'audit-unit');
  auditor.clean();
});

test('a reporter opening /admin/users gets the friendly 403 page', async (t) => {
  const { page, clean } = await open(t);
  await login(page, 'reporter');
  const response = await page.goto(`${BASE}/admin/users`);
  assert.equal(response.status(), 403);
  assert.ok(await page.isVisible('#error'));
  const text = await page.textContent('#error');
  assert.match(text, /无权访问/);
  assert.match(text, /您没有权限访问此页面或数据。/);
  assert.doesNotMatch(text, /ManageUsers|panic|Error\b/, 'no detail for the user');
  assert.deepEqual(await menu(page), MENU_UNIT, 'the menu is still the reporter\'s');
  await shot(page, 'forbidden');
  clean(/status of 403/);
});

test('the security administrator keeps the policy within compliant ranges', async (t) => {
  const { page, clean } = await open(t);
  await login(page, 'security');
  await page.goto(`${BASE}/admin/security`);
  assert.deepEqual(await menu(page), MENU_SECURITY);
  await shot(page, 'security-policy');
  // The browser's own range check would stop the form: ask the server.
  await page.evaluate(() => document.querySelector('#security-form').setAttribute('novalidate', ''));
  await page.fill('[id="security.lockout_threshold"]', '100');
  await page.click('#security-save');
  await page.waitForLoadState('load');
  assert.match(await page.textContent('[data-field="security.lockout_threshold"]'), /连续登录失败锁定次数：请输入 3 到 10 之间的整数/);
  await shot(page, 'security-policy-error');
  clean(/status of 400/);
});
