// What every browser test file shares: the server's address, the demo accounts, one
// chromium per test file, fresh contexts with error tracking, checked screenshots,
// login and logout. Run the tests with scripts/browser-test, which sets
// JIXIAO_BASE_URL and JIXIAO_SCREENSHOTS.
//
// Every page a context opens is checked for script errors and CSP violations (both
// reach the console), and every screenshot for a page wider than the window.

import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const BASE = process.env.JIXIAO_BASE_URL;
if (!BASE) {
  throw new Error('JIXIAO_BASE_URL is not set: run these tests with scripts/browser-test');
}
export const SHOTS = process.env.JIXIAO_SCREENSHOTS || path.resolve(import.meta.dirname, '../../test-artifacts/screenshots');
mkdirSync(SHOTS, { recursive: true });

/** The password of a demo account of crates/core/src/generate/users.rs. */
export const password = (user) => `Demo!2027${user}`;

let browser;

/**
 * Launches chromium before the tests of the calling file and closes it after them.
 * launch() gives chromium a fresh temporary profile (user-data-dir) of its own and
 * removes it on close.
 */
export function useBrowser() {
  before(async () => {
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  after(async () => {
    await browser?.close();
  });
}

/** A fresh browser context (no cookies) with a Chinese browser, and one page in it. */
export async function open(t, options = {}) {
  assert.ok(browser, 'useBrowser() was called in this test file');
  const context = await browser.newContext({
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    viewport: { width: 1280, height: 800 },
    ...options,
  });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`script error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  t.after(async () => {
    await context.close();
  });
  return {
    page,
    /**
     * Fails the test if any page of this context had a script error or a CSP violation;
     * `expected` matches messages the test itself provoked (a page answered 403).
     */
    clean(expected = null) {
      const left = problems.filter((p) => !(expected && expected.test(p)));
      assert.deepEqual(left, [], 'pages log no errors');
    },
  };
}

/** A screenshot (of the whole page unless `full` is false), after checking that nothing is wider than the window. */
export async function shot(page, name, { full = true } = {}) {
  const { scroll, client } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  assert.ok(scroll <= client, `${name}: the page is ${scroll}px wide in a ${client}px window`);
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: full });
}

/** The texts of the role menu. */
export async function menu(page) {
  return page.locator('#menu a').allTextContents();
}

export async function login(page, user, pass = password(user)) {
  await page.goto(`${BASE}/login`);
  await page.fill('#username', user);
  await page.fill('#password', pass);
  await page.click('#login-submit');
  await page.waitForLoadState('load');
}

export async function logout(page) {
  await page.click('#logout');
  await page.waitForURL((u) => u.pathname === '/login');
  assert.equal(await page.textContent('#flash'), '您已安全退出。');
  assert.equal(await page.locator('#menu').count(), 0, 'no menu once signed out');
}

/**
 * The answer of the CAPTCHA on `page`'s public form, read from the test's own database
 * (JIXIAO_TEST_DATABASE, set by scripts/browser-test): the server never shows or logs
 * it, so a test reads it where only the owner of the database can. The challenge is
 * stored under the SHA-256 of the token the form carries.
 */
export async function captchaAnswer(page) {
  const db = process.env.JIXIAO_TEST_DATABASE;
  if (!db) {
    throw new Error('JIXIAO_TEST_DATABASE is not set: run these tests with scripts/browser-test');
  }
  const token = await page.getAttribute('input[name="captcha_token"]', 'value');
  const hash = createHash('sha256').update(token).digest('hex');
  const read = 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); '
    + 'print(c.execute("SELECT answer FROM captcha_challenges WHERE token_hash = ?", (sys.argv[2],)).fetchone()[0])';
  return execFileSync('python3', ['-c', read, db, hash], { encoding: 'utf8' }).trim();
}
