// Browser end-to-end test of configuration and monthly reporting (issue 6): the
// office amends the scheme in the browser, then one month of one unit goes through
// the whole workflow, each step by the role that takes it, in its own browser
// context. On the demo of scripts/browser-test (January–November 2027 accepted,
// December not reported) 区发改局 (u09) reports December 2027:
//
//   office edits a draft of the 2027 scheme (a new indicator under 经济发展, its
//   formula checked as typed, the points check going red and green again, a reorder)
//   and publishes it as a new version → reporter saves a draft and submits → head approves → office returns one indicator
//   → reporter fixes it (a big jump: the form asks for a reason) and submits again →
//   head approves again → office accepts the month on the status page → the unit's
//   total is the one of December.
//
// The steps run in order and share what they found; once one fails the later ones are
// skipped. A first step returns whatever an earlier run left submitted, approved or
// accepted, so the test also runs again on the same database.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, login, open, shot, useBrowser } from './helpers.js';

useBrowser();

const UNIT = 'u09';
const UNIT_NAME = '区发改局';
const MONTH = '2027-12';
const FORM = `/units/${UNIT}/report/${MONTH}`;
/** The indicator the office returns: 招商引资到位资金, reported every month. */
const RETURNED = 'A11';
const STATE = {
  none: '未填报',
  draft: '草稿',
  submitted: '已提交',
  approved: '单位已审核',
  accepted: '考核办已接收',
  returned: '已退回',
};
/** The states the office can return an entry from. */
const RETURNABLE = [STATE.submitted, STATE.approved, STATE.accepted];

/**
 * Values for fields the demo has no November value of (quarterly and annual
 * indicators), plausible for a district department in December. Fields with a
 * November value take that value, so that the big-jump rule does not fire.
 */
const PLAUSIBLE = {
  'v.A12.增速': '10.6',
  'v.A46.问题数': '5',
  'v.A46.已整改': '5',
  'v.B11.报备文件': '2',
  'v.B11.按时报备': '2',
  'v.B13.案件数': '1',
  'v.B13.纠错数': '0',
  'v.B21.公开得分': '88.5',
  'v.B31.考核得分': '93',
  'v.B32.通报次数': '0',
  'v.C11.学习次数': '3',
  'v.C12.责任制落实': '1',
  'v.C12.舆情处置': '0',
  'v.C21.满意度': '92.4',
  'v.C31.参训率': '97',
  'v.X4.争取资金': '650',
};

// What the steps found and later steps check.
const found = {
  /** Indicator ids of the form, in its order. */
  indicators: [],
  /** The values the reporter typed, by input name. */
  typed: {},
  /** The unit's total and its period on /units/u09 before December counted. */
  totalBefore: null,
  periodBefore: null,
  /** The corrected value of the returned indicator's first field. */
  fixed: null,
};

let failed = null;

/** One step of the workflow; skipped once an earlier step failed. */
function step(name, fn) {
  test(name, async (t) => {
    if (failed) {
      t.skip(`an earlier step failed: ${failed}`);
      return;
    }
    try {
      await fn(t);
    } catch (e) {
      failed = name;
      throw e;
    }
  });
}

/** The workflow state shown for each indicator of the form, by indicator id. */
async function states(page) {
  const tags = await page.locator('#report-table [id^="state-"]').evaluateAll((els) =>
    els.map((el) => [el.id.slice('state-'.length), el.textContent.trim()]),
  );
  return Object.fromEntries(tags);
}

/** Asserts that every indicator of the form shows `state`, but those of `except`. */
async function assertStates(page, state, except = {}) {
  const shown = await states(page);
  assert.deepEqual(Object.keys(shown), found.indicators, 'the form lists the same indicators');
  const expected = Object.fromEntries(found.indicators.map((id) => [id, except[id] ?? state]));
  assert.deepEqual(shown, expected);
}

/** The editable fields of the form: input name, what the field is, last month's value. */
async function fields(page) {
  return page.locator('#report-table input[name^="v."]').evaluateAll((inputs) =>
    inputs.map((input) => {
      const cell = input.closest('td');
      const about = cell.previousElementSibling; // name, type and bounds of the field
      return {
        name: input.name,
        indicator: input.name.split('.')[1],
        label: about.firstChild.textContent.trim(),
        about: about.querySelector('.muted')?.textContent.trim() ?? '',
        lastMonth: cell.nextElementSibling.textContent.trim(),
        value: input.value,
      };
    }),
  );
}

/** A plausible December value of a field. */
function plausible(field) {
  if (field.lastMonth !== '') return field.lastMonth;
  if (field.name in PLAUSIBLE) return PLAUSIBLE[field.name];
  // A field this test does not know (the demo scheme changed): a value inside its bounds.
  if (/是\/否/.test(field.about)) return '1';
  if (/百分比/.test(field.about)) return '95';
  const low = field.about.match(/(-?\d+(?:\.\d+)?) –/) ?? field.about.match(/≥ (-?\d+(?:\.\d+)?)/);
  return low ? low[1] : '1';
}

/** Clicks a button that posts the form and waits for the page it redirects to with `flash`. */
async function post(page, button, flash) {
  await page.click(button);
  await page.waitForURL((u) => u.searchParams.get('flash') === flash);
}

/** The unit's total on its page and the period shown beside it. */
async function unitTotal(page) {
  await page.goto(`${BASE}/units/${UNIT}`);
  if ((await page.locator('#unit-total').count()) === 0) return { total: null, period: null };
  const total = (await page.textContent('#unit-total')).trim();
  const label = await page.locator('.stat', { has: page.locator('#unit-total') }).locator('.l').textContent();
  const period = label.match(/\d{4}-(?:\d{2}|Q\d)/)?.[0] ?? null;
  return { total, period };
}

const isScore = (text) => /^-?\d+(\.\d+)?$/.test(text);

/** The indicator the office adds, and the one whose points it takes. */
const ADDED = 'A19';
const SHRUNK = 'A11';

step('the office adds an indicator in the scheme editor and publishes the new version', async (t) => {
  const { page, clean } = await open(t);
  await login(page, 'office');
  await page.goto(`${BASE}/schemes/2027`);
  await page.click('#edit-draft');
  if (await page.locator('#draft-discard').count()) {
    // A draft an earlier run left.
    page.once('dialog', (d) => d.accept());
    await post(page, '#draft-discard button', 'draft_discarded');
    await page.goto(`${BASE}/schemes/2027/draft`);
  }
  await post(page, '#draft-start-button', 'draft_started');
  assert.equal(await page.textContent('#flash'), '草稿已创建，可以开始编辑。');
  assert.ok(await page.locator('#draft-valid').isVisible(), 'a copy of a version is valid');
  if (await page.locator(`#node-${ADDED}`).count()) {
    // An earlier run published it already: nothing to add.
    page.once('dialog', (d) => d.accept());
    await post(page, '#draft-discard button', 'draft_discarded');
    clean();
    return;
  }
  assert.match(await page.textContent('#node-A1'), /∑ 18 \/ 18 ✓/);

  await page.selectOption('#add-parent', 'A1');
  await page.fill('#add-id', ADDED);
  await page.fill('#add-name', '数字经济核心产业增加值');
  await post(page, '#draft-add-button', 'draft_saved');
  assert.equal(new URL(page.url()).pathname, `/schemes/2027/draft/nodes/${ADDED}`);
  // The formula is checked by the engine while it is typed.
  await page.fill('#n-fields', 'value | 增加值(亿元) | number | last | 0');
  await page.fill('#n-params', 'target = 12');
  await page.fill('#n-points', '2');
  await page.fill('#formula', 'min(valu / target, 1) * points');
  await page.locator('#try-result .alert').waitFor();
  assert.match(await page.textContent('#try-result'), /valu/);
  await page.fill('#formula', 'min(value / target, 1) * points');
  await page.locator('#try-result #live-score').waitFor();
  await shot(page, 'scheme-editor-node');
  await post(page, '#node-save', 'draft_saved');

  await page.goto(`${BASE}/schemes/2027/draft`);
  assert.match(await page.textContent('#node-A1'), /∑ 20 \/ 18 ✗/, 'the parent no longer adds up');
  assert.match(await page.textContent('#draft-issues'), /A1/);
  assert.ok(await page.locator('#draft-save-button').isDisabled(), 'an invalid draft cannot be saved');
  // The two points come from the investment indicator.
  await page.goto(`${BASE}/schemes/2027/draft/nodes/${SHRUNK}`);
  await page.fill('#n-points', '3');
  await post(page, '#node-save', 'draft_saved');
  await page.goto(`${BASE}/schemes/2027/draft`);
  assert.match(await page.textContent('#node-A1'), /∑ 18 \/ 18 ✓/);
  await post(page, `#node-${ADDED} button[value=up]`, 'draft_saved');
  const order = await page.locator('#draft-tree tr[id^="node-A1"]').evaluateAll((rows) => rows.map((r) => r.id.slice(5)));
  assert.ok(order.indexOf(ADDED) < order.length - 1, `${ADDED} moved up: ${order.join(' ')}`);
  assert.ok(await page.locator('#draft-valid').isVisible());
  await shot(page, 'scheme-editor-tree');

  await page.fill('#draft-reason', '增设数字经济核心产业增加值指标，分值从招商引资调剂');
  await post(page, '#draft-save-button', 'scheme_imported');
  assert.match(await page.textContent('main h1'), /v\d+/);
  assert.ok(await page.locator(`a[href="/schemes/2027/indicators/${ADDED}"]`).count(), 'the new version has the indicator');
  page.once('dialog', (d) => d.accept());
  await post(page, '#publish', 'scheme_published');
  assert.equal(await page.textContent('#flash'), '方案版本已发布。');
  clean();
});

step('the office returns what an earlier run left in the workflow', async (t) => {
  const { page, clean } = await open(t);
  await login(page, 'office');
  await page.goto(`${BASE}${FORM}`);
  const left = Object.entries(await states(page)).filter(([, s]) => RETURNABLE.includes(s));
  for (const [id] of left) {
    await page.click(`#return-${id} summary`);
    await page.fill(`#return-reason-${id}`, '重新运行浏览器测试');
    await post(page, `#return-button-${id}`, 'report_return');
    assert.equal((await states(page))[id], STATE.returned);
  }
  // On a fresh demo nothing is left, and the unit's latest total does not count December yet.
  const before = await unitTotal(page);
  found.totalBefore = before.total;
  found.periodBefore = before.period;
  clean();
});

step('the reporter fills December, saves a draft and submits it', async (t) => {
  const { page, clean } = await open(t);
  await login(page, 'reporter');

  // /report opens the unit's form of the month due: the month before today's on the
  // server's clock (scripts/browser-test starts it on 5 January 2028), December 2027.
  await page.goto(`${BASE}/report`);
  assert.equal(new URL(page.url()).pathname, FORM);

  const response = await page.goto(`${BASE}${FORM}`);
  assert.equal(response.status(), 200);
  assert.match(await page.textContent('main h1'), new RegExp(`月度填报 · ${UNIT_NAME}`));
  found.indicators = Object.keys(await states(page));
  assert.ok(found.indicators.length >= 10, `December has indicators due (${found.indicators.length})`);
  assert.ok(found.indicators.includes(RETURNED), `${RETURNED} is due in December`);
  const initial = await states(page);
  for (const [id, s] of Object.entries(initial)) {
    assert.ok([STATE.none, STATE.draft, STATE.returned].includes(s), `${id} can be filled in (${s})`);
  }

  const inputs = await fields(page);
  assert.deepEqual([...new Set(inputs.map((f) => f.indicator))], found.indicators, 'every indicator has inputs');
  for (const f of inputs) {
    const value = plausible(f);
    found.typed[f.name] = value;
    await page.fill(`input[name="${f.name}"]`, value);
  }
  await post(page, '#save', 'report_save');
  assert.equal(await page.textContent('#flash'), '草稿已保存。');
  // A save keeps a returned entry returned; everything else is a draft now.
  const afterSave = {};
  for (const [id, s] of Object.entries(initial)) afterSave[id] = s === STATE.returned ? STATE.returned : STATE.draft;
  await assertStates(page, STATE.draft, afterSave);
  for (const f of await fields(page)) {
    assert.equal(f.value, found.typed[f.name], `${f.name} keeps the saved value`);
  }
  // The score each indicator would get from the saved values.
  for (const id of found.indicators) {
    assert.ok(isScore(await page.textContent(`#score-${id}`)), `${id} shows a score`);
  }
  assert.equal(await page.locator('#report-error').count(), 0);
  await shot(page, 'report-draft');

  await post(page, '#submit', 'report_submit');
  assert.equal(await page.textContent('#flash'), '已提交，等待单位负责人审核。');
  await assertStates(page, STATE.submitted);
  assert.equal(await page.locator('#report-table input[name^="v."]').count(), 0, 'submitted values are no longer editable');
  assert.equal(await page.locator('#save, #submit, #approve, #accept').count(), 0, 'the reporter has nothing more to do');
  await shot(page, 'report-submitted');
  clean();
});

step('the head approves the submitted month', async (t) => {
  const { page, clean } = await open(t);
  await login(page, 'head');
  await page.goto(`${BASE}${FORM}`);
  await assertStates(page, STATE.submitted);
  assert.equal(await page.locator('#report-table input[name^="v."]').count(), 0, 'the head does not edit values');
  assert.equal(await page.locator('#save').count(), 0);
  await post(page, '#approve', 'report_approve');
  assert.equal(await page.textContent('#flash'), '已审核通过，报送考核办。');
  await assertStates(page, STATE.approved);
  assert.equal(await page.locator('#approve').count(), 0, 'nothing is left to approve');
  await shot(page, 'report-approved');
  clean();
});

step('the office returns one indicator with a reason', async (t) => {
  const { page, clean } = await open(t);
  await login(page, 'office');
  await page.goto(`${BASE}${FORM}`);
  await assertStates(page, STATE.approved);
  assert.ok(await page.isVisible('#accept'), 'the office may accept the form');
  const returnable = await page.locator('details.return-entry').evaluateAll((ds) => ds.map((d) => d.dataset.indicator));
  assert.deepEqual(returnable, found.indicators, 'every reported indicator has its own return control');
  await page.click(`#return-${RETURNED} summary`);
  await page.fill(`#return-reason-${RETURNED}`, '12月新签约项目的到位资金未计入，请核实后重新填报。');
  await shot(page, 'report-return-control');
  await post(page, `#return-button-${RETURNED}`, 'report_return');
  assert.equal(await page.textContent('#flash'), '已退回并通知填报人。');
  await assertStates(page, STATE.approved, { [RETURNED]: STATE.returned });
  await shot(page, 'report-returned');
  clean();
});

step('the reporter corrects the returned indicator, gives the reason for the jump and submits again', async (t) => {
  const { page, clean } = await open(t);
  await login(page, 'reporter');
  await page.goto(`${BASE}${FORM}`);
  await assertStates(page, STATE.approved, { [RETURNED]: STATE.returned });
  assert.match(await page.textContent(`#row-${RETURNED}-1 .returned-because`), /^退回原因：/, 'the reporter sees why it came back');
  const inputs = await fields(page);
  assert.ok(inputs.length > 0, 'the returned indicator can be edited');
  assert.deepEqual([...new Set(inputs.map((f) => f.indicator))], [RETURNED], 'only the returned indicator can be edited');

  // The corrected value is 60 % above November's: the form asks why.
  const [first] = inputs;
  assert.ok(isScore(first.lastMonth), `${first.name} has last month's value`);
  found.fixed = String(Math.round(Number(first.lastMonth) * 160) / 100);
  await page.fill(`input[name="${first.name}"]`, found.fixed);
  assert.equal(await page.locator(`input[name="why.${RETURNED}"]`).count(), 0, 'no reason asked before');
  await page.click('#submit');
  await page.locator('#report-error').waitFor();
  assert.equal(await page.textContent('#report-error'), '表单有误，请按提示修改后再保存。');
  const message = await page.locator(`#row-${RETURNED}-1 .error:not(.returned-because)`).first().textContent();
  assert.match(message, /变化较大，请填写原因/);
  assert.ok(message.includes(first.lastMonth) && message.includes(found.fixed), `the message names both values: ${message}`);
  assert.equal(await page.inputValue(`input[name="${first.name}"]`), found.fixed, 'the typed value is kept');
  await assertStates(page, STATE.approved, { [RETURNED]: STATE.returned });
  await shot(page, 'report-jump');

  await page.fill(`input[name="why.${RETURNED}"]`, '12月新签约两个产业项目，资金已到位。');
  await post(page, '#submit', 'report_submit');
  assert.equal(await page.textContent('#flash'), '已提交，等待单位负责人审核。');
  await assertStates(page, STATE.approved, { [RETURNED]: STATE.submitted });
  assert.equal((await page.textContent(`#row-${RETURNED}-1 td.field`)).trim(), found.fixed);
  clean(/status of 400/);
});

step('the head approves the corrected indicator', async (t) => {
  const { page, clean } = await open(t);
  await login(page, 'head');
  await page.goto(`${BASE}${FORM}`);
  await assertStates(page, STATE.approved, { [RETURNED]: STATE.submitted });
  await post(page, '#approve', 'report_approve');
  await assertStates(page, STATE.approved);
  clean();
});

step('the office accepts the month on the status page; the scores count December', async (t) => {
  const { page, clean } = await open(t);
  await login(page, 'office');
  await page.goto(`${BASE}/reports?month=${MONTH}`);
  assert.match(await page.textContent('main h1'), new RegExp(MONTH));
  const headers = (await page.locator('#reports-table tr').first().locator('th').allTextContents()).map((h) => h.trim());
  const column = (name) => {
    const i = headers.indexOf(name);
    assert.ok(i >= 0, `the status table has the column ${name}: ${headers}`);
    return i;
  };
  const row = page.locator('#reports-table tr', { has: page.locator(`a[href="${FORM}"]`) });
  assert.equal(await row.count(), 1, 'the unit has one line');
  const cells = async () => (await row.locator('td').allTextContents()).map((c) => c.trim());
  const n = String(found.indicators.length);
  let line = await cells();
  assert.equal(line[0], UNIT_NAME);
  assert.equal(line[column('应报指标')], n, 'every indicator is due');
  assert.equal(line[column(STATE.approved)], n, 'every indicator is approved');
  assert.equal(line[column('未报')], '0');

  let question = null;
  page.once('dialog', async (dialog) => {
    question = dialog.message();
    await dialog.accept();
  });
  await post(page, '#accept-all', 'report_accept_all');
  assert.equal(question, '确定要执行此操作吗？', 'the office is asked before accepting');
  assert.equal(await page.textContent('#flash'), '已接收本月全部已审核数据，得分已更新。');
  line = await cells();
  assert.equal(line[column(STATE.accepted)], n, 'every indicator is accepted');
  assert.equal(line[column(STATE.approved)], '0');
  assert.equal(line[column('未报')], '0');
  assert.equal(await page.locator('#accept-all').count(), 0, 'nothing is left to accept');
  await shot(page, 'reports-status');

  await page.goto(`${BASE}${FORM}`);
  await assertStates(page, STATE.accepted);
  assert.equal((await page.textContent(`#row-${RETURNED}-1 td.field`)).trim(), found.fixed, 'the corrected value is the accepted one');
  for (const id of found.indicators) {
    assert.ok(isScore(await page.textContent(`#score-${id}`)), `${id} has a score`);
  }
  assert.equal(await page.locator('details.return-entry').count(), found.indicators.length, 'accepted data can still be returned');
  // In a window narrower than the table, the table scrolls inside its wrapper and the page does not.
  await page.setViewportSize({ width: 800, height: 800 });
  const wrap = await page.locator('.table-wrap', { has: page.locator('#report-table') }).evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
  assert.ok(wrap.scroll > wrap.client, `the table scrolls in its wrapper (${wrap.scroll}px in ${wrap.client}px)`);
  await shot(page, 'report-narrow', { full: false });
  await page.setViewportSize({ width: 1280, height: 800 });

  // The unit's page shows its total of the latest month with data: December now.
  const { total, period } = await unitTotal(page);
  assert.equal(period, MONTH);
  assert.ok(isScore(total), `the total is a number: ${total}`);
  assert.notEqual(total, found.totalBefore, `the total changed from ${found.totalBefore} (${found.periodBefore})`);
  await shot(page, 'unit-after');
  clean();
});
