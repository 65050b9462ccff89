// The inbox page's reading session against a stack with the production
// rate limit on reading (tests/cli/bigstack.py): 10,000 messages show their
// newest page at once, older pages on demand, refresh asks only for what is
// new, delete-all is one signed call; reads go with the fetch token sealed
// in the identity, and a challenge that is not the page's own is never
// signed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as lib from './lib.mjs';

const { artifacts, PASS } = lib;
const N = 10000;
let stack, url, browser;

before(async () => {
  stack = await lib.startStack('tests/cli/bigstack.py');
  url = stack.url;
  browser = await lib.launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (stack) await stack.stop();
});

// The reading session as it polls: live events (events.test.mjs) off, so
// the requests counted here are the session's own.
async function pollingPage(opts) {
  const p = await lib.newPage(browser, opts);
  await p.page.addInitScript(() => { delete window.EventSource; });
  return p;
}

const linkParts = (link) => {
  const [base, key] = link.split('#');
  return { token: base.split('/l/')[1], key };
};

// Every API request the page makes: path, body, Authorization header.
function record(page) {
  const seen = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (r.method() !== 'POST') return;
    let body = null;
    try { body = JSON.parse(r.postData() || 'null'); } catch (e) { body = null; }
    seen.push({ path: u.pathname, body, auth: r.headers()['authorization'] || null });
  });
  return seen;
}

const texts = (page) => page.locator('ol.messages li .text').allTextContents();

test('10,000 messages: newest page at once, older on demand, refresh, delete all', async () => {
  const a = await pollingPage({ viewport: { width: 390, height: 844 } });
  const { link, backup } = await lib.createInbox(a.page, url, 'Grace');
  const { token, key } = linkParts(link);
  const doc = JSON.parse(readFileSync(backup, 'utf8'));
  assert.ok(doc.inbox.sealed_fetch_token, 'the fetch token is kept, sealed');
  assert.ok(!JSON.stringify(doc).includes('"fetch_token"'));
  const served = await (await fetch(url + '/key/' + token)).json();
  assert.deepEqual(served.capabilities, ['bound-signatures', 'envelope-v1']);
  assert.match(await stack.ask(`fill ${token} ${key} ${N}`), /^filled \d+ \d+$/);

  const seen = record(a.page);
  await lib.unlock(a.page, url);
  const items = a.page.locator('ol.messages li');
  await a.page.locator('#older').waitFor({ state: 'visible', timeout: 30000 });
  assert.equal(await items.count(), 50);
  assert.equal((await texts(a.page))[0], 'message ' + N);
  assert.match(await a.page.locator('#summary').textContent(), /^50 message\(s\) shown, 50 new; older/);
  await a.page.screenshot({ path: path.join(artifacts, 'inbox-big.png'), fullPage: false });
  // One request for it, with the token: no challenge, no signature. (The
  // 15-second refresh may have added requests since: only the first counts.)
  assert.equal(seen[0].path, '/fetch');
  assert.equal(seen.filter((r) => r.path === '/challenge_request').length, 0);
  assert.match(seen[0].auth, /^Bearer [A-Za-z0-9_-]{64}$/);
  assert.equal(seen[0].body.order, 'DESC');

  await a.page.getByRole('button', { name: 'Load older' }).click();
  await a.page.locator('ol.messages li:nth-child(100)').waitFor();
  const shown = await texts(a.page);
  assert.equal(shown.length, 100);
  assert.equal(shown[99], 'message ' + (N - 99));
  assert.equal(new Set(shown).size, 100);
  const older = seen.find((r) => r.path === '/fetch' && r.body.before_id !== undefined);
  assert.ok(older.body.before_id > 0 && older.auth === seen[0].auth);

  // A message that arrives meanwhile: refresh asks only for ids above ours.
  const b = await pollingPage();
  await lib.sendMessage(b.page, link, 'one more');
  await b.ctx.close();
  await a.page.getByRole('button', { name: 'Refresh' }).click();
  await a.page.locator('ol.messages li .text').filter({ hasText: 'one more' }).waitFor();
  assert.equal((await texts(a.page))[0], 'one more');
  const since = seen.filter((r) => r.path === '/fetch').at(-1).body;
  assert.equal(since.order, 'ASC');
  assert.ok(since.since_id > 0);
  assert.ok(seen.filter((r) => r.path === '/fetch').every((r) => r.auth === seen[0].auth));

  // Mark read goes with the token; Delete all is one call signed for "delete".
  await items.first().getByRole('button', { name: 'Mark read' }).click();
  await a.page.locator('ol.messages li.seen').first().waitFor();
  const read = seen.filter((r) => r.path === '/ack').at(-1);
  assert.ok(read.auth && !('challenge' in read.body) && read.body.delete === false);
  a.page.once('dialog', (d) => d.accept());
  await a.page.getByRole('button', { name: 'Delete all' }).click();
  await a.page.locator('#summary').filter({ hasText: 'No messages yet.' }).waitFor({ timeout: 60000 });
  const del = seen.filter((r) => r.path === '/ack').at(-1);
  assert.equal(del.body.delete, true);
  assert.ok(del.body.up_to_id > 0 && !('message_ids' in del.body));
  assert.equal(del.body.challenge_form, 'sealdrop-v1');
  assert.equal(del.auth, null);
  assert.equal(seen.filter((r) => r.path === '/challenge_request').length, 1);
  assert.equal(seen.find((r) => r.path === '/challenge_request').body.purpose, 'delete');
  assert.match(await a.page.locator('#status').textContent(), new RegExp(`Deleted ${N + 1} message`));
  assert.equal(await stack.ask('count ' + token), 'count 0');
  assert.equal(await a.page.locator('#older').isVisible(), false);
  assert.deepEqual(a.page.problems, []);
  await a.ctx.close();
});

test('a challenge that is not the page\'s own is never signed', async () => {
  const a = await pollingPage();
  const { link } = await lib.createInbox(a.page, url, 'Heidi');
  const b = await pollingPage();
  await lib.sendMessage(b.page, link, 'keep me');
  await b.ctx.close();
  const seen = record(a.page);
  await lib.unlock(a.page, url);
  await a.page.locator('ol.messages li').first().waitFor();
  const good = () => ({ challenge: Buffer.alloc(32, 7).toString('base64'), expires_in: 300,
                        purpose: 'delete', form: 'sealdrop-v1', origin: url });
  const hostile = [
    ['another server', { ...good(), origin: 'https://other.example' }],
    ['another purpose', { ...good(), purpose: 'fetch' }],
    ['a short challenge', { ...good(), challenge: Buffer.alloc(16, 7).toString('base64') }],
    ['a string of the server\'s choosing', { ...good(), challenge: 'I owe you 1000 EUR' }],
    ['PyCrypt\'s form', { challenge: Buffer.alloc(32, 7).toString('base64'), expires_in: 300 }],
  ];
  for (const [what, reply] of hostile) {
    await a.page.route('**/challenge_request', (r) => r.fulfill({ json: reply }));
    await a.page.evaluate(() => { document.getElementById('status').dataset.kind = ''; });
    await a.page.locator('ol.messages li').first().getByRole('button', { name: 'Delete' }).click();
    const st = a.page.locator('#status[data-kind="error"]');
    await st.waitFor();
    assert.match(await st.textContent(), /nothing was signed/, what);
    await a.page.unroute('**/challenge_request');
  }
  assert.equal(seen.filter((r) => r.path === '/ack').length, 0);
  assert.equal(await a.page.locator('ol.messages li').count(), 1);
  // The server's own challenge: deleted.
  await a.page.locator('ol.messages li').first().getByRole('button', { name: 'Delete' }).click();
  await a.page.locator('#summary').filter({ hasText: 'No messages yet.' }).waitFor();
  assert.deepEqual(a.page.problems, []);
  await a.ctx.close();
});

test('an identity without a fetch token reads by signing a challenge per call', async () => {
  const a = await pollingPage();
  const { link, backup } = await lib.createInbox(a.page, url, 'Ivan');
  await a.ctx.close();
  const doc = JSON.parse(readFileSync(backup, 'utf8'));
  delete doc.inbox.sealed_fetch_token; // as identities made before it was kept
  const older = path.join(artifacts, 'backup-without-token-' + Date.now() + '.json');
  writeFileSync(older, JSON.stringify(doc));
  const b = await pollingPage();
  await lib.sendMessage(b.page, link, 'read by signature');
  await b.ctx.close();

  const c = await pollingPage();
  const seen = record(c.page);
  await c.page.goto(url + '/inbox');
  await c.page.getByLabel('Backup file').setInputFiles(older);
  await c.page.getByLabel('Backup passphrase').fill(PASS);
  await c.page.getByRole('button', { name: 'Open inbox' }).click();
  const item = c.page.locator('ol.messages li .text').first();
  await item.waitFor({ timeout: 30000 });
  assert.equal(await item.textContent(), 'read by signature');
  assert.deepEqual(seen.slice(0, 2).map((r) => r.path), ['/challenge_request', '/fetch']);
  assert.equal(seen[0].body.purpose, 'fetch');
  assert.equal(seen[1].auth, null);
  assert.equal(seen[1].body.challenge_form, 'sealdrop-v1');
  assert.deepEqual(c.page.problems, []);
  await c.ctx.close();
});
