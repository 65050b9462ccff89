// The pages in Debian's Chromium (driven by playwright-core), against the
// real nginx + sealdropd: create an inbox, send from another context, read
// it back, ack; a tampered key is refused; HTML shows as text; the backup
// restores the inbox in a fresh context. Screenshots go to artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as lib from './lib.mjs';

const { root, artifacts, PASS } = lib;
let stack, url, browser;

before(async () => {
  // A small inbox cap, so the "inbox full" state can be reached.
  stack = await lib.startStack('tests/lib/stack_serve.py', { SEALDROP_INBOX_MAX_MESSAGES: '3' });
  url = stack.url;
  browser = await lib.launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (stack) await stack.stop();
});

const newPage = (opts) => lib.newPage(browser, opts);
const createInbox = (page, name) => lib.createInbox(page, url, name);
const send = lib.sendMessage;
const unlock = (page) => lib.unlock(page, url);

test('create, send from another browser, read, mark read', async () => {
  const a = await newPage({ viewport: { width: 390, height: 844 } }); // phone-sized
  const { link, backup } = await createInbox(a.page, 'Alice');
  assert.match(link, new RegExp('^' + url + '/l/link_[A-Za-z0-9_-]{32}#[A-Za-z0-9_-]{43}$'));
  const doc = JSON.parse(readFileSync(backup, 'utf8'));
  assert.equal(doc.sealdrop_identity, 1);
  assert.equal(doc.kdf, 'argon2id13');
  assert.ok(doc.sealed_seed && !('seed' in doc));
  assert.ok(await a.page.locator('canvas#qr').isVisible());
  await a.page.screenshot({ path: path.join(artifacts, 'create.png'), fullPage: true });

  const b = await newPage();
  await b.page.goto(link);
  await b.page.locator('#title').filter({ hasText: 'Alice' }).waitFor();
  await b.page.getByLabel('Message').fill('Hello Alice, from the browser.');
  // An inbox made by the page opens envelopes: the text limit and the padded size.
  assert.match(await b.page.locator('#counter').textContent(),
               /^\d+ \/ 16300 bytes, sent padded to 1024 bytes$/);
  await b.page.screenshot({ path: path.join(artifacts, 'send.png'), fullPage: true });
  await b.page.getByRole('button', { name: 'Send' }).click();
  await b.page.locator('#status[data-kind="ok"]').waitFor();
  assert.deepEqual(b.page.problems, []);

  await unlock(a.page);
  const item = a.page.locator('ol.messages li').first();
  await item.waitFor();
  assert.equal(await item.locator('.text').textContent(), 'Hello Alice, from the browser.');
  assert.equal(await item.getAttribute('class'), 'unseen');
  await a.page.screenshot({ path: path.join(artifacts, 'inbox.png'), fullPage: true });
  await item.getByRole('button', { name: 'Mark read' }).click();
  await a.page.locator('ol.messages li.seen').first().waitFor();
  assert.equal(await a.page.locator('ol.messages li.unseen').count(), 0);
  assert.deepEqual(a.page.problems, []);
  await a.ctx.close();
  await b.ctx.close();
});

test('a tampered key in the link is refused and nothing is sent', async () => {
  const a = await newPage();
  const { link } = await createInbox(a.page, 'Bob');
  const [base, key] = link.split('#');
  const bad = key[0] === 'A' ? 'B' + key.slice(1) : 'A' + key.slice(1);
  const b = await newPage();
  await b.page.goto(base + '#' + bad);
  const warn = b.page.locator('#status[data-kind="warn"]');
  await warn.waitFor();
  assert.match(await warn.textContent(), /different key/);
  assert.equal(await b.page.locator('#send').isVisible(), false);
  await b.page.screenshot({ path: path.join(artifacts, 'send-tampered.png'), fullPage: true });
  // Unknown links say so.
  await b.page.goto(url + '/l/link_' + 'Q'.repeat(32));
  await b.page.locator('#status[data-kind="error"]').filter({ hasText: 'does not lead' }).waitFor();
  await unlock(a.page);
  await a.page.locator('#summary').filter({ hasText: 'No messages yet.' }).waitFor();
  await a.ctx.close();
  await b.ctx.close();
});

test('a message holding HTML and script shows as plain text', async () => {
  const a = await newPage();
  const { link } = await createInbox(a.page, 'Carol');
  const evil = '<img src=x onerror="document.title=\'pwned\'"><script>document.title="pwned"</script><b>bold?</b>';
  const b = await newPage();
  await send(b.page, link, evil);
  await unlock(a.page);
  const text = a.page.locator('ol.messages li .text').first();
  await text.waitFor();
  assert.equal(await text.textContent(), evil);
  assert.equal(await a.page.locator('ol.messages img, ol.messages script, ol.messages b').count(), 0);
  assert.notEqual(await a.page.title(), 'pwned');
  await a.ctx.close();
  await b.ctx.close();
});

test('the backup file restores the inbox in a fresh browser', async () => {
  const a = await newPage();
  const { link, backup } = await createInbox(a.page, 'Dana');
  await a.ctx.close();
  const b = await newPage();
  await send(b.page, link, 'read me after restoring');
  await b.ctx.close();

  const c = await newPage();
  await c.page.goto(url + '/inbox');
  await c.page.getByLabel('Backup file').setInputFiles(backup);
  await c.page.getByLabel('Backup passphrase').fill('wrong passphrase!');
  await c.page.getByRole('button', { name: 'Open inbox' }).click();
  await c.page.locator('#status[data-kind="error"]').filter({ hasText: 'Wrong passphrase' }).waitFor({ timeout: 30000 });
  await c.page.getByLabel('Backup passphrase').fill(PASS);
  await c.page.getByRole('button', { name: 'Open inbox' }).click();
  const item = c.page.locator('ol.messages li .text').first();
  await item.waitFor({ timeout: 30000 });
  assert.equal(await item.textContent(), 'read me after restoring');
  assert.equal(await c.page.locator('#mylink').inputValue(), link);
  await c.page.screenshot({ path: path.join(artifacts, 'inbox-restored.png'), fullPage: true });
  // Delete it.
  await c.page.locator('ol.messages li').first().getByRole('button', { name: 'Delete' }).click();
  await c.page.locator('#summary').filter({ hasText: 'No messages yet.' }).waitFor();
  assert.deepEqual(c.page.problems, []);
  await c.ctx.close();
});

test('the browser backup is the command-line identity file', async () => {
  const a = await newPage();
  const { link, backup } = await createInbox(a.page, 'Erin');
  await a.ctx.close();
  const b = await newPage();
  await send(b.page, link, 'sealed in a browser, read by the CLI');
  await b.ctx.close();
  const cli = process.env.SEALDROP_CLI || path.join(root, 'build', 'sealdrop');
  const identity = path.join(artifacts, 'cli-identity-' + Date.now());
  const env = { ...process.env, SEALDROP_PASSPHRASE: PASS };
  let r = spawnSync(cli, ['--identity', identity, 'import', backup], { env });
  assert.equal(r.status, 0, String(r.stderr));
  r = spawnSync(cli, ['--identity', identity, 'link'], { env });
  assert.equal(String(r.stdout).trim(), link);
  r = spawnSync(cli, ['--identity', identity, 'fetch', '--json'], { env });
  assert.equal(r.status, 0, String(r.stderr));
  assert.deepEqual(JSON.parse(String(r.stdout)).map((m) => m.text),
                   ['sealed in a browser, read by the CLI']);
});

test('the send page says when it is offline and when the inbox is full', async () => {
  const a = await newPage();
  const { link } = await createInbox(a.page, 'Frank');
  await a.ctx.close();
  const b = await newPage();
  await b.page.goto(link);
  await b.page.getByLabel('Message').fill('while offline');
  await b.ctx.setOffline(true);
  await b.page.getByRole('button', { name: 'Send' }).click();
  await b.page.locator('#status[data-kind="error"]').filter({ hasText: 'offline' }).waitFor();
  await b.ctx.setOffline(false);
  b.page.problems.length = 0; // the failed request is the point here
  for (let i = 0; i < 3; i++) {
    await b.page.getByLabel('Message').fill('message ' + i);
    await b.page.getByRole('button', { name: 'Send' }).click();
    await b.page.locator('#status[data-kind="ok"]').waitFor();
    await b.page.evaluate(() => { document.getElementById('status').dataset.kind = ''; });
  }
  await b.page.getByLabel('Message').fill('one too many');
  await b.page.getByRole('button', { name: 'Send' }).click();
  await b.page.locator('#status[data-kind="error"]').filter({ hasText: 'inbox is full' }).waitFor();
  await b.page.screenshot({ path: path.join(artifacts, 'send-full.png'), fullPage: true });
  await b.ctx.close();
});

test('pages carry their security headers and no inline script', async () => {
  for (const p of ['/', '/inbox', '/l/link_abc', '/r']) {
    const r = await fetch(url + p);
    assert.equal(r.status, 200, p);
    const csp = r.headers.get('content-security-policy');
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
    const html = await r.text();
    assert.doesNotMatch(html, /<script>(?!<\/script>)|<script(?![^>]*src=)[^>]*>[^<]/);
    assert.doesNotMatch(html, /style=|onclick=|onload=/);
  }
});

test('a send whose outcome is unknown goes again with the same key, once', async () => {
  const a = await newPage();
  const { link } = await createInbox(a.page, 'Heidi');
  await a.ctx.close();
  const b = await newPage();
  const keys = [];
  let fail = true;
  await b.page.route('**/send', async (r) => {
    keys.push(JSON.parse(r.request().postData()).idempotency_key);
    if (fail) await r.fulfill({ status: 503, json: { error: 'busy' } });
    else await r.continue();
  });
  const sendNow = async (kind) => {
    await b.page.evaluate(() => { document.getElementById('status').dataset.kind = ''; });
    await b.page.getByRole('button', { name: 'Send' }).click();
    await b.page.locator(`#status[data-kind="${kind}"]`).waitFor({ timeout: 15000 });
  };
  await b.page.goto(link);
  await b.page.getByLabel('Message').fill('once only');
  await sendNow('error');
  assert.match(await b.page.locator('#status').textContent(),
               /may or may not have been sent; sending it again is safe/);
  assert.equal(keys.length, 3); // 503 is retried with the same key
  fail = false;
  await sendNow('ok'); // the user's own retry: the same key again
  assert.equal(keys.length, 4);
  assert.equal(new Set(keys).size, 1, 'one key for every try of one message');
  // After a 201 the same text is a new message.
  await b.page.getByLabel('Message').fill('once only');
  await sendNow('ok');
  assert.notEqual(keys[4], keys[0]);
  // A changed text is a new message too.
  fail = true;
  await b.page.getByLabel('Message').fill('other');
  await sendNow('error');
  fail = false;
  await b.page.getByLabel('Message').fill('other, changed');
  await sendNow('ok');
  assert.notEqual(keys[keys.length - 1], keys[keys.length - 2]);
  await b.ctx.close();
});

test('a refresh after a failed first load reads the newest page, not the oldest', async () => {
  const a = await newPage();
  // The Refresh button's own request is counted: no live events (whose
  // opening refreshes too; events.test.mjs).
  await a.page.addInitScript(() => { delete window.EventSource; });
  const { link } = await createInbox(a.page, 'Ivan');
  const s = await newPage();
  await send(s.page, link, 'the first one');
  await s.ctx.close();
  const bodies = [];
  let failFirst = true;
  await a.page.route('**/fetch', async (r) => {
    bodies.push(JSON.parse(r.request().postData()));
    if (failFirst) {
      failFirst = false;
      await r.fulfill({ status: 503, json: { error: 'busy' } });
    } else {
      await r.continue();
    }
  });
  await unlock(a.page);
  await a.page.locator('#status[data-kind="error"]').waitFor();
  await a.page.getByRole('button', { name: 'Refresh' }).click();
  await a.page.locator('ol.messages li .text').filter({ hasText: 'the first one' }).waitFor();
  assert.equal(bodies.length, 2);
  assert.equal(bodies[1].order, 'DESC');
  assert.equal(bodies[1].since_id, undefined, 'not a walk from the oldest');
  await a.ctx.close();
});
