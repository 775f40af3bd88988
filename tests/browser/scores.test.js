// Browser test of what a leader looks at (issue 7): the ranking of November 2027 in
// the demo district with its warning lights and charts, the red lights of the
// street offices, one unit's tree, and the drill-down of one score to its entries.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, login, open, shot, useBrowser } from './helpers.js';

useBrowser();

test('a leader sees where every unit stands, which lights are red and why', async (t) => {
  const { page, clean } = await open(t);
  await login(page, 'leader');
  await page.click('#menu a:text("考核结果")');
  await page.waitForURL((u) => u.pathname === '/scores');
  await page.goto(`${BASE}/scores?period=2027-11`);
  const counts = {};
  for (const l of ['red', 'yellow', 'green']) counts[l] = Number(await page.textContent(`#count-${l}`));
  assert.equal(counts.red + counts.yellow + counts.green, 76, `every unit has a light: ${JSON.stringify(counts)}`);
  assert.ok((await page.locator('section.card .chart svg').count()) >= 2, 'a bar chart per group');
  await shot(page, 'scores-ranking');
  await shot(page, 'scores-ranking-top', { full: false });

  // The red lights among the street offices, each with its reason.
  await page.goto(`${BASE}/scores?period=2027-11&light=red`);
  const rows = await page.locator('table.ranking tr[id^=unit-]').count();
  assert.equal(rows, counts.red, 'the filter keeps the red units');
  if (rows > 0) {
    const why = await page.locator('table.ranking tr[id^=unit-] .small-text').first().textContent();
    assert.ok(why.trim().length > 0, 'the rule that lit it is shown');
  }

  // One unit, and one of its scores down to the entries.
  await page.goto(`${BASE}/scores/2027-11/units/u09`);
  assert.match(await page.textContent('main h1'), /区发改局/);
  assert.ok(await page.locator('#unit-tree td.spark svg').count() > 0, 'indicators have sparklines');
  await shot(page, 'scores-unit');
  await page.click('#unit-tree a.score >> nth=0');
  await page.waitForURL((u) => u.pathname.includes('/indicators/'));
  assert.ok(await page.locator('#explanation code').count() > 0, 'the formula is shown');
  assert.ok(await page.locator('#explain-inputs tr').count() > 1, 'the inputs are listed');
  await shot(page, 'scores-explain');
  clean();
});

test('a leader reads the analysis report and follows a number to its evidence', async (t) => {
  const { page, clean } = await open(t);
  await login(page, 'leader');
  await page.goto(`${BASE}/scores?period=2027-11`);
  await page.click('#analysis-link');
  await page.waitForURL((u) => u.pathname === '/scores/2027-11/analysis');
  assert.match(await page.textContent('main h1'), /2027年11月绩效考核分析报告/);
  for (const id of ['overview', 'moves', 'lagging', 'red', 'reporting', 'records']) {
    assert.ok(await page.locator(`#analysis-${id} li`).count() > 0, `section ${id} has sentences`);
  }
  assert.ok(await page.locator('#analysis-overview figure.chart svg').count() >= 3, 'a chart per group');
  await shot(page, 'analysis');
  await shot(page, 'analysis-top', { full: false });
  // A laggard's pace links to the indicator's drill-down.
  await page.click('#analysis-lagging li a >> nth=0');
  await page.waitForURL((u) => u.pathname.includes('/indicators/'));
  assert.ok(await page.locator('#explanation code').count() > 0, 'the formula behind the number');
  // The print view: A4, no script.
  await page.goto(`${BASE}/scores/2027-11/analysis/print`);
  assert.equal(await page.locator('script').count(), 0);
  await page.emulateMedia({ media: 'print' });
  await shot(page, 'analysis-print');
  clean();
});
