// Live events in the inbox page (js/events.js): a message sent from another
// browser shows in the open inbox within about two seconds, with the page's
// 15 s refresh switched off, so only the live event can have brought it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as lib from './lib.mjs';

let stack, url, browser;

before(async () => {
  stack = await lib.startStack('tests/lib/stack_serve.py');
  url = stack.url;
  browser = await lib.launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (stack) await stack.stop();
});

// The inbox page's periodic refresh (setInterval, 15 s) never fires.
const NO_POLL = () => {
  const setInterval = window.setInterval;
  window.setInterval = (fn, ms, ...args) => (ms === 15000 ? 0 : setInterval(fn, ms, ...args));
};

test('the inbox shows a new message without waiting for its refresh', async () => {
  const a = await lib.newPage(browser);
  await a.page.addInitScript(NO_POLL);
  const { link } = await lib.createInbox(a.page, url, 'Live');
  const subscribed = a.page.waitForResponse(
    (r) => new URL(r.url()).pathname === '/events' && r.status() === 200, { timeout: 30000 });
  await lib.unlock(a.page, url);
  const sub = await subscribed;
  assert.match(sub.headers()['content-type'], /^text\/event-stream/);
  // The subscription carried a signature bound to "events", never the token.
  const q = new URL(sub.url()).searchParams;
  assert.equal(q.get('challenge_form'), 'sealdrop-v1');
  assert.ok(q.get('challenge') && q.get('challenge_signature'));

  const b = await lib.newPage(browser);
  for (const text of ['Live one', 'Live two']) {
    await lib.sendMessage(b.page, link, text);
    const sent = Date.now();
    await a.page.locator('ol.messages li .text', { hasText: text }).waitFor({ timeout: 5000 });
    const took = Date.now() - sent;
    assert.ok(took < 2000, text + ' showed ' + took + ' ms after the send');
  }
  assert.deepEqual(a.page.problems, []);
  assert.deepEqual(b.page.problems, []);
  await a.ctx.close();
  await b.ctx.close();
});

test('without EventSource the inbox still reads (and polls)', async () => {
  const a = await lib.newPage(browser);
  await a.page.addInitScript(() => { delete window.EventSource; });
  const { link } = await lib.createInbox(a.page, url, 'Poller');
  const b = await lib.newPage(browser);
  await lib.sendMessage(b.page, link, 'Read by polling');
  await lib.unlock(a.page, url);
  await a.page.locator('ol.messages li .text', { hasText: 'Read by polling' }).waitFor();
  assert.deepEqual(a.page.problems, []);
  await a.ctx.close();
  await b.ctx.close();
});
