// Browser test of a supervision task (督办事项, issue 16) from end to end: the leader
// opens a task from a red warning light of 区发改局 (the demo reporter's unit), the
// unit signs, reports progress with evidence and asks for an extension, the leader
// approves it, the unit claims the task done, the office verifies and evaluates it.
// Then the office verifies and evaluates the unit's task of the demo year that was
// waiting for its check, and the unit's supervision score of December moves. The
// ledger, its filters and the leader's dashboard are looked at too; every page on
// the way is kept as a screenshot.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, login, open, shot, useBrowser } from './helpers.js';

useBrowser();

// A tiny PDF, as the unit's meeting minutes.
const PDF = Buffer.from('%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n');

/** The score of a node on a unit's month page, as a number (0 when absent). */
async function scoreOf(page, period, node) {
  await page.goto(`${BASE}/scores/${period}/units/u09`);
  const cell = page.locator(`#line-${node} .score, #line-${node} strong`).first();
  return (await cell.count()) ? Number((await cell.textContent()).trim()) : 0;
}

/** Takes the step `name` on the open task page, filling `fields` first. */
async function step(page, name, fields = {}) {
  const form = page.locator(`#step-${name}`);
  await form.waitFor();
  for (const [field, value] of Object.entries(fields)) {
    const input = form.locator(`[name="${field}"]`);
    if ((await input.evaluate((e) => e.tagName)) === 'SELECT') {
      await input.selectOption(value);
    } else {
      await input.fill(value);
    }
  }
  await Promise.all([page.waitForURL(/flash=/), form.locator('button[type=submit]').click()]);
  assert.ok(await page.locator('#flash').count(), `${name}: the page says it is done`);
}

test('a leader assigns a task from a red light; the unit handles it; the office verifies and evaluates; the unit\'s score moves', async (t) => {
  const leader = await open(t);
  const unit = await open(t);
  const office = await open(t);
  await login(leader.page, 'leader');
  await login(unit.page, 'reporter');
  await login(office.page, 'office');
  const l = leader.page;
  const u = unit.page;
  const o = office.page;

  // 1. The leader's dashboard, then 区发改局's month page with its red lights.
  await l.goto(`${BASE}/supervision/dashboard`);
  assert.ok(await l.locator('#dash-u09').count(), 'the unit is on the dashboard');
  await shot(l, 'supervision-dashboard');
  // The latest month in which 区发改局 has a red indicator, with its 督办 button.
  let opened;
  let month;
  for (let m = 11; m >= 1 && !opened; m -= 1) {
    month = `2027-${String(m).padStart(2, '0')}`;
    await l.goto(`${BASE}/scores/${month}/units/u09`);
    const buttons = l.locator('a.supervise');
    if (await buttons.count()) {
      opened = (await buttons.first().getAttribute('id')).replace('supervise-', '');
      await shot(l, 'supervision-red-light');
      await buttons.first().click();
    }
  }
  assert.ok(opened, '区发改局 has a red indicator in some month of 2027');
  await l.waitForURL(/\/supervision\/new\?source_kind=red_light/);
  assert.equal(await l.inputValue('#task-lead'), 'u09', 'the lead unit comes from the light');
  assert.match(await l.inputValue('#task-title'), new RegExp(`区发改局：.*（${month}）红灯整改`));
  assert.match(await l.textContent('#task-source'), new RegExp(`u09/${month}/${opened}`));
  await l.fill('#task-outputs', '整改报告、项目推进台账');
  await shot(l, 'supervision-new-from-light');
  await Promise.all([l.waitForURL(/\/supervision\/tasks\/\d+\?flash=supervision_assigned/), l.click('#task-submit')]);
  const taskUrl = l.url().split('?')[0];
  assert.equal(await l.textContent('#task-state'), '已交办');
  await shot(l, 'supervision-assigned');

  // 2. The unit signs, reports progress with evidence, asks for an extension.
  await u.goto(taskUrl);
  await step(u, 'sign', { leader_name: '赵建国', person_name: '刘洋' });
  assert.equal(await u.textContent('#task-state'), '办理中');
  await step(u, 'report', { text: '已召开专题会，逐个项目明确责任人和时间表。' });
  await u.setInputFiles('#evidence-file', { name: '专题会纪要.pdf', mimeType: 'application/pdf', buffer: PDF });
  await Promise.all([u.waitForURL(/flash=evidence_added/), u.click('#evidence-submit')]);
  assert.equal(await u.locator('#evidence-list a.evidence-link').first().textContent(), '专题会纪要.pdf');
  const deadline = await u.textContent('#task-deadline');
  const later = new Date(`${deadline}T00:00:00Z`);
  later.setUTCDate(later.getUTCDate() + 14);
  const until = later.toISOString().slice(0, 10);
  await step(u, 'request_extension', { until, text: '两个项目需等待省级批复。' });
  assert.equal(await u.textContent('#task-state'), '申请延期');
  assert.equal(await u.textContent('#task-requested'), until);
  await shot(u, 'supervision-extension-requested');

  // 3. The leader approves the extension: the deadline moves.
  await l.goto(taskUrl);
  await step(l, 'approve_extension', { text: '同意延期两周。' });
  assert.equal(await l.textContent('#task-deadline'), until);

  // 4. The unit claims it done.
  await u.goto(taskUrl);
  await step(u, 'claim', { text: '整改措施全部落实，附项目推进台账。' });
  assert.equal(await u.textContent('#task-state'), '办结待核');
  assert.equal(await u.locator('#evidence-form').count(), 0, 'no more evidence once claimed');

  // 5. The office verifies and evaluates.
  await o.goto(taskUrl);
  await step(o, 'verify', { text: '台账与现场一致。' });
  await step(o, 'evaluate', { 'grade.u09': 'excellent', text: '整改迅速，成效明显。' });
  assert.equal(await o.textContent('#task-state'), '已办结');
  assert.equal((await o.textContent('#unit-u09')).includes('95'), true, 'the grade stands for 95');
  const history = await o.locator('#history').textContent();
  for (const s of ['交办', '签收', '进展报告', '上传佐证材料', '申请延期', '同意延期', '申请办结', '核验通过', '评价']) {
    assert.ok(history.includes(s), `${s} is in the history`);
  }
  await shot(o, 'supervision-evaluated');

  // 6. The unit's December: the demo task it claimed is verified and evaluated by the
  // office, finished on time — its supervision score moves.
  const before = await scoreOf(u, '2027-12', 'W1');
  await shot(u, 'supervision-score-before');
  await o.goto(`${BASE}/supervision?unit=u09&state=claimed`);
  await shot(o, 'supervision-ledger-claimed');
  const waiting = o.locator('#ledger a[href^="/supervision/tasks/"]');
  assert.ok(await waiting.count(), 'the demo task of 区发改局 waits for the office');
  await waiting.first().click();
  await step(o, 'verify');
  await step(o, 'evaluate', { 'score.u09': '88', text: '按期完成。' });
  const after = await scoreOf(u, '2027-12', 'W1');
  // W1 = min(1.5, on_time × 0.5) − overdue × 0.5: one more task finished on time.
  assert.equal(Math.round((after - before) * 100) / 100, 0.5, `W1 ${before} → ${after}`);
  await shot(u, 'supervision-score-after');

  // The ledger as the unit sees it, and its export.
  await u.goto(`${BASE}/supervision`);
  assert.ok((await u.textContent('#figures')).length > 0);
  await shot(u, 'supervision-ledger');
  const [download] = await Promise.all([u.waitForEvent('download'), u.click('#export')]);
  assert.match(download.suggestedFilename(), /督办台账.*\.xlsx$/);

  leader.clean();
  unit.clean();
  office.clean();
});
