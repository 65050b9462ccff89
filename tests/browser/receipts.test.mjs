// Receipts, replies and padded envelopes in the pages (docs/RECEIPTS.md,
// docs/WEB.md), against the real nginx + sealdropd with a short status
// release interval: the pages' envelope code byte for byte against the
// PyNaCl vectors; a sender in one context, the recipient in another, a
// reply and an answer back, statuses released late; an inbox registered
// without capabilities gets plain text byte for byte; no receipt secret in
// any URL the pages request, in nginx's access log or sealdropd's log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as lib from './lib.mjs';

const { root, artifacts } = lib;
const sodium = createRequire(path.join(root, 'package.json'))('libsodium-wrappers-sumo');
const INTERVAL = 2; // SEALDROP_STATUS_INTERVAL, seconds
const vectors = JSON.parse(readFileSync(path.join(root, 'tests/api/vectors/receipts.json'), 'utf8'));
let stack, url, browser, paths;

before(async () => {
  await sodium.ready;
  stack = await lib.startStack('tests/browser/receipt_stack.py',
                               { SEALDROP_STATUS_INTERVAL: String(INTERVAL) });
  url = stack.url;
  paths = JSON.parse(await stack.ask('paths'));
  browser = await lib.launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (stack) await stack.stop();
});

const b64 = (u8) => sodium.to_base64(u8, sodium.base64_variants.ORIGINAL);
const unb64 = (s) => sodium.from_base64(s, sodium.base64_variants.ORIGINAL);
const b64url = (u8) => sodium.to_base64(u8, sodium.base64_variants.URLSAFE_NO_PADDING);
const unb64url = (s) => sodium.from_base64(s, sodium.base64_variants.URLSAFE_NO_PADDING);
const tokenOf = (link) => link.split('#')[0].split('/l/')[1];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function api(p, body) {
  const r = await fetch(url + p, body === undefined ? {} : {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  return { status: r.status, json: await r.json().catch(() => null) };
}

// Every request a page makes: URL, POST body, Authorization header.
function record(page, into) {
  page.on('request', (r) => into.push({ url: r.url(), method: r.method(), body: r.postData(),
                                        auth: r.headers()['authorization'] || null }));
  return into;
}

// Poll the receipt through the API until pred(json) holds.
async function receiptUntil(auth, pred, what, timeout = 6 * INTERVAL * 1000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const r = await api('/receipt', { receipt_auth: auth });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    if (pred(r.json)) return r.json;
    if (Date.now() > deadline) throw new Error('timed out waiting for ' + what + ': ' + JSON.stringify(r.json));
    await sleep(100);
  }
}

async function createInbox(page, name, paddedOnly) {
  await page.goto(url + '/');
  await page.getByLabel('Name shown to senders (optional)').fill(name);
  await page.getByLabel('Passphrase', { exact: true }).fill(lib.PASS);
  await page.getByLabel('Passphrase again').fill(lib.PASS);
  if (paddedOnly) {
    await page.getByLabel('Accept only padded messages').check();
    await page.screenshot({ path: path.join(artifacts, 'create-padded.png'), fullPage: true });
  }
  await page.getByRole('button', { name: 'Create inbox' }).click();
  await page.locator('#done').waitFor({ state: 'visible', timeout: 30000 });
  return page.locator('#link').inputValue();
}

test('the pages\' envelope code matches the PyNaCl vectors byte for byte', async () => {
  const { ctx, page } = await lib.newPage(browser);
  await page.goto(url + '/r'); // any page that loads envelope.js; no receipt: it says so
  await page.locator('#status[data-kind="error"]').waitFor();
  const got = await page.evaluate(async (v) => {
    await SD.ready;
    const out = { receipts: [], envelopes: [], refused: [] };
    for (const r of v.receipts) {
      const k = SD.receiptKeys(SD.receiptSecret(r.R));
      out.receipts.push({ auth: SD.b64url(k.auth), receipt_id: SD.b64url(k.receiptId),
                          reply_public_key: SD.b64url(k.replyPk),
                          reply_secret_key: SD.b64url(k.replySk) });
    }
    const inboxPk = SD.unb64url(v.inbox_public_key), inboxSk = SD.unb64url(v.inbox_secret_key);
    for (const e of v.envelopes) {
      const key = e.reply_key ? SD.unb64url(e.reply_key) : null;
      const built = SD.envelope(new TextEncoder().encode(e.text), key);
      const opened = SD.openEnvelope(SD.unb64url(e.plaintext));
      const unsealed = sodium.crypto_box_seal_open(SD.unb64url(e.sealed), inboxPk, inboxSk);
      const sealedOwn = sodium.crypto_box_seal(built, inboxPk);
      out.envelopes.push({
        plaintext: SD.b64url(built), text: opened && opened.text,
        reply_key: opened && opened.replyKey ? SD.b64url(opened.replyKey) : null,
        unsealed: SD.b64url(unsealed), sealed_len: sealedOwn.length,
        predicted: SD.envelopeSealedSize(new TextEncoder().encode(e.text).length, !!key),
      });
    }
    // What RECEIPTS.md says a reader refuses.
    const good = SD.unb64url(v.envelopes[0].plaintext);
    const bad = (f) => { const c = good.slice(); f(c); return SD.openEnvelope(c) === null; };
    out.refused.push(bad((c) => { c[0] = 2; }));                 // version
    out.refused.push(bad((c) => { c[1] = 3; }));                 // unknown flag
    out.refused.push(bad((c) => { c[2] = 0xff; }));              // L past the end
    out.refused.push(bad((c) => { c[c.length - 1] = 1; }));      // padding not zero
    out.refused.push(bad((c) => { c[36] = 0xff; }));             // not UTF-8
    out.plainLegacy = SD.readPlaintext(new TextEncoder().encode('plain, from PyCrypt')).text;
    let threw = false;
    try { SD.envelope(new Uint8Array(16301), new Uint8Array(32)); } catch (e) { threw = true; }
    out.tooLong = threw;
    return out;
  }, vectors);
  vectors.receipts.forEach((r, i) => {
    assert.deepEqual(got.receipts[i], { auth: r.auth, receipt_id: r.receipt_id,
                                        reply_public_key: r.reply_public_key,
                                        reply_secret_key: r.reply_secret_key });
  });
  vectors.envelopes.forEach((e, i) => {
    const g = got.envelopes[i];
    assert.equal(g.plaintext, e.plaintext, 'envelope ' + i + ' built byte for byte');
    assert.equal(g.text, e.text);
    assert.equal(g.reply_key, e.reply_key);
    assert.equal(g.unsealed, e.plaintext);
    assert.equal(g.sealed_len, e.sealed_len);
    assert.equal(g.predicted, e.sealed_len);
  });
  assert.deepEqual(got.refused, [true, true, true, true, true]);
  assert.equal(got.plainLegacy, 'plain, from PyCrypt');
  assert.equal(got.tooLong, true);
  assert.deepEqual(page.problems, []);
  await ctx.close();
});

test('a receipt: statuses released late, a reply, an answer back, the thread in the inbox',
     async () => {
  const requests = [];
  const a = await lib.newPage(browser, { viewport: { width: 390, height: 844 } }); // recipient
  record(a.page, requests);
  const link = await createInbox(a.page, 'Erin', true);
  const token = tokenOf(link);
  const key = await api('/key/' + token);
  assert.deepEqual([...key.json.capabilities].sort(),
                   ['bound-signatures', 'envelope-v1', 'padded-only']);

  // The sender sends; the page pads and hands over a receipt.
  const b = await lib.newPage(browser, { viewport: { width: 390, height: 844 } });
  record(b.page, requests);
  const text = 'Hello Erin — did you get this? <b>not bold</b>';
  await b.page.goto(link);
  await b.page.getByLabel('Message').fill(text);
  assert.match(await b.page.locator('#counter').textContent(),
               /^\d+ \/ 16300 bytes, sent padded to 1024 bytes$/);
  await b.page.getByRole('button', { name: 'Send' }).click();
  await b.page.locator('#status[data-kind="ok"]').waitFor({ timeout: 15000 });
  await b.page.locator('#receipt').waitFor({ state: 'visible' });
  assert.match(await b.page.locator('#receipt').innerText(), /anyone with it can read them/);
  assert.ok(await b.page.locator('canvas#receipt-qr').isVisible());
  const receiptLink = await b.page.locator('#receipt-link').inputValue();
  // R, then the inbox key it was sealed to (pinned for answers).
  assert.match(receiptLink, new RegExp('^' + url + '/r#[A-Za-z0-9_-]{43}\\.[A-Za-z0-9_-]{43}$'));
  await b.ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: url });
  await b.page.getByRole('button', { name: 'Copy' }).click();
  await b.page.locator('#status').filter({ hasText: 'Receipt link copied.' }).waitFor();
  assert.equal(await b.page.evaluate(() => navigator.clipboard.readText()), receiptLink);
  await b.page.screenshot({ path: path.join(artifacts, 'send-receipt.png'), fullPage: true });
  const R = unb64url(receiptLink.split('#')[1].split('.')[0]);
  const auth = sodium.crypto_generichash(32, sodium.from_string('sealdrop-v1 receipt auth'), R);
  const receiptId = sodium.crypto_generichash(32, auth, null);
  const sent = requests.filter((r) => r.url === url + '/send').map((r) => JSON.parse(r.body));
  assert.equal(sent.length, 1);
  assert.equal(sent[0].receipt_id, b64url(receiptId));
  assert.equal(unb64(sent[0].encrypted_message).length, 1024);

  // The receipt page: stored.
  const sendAt = await receiptUntil(b64url(auth), () => true, 'the receipt');
  assert.equal(sendAt.link_token, token);
  assert.equal(sendAt.status, 'stored');
  await b.page.goto(receiptLink);
  await b.page.locator('#state[data-status="stored"]').waitFor();
  assert.match(await b.page.locator('#view').innerText(), /shown late on purpose/);
  assert.equal(await b.page.locator('#no-replies').isVisible(), true);

  // The sender answers at once through the receipt: the thread has two messages.
  await b.page.getByLabel('Your answer').fill('One more thing.');
  await b.page.getByRole('button', { name: 'Send answer' }).click();
  await b.page.locator('#status[data-kind="ok"]').filter({ hasText: 'Answer sent.' }).waitFor();
  await b.page.locator('#statuses li').nth(1).waitFor();
  assert.deepEqual(await b.page.locator('#statuses li').evaluateAll(
    (els) => els.map((e) => e.dataset.status)), ['stored', 'stored']);

  // The link pins the inbox key: a server serving another key gets no answer.
  const pinned = receiptLink.split('.');
  assert.equal(b64url(unb64url(pinned[pinned.length - 1])).length, 43);
  const tampered = receiptLink.replace(/\.[A-Za-z0-9_-]{43}$/,
                                       '.' + b64url(sodium.randombytes_buf(32)));
  const answersBefore = requests.filter((r) => r.url === url + '/receipt/answer').length;
  await b.page.goto(tampered);
  await b.page.locator('#status[data-kind="error"]').filter({ hasText: 'another key' }).waitFor();
  assert.equal(await b.page.locator('#answer').isVisible(), false);
  assert.equal(requests.filter((r) => r.url === url + '/receipt/answer').length, answersBefore);
  await b.page.goto(receiptLink);
  await b.page.locator('#answer').waitFor({ state: 'visible' });

  // The recipient reads the thread: the envelopes' text, without padding.
  await lib.unlock(a.page, url);
  const thread = a.page.locator('ol.messages > li.thread');
  await thread.waitFor();
  const inThread = thread.locator('ol.answers > li');
  assert.deepEqual(await inThread.locator('.text').allTextContents(), [text, 'One more thing.']);
  const first = inThread.nth(0), second = inThread.nth(1);
  assert.match(await first.locator('.meta').textContent(), /opens a conversation/);
  assert.match(await second.locator('.meta').textContent(), /answer in a conversation/);
  await first.getByRole('button', { name: 'Mark read' }).click();
  await a.page.locator('ol.answers > li.seen').first().waitFor();
  const readAt = Date.now();
  // Shown once released: the release it came with is not before the ack.
  const released = await receiptUntil(b64url(auth), (j) => j.status === 'read', 'read');
  assert.ok(released.status_released_at * 1000 >= readAt - 2000, 'released after the ack');
  assert.equal(released.messages[1].status, 'stored');
  const releaseSeen = Date.now();
  // The next release comes an interval later at the earliest: marked read
  // now, the answer still shows stored, and read only after that.
  await second.getByRole('button', { name: 'Mark read' }).click();
  await a.page.locator('ol.answers > li.seen').nth(1).waitFor();
  const early = await api('/receipt', { receipt_auth: b64url(auth) });
  // Shown already is right only when a whole interval may have passed (a
  // loaded machine); on time, it must still be stored.
  if (Date.now() - releaseSeen < (INTERVAL - 1) * 1000) {
    assert.equal(early.json.messages[1].status, 'stored', 'a read shown before its release');
  }
  await receiptUntil(b64url(auth), (j) => j.messages[1].status === 'read', 'the answer read');
  assert.ok(Date.now() - releaseSeen >= (INTERVAL - 1) * 1000, 'released within an interval');
  await b.page.getByRole('button', { name: 'Refresh' }).click();
  await b.page.locator('#statuses li[data-status="read"]').nth(1).waitFor();
  await b.page.locator('#state[data-status="read"]').waitFor();

  // The recipient replies.
  await second.getByRole('button', { name: 'Reply' }).click();
  await second.getByLabel('Your reply').fill('Yes, I got both. Who are you?');
  assert.equal(await second.locator('.reply-box .counter').textContent(),
               '29 / 16300 bytes, sent padded to 1024 bytes');
  await second.getByRole('button', { name: 'Send reply' }).click();
  await a.page.locator('#status[data-kind="ok"]').filter({ hasText: 'Reply sent.' }).waitFor();
  assert.match(await thread.locator(':scope > .meta').textContent(), /replied 1 time/);
  const replies = requests.filter((r) => r.url === url + '/reply').map((r) => JSON.parse(r.body));
  assert.equal(replies.length, 1);
  assert.equal(unb64(replies[0].encrypted_reply).length, 1024);
  assert.equal(replies[0].challenge_form, 'sealdrop-v1');
  assert.ok(replies[0].challenge && replies[0].challenge_signature, 'a reply is signed');
  assert.ok(requests.some((r) => r.url === url + '/fetch' && r.auth), 'reads go with the token');
  assert.ok(!requests.some((r) => r.url === url + '/reply' && r.auth), 'a reply is not tokened');

  // The sender reads the reply and answers back.
  await b.page.getByRole('button', { name: 'Refresh' }).click();
  const reply = b.page.locator('#replies li .text');
  await reply.waitFor();
  assert.equal(await reply.textContent(), 'Yes, I got both. Who are you?');
  await b.page.getByLabel('Your answer').fill('A friend. Thanks!');
  await b.page.getByRole('button', { name: 'Send answer' }).click();
  await b.page.locator('#statuses li').nth(2).waitFor();
  await b.page.screenshot({ path: path.join(artifacts, 'receipt.png'), fullPage: true });

  // The recipient's inbox shows the whole thread, oldest first.
  await a.page.getByRole('button', { name: 'Refresh' }).click();
  await inThread.nth(2).waitFor();
  assert.deepEqual(await inThread.locator('.text').allTextContents(),
                   [text, 'One more thing.', 'A friend. Thanks!']);
  assert.equal(await a.page.locator('ol.messages > li').count(), 1);
  await a.page.screenshot({ path: path.join(artifacts, 'inbox-thread.png'), fullPage: true });
  const last = await api('/receipt', { receipt_auth: b64url(auth) });
  assert.equal(last.json.messages.length, 3);
  assert.equal(last.json.thread_id, last.json.messages[0].id);
  assert.equal(last.json.replies.length, 1);

  // No receipt secret anywhere the server sees: no URL, no log.
  const Rs = b64url(R);
  for (const r of requests) {
    if (r.url.startsWith(url + '/r')) continue; // the page itself: its fragment stays in the browser
    assert.ok(!r.url.includes(Rs), 'R in a request URL: ' + r.url);
    assert.ok(!(r.body || '').includes(Rs), 'R in a request body: ' + r.url);
    assert.ok(!r.url.includes(b64url(auth)), 'auth in a request URL: ' + r.url);
  }
  const access = readFileSync(paths.access_log, 'utf8');
  assert.match(access, /"GET \/r HTTP/, 'the access log records the receipt page');
  assert.ok(!access.includes(Rs), 'R in the access log');
  assert.ok(!access.includes(b64url(auth)), 'auth in the access log');
  const daemon = readFileSync(paths.daemon_log, 'utf8');
  for (const secret of [Rs, b64url(auth), b64url(receiptId)]) {
    assert.ok(!daemon.includes(secret), 'a receipt value in sealdropd\'s log');
  }
  assert.deepEqual(a.page.problems, []);
  assert.deepEqual(b.page.problems, []);
  await a.ctx.close();
  await b.ctx.close();
});

test('an inbox registered without capabilities gets the plain text, byte for byte', async () => {
  const sign = sodium.crypto_sign_keypair();
  const box = sodium.crypto_box_keypair();
  const reg = await api('/register', { public_key: b64(sign.publicKey),
                                       box_public_key: b64(box.publicKey) });
  assert.equal(reg.status, 201, JSON.stringify(reg.json));
  const token = reg.json.link_token;
  const requests = [];
  const b = await lib.newPage(browser);
  record(b.page, requests);
  const text = 'Plain as before: ünïcödé, emoji 🙂, and a trailing newline\n';
  await b.page.goto(url + '/l/' + token);
  await b.page.getByLabel('Message').fill(text);
  const bytes = sodium.from_string(text);
  assert.equal(await b.page.locator('#counter').textContent(),
               (bytes.length + 48) + ' / 16384 bytes');
  await b.page.getByRole('button', { name: 'Send' }).click();
  await b.page.locator('#status[data-kind="ok"]').waitFor({ timeout: 15000 });
  assert.equal(await b.page.locator('#receipt').isVisible(), false);
  const sent = requests.filter((r) => r.url === url + '/send').map((r) => JSON.parse(r.body));
  assert.equal(sent.length, 1);
  assert.ok(!('receipt_id' in sent[0]));

  const r = await fetch(url + '/fetch', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + reg.json.fetch_token },
    body: JSON.stringify({ link_token: token }),
  });
  const got = await r.json();
  assert.equal(r.status, 200, JSON.stringify(got));
  assert.equal(got.data.length, 1);
  assert.ok(!('thread_id' in got.data[0]));
  const sealed = unb64(got.data[0].encrypted_message);
  assert.equal(sealed.length, bytes.length + 48);
  const plain = sodium.crypto_box_seal_open(sealed, box.publicKey, box.privateKey);
  assert.deepEqual(Buffer.from(plain), Buffer.from(bytes));
  assert.deepEqual(b.page.problems, []);
  await b.ctx.close();
});

test('a receipt link without a valid secret, or one the server does not know', async () => {
  const { ctx, page } = await lib.newPage(browser);
  const requests = record(page, []);
  await page.goto(url + '/r#not-a-secret');
  await page.locator('#status[data-kind="error"]').filter({ hasText: 'not a receipt link' })
    .waitFor();
  assert.equal(requests.filter((r) => r.method === 'POST').length, 0);
  await page.goto(url + '/r#' + b64url(sodium.randombytes_buf(32)));
  await page.locator('#status[data-kind="error"]').filter({ hasText: 'not known' }).waitFor();
  assert.equal(await page.locator('#view').isVisible(), false);
  // 404s are the page's expected answers, not errors of the page.
  assert.deepEqual(page.problems.filter((p) => !/404/.test(p)), []);
  await ctx.close();
});

test('an envelope inbox shows plain text from older clients, refuses a broken envelope', async () => {
  const a = await lib.newPage(browser);
  const link = await createInbox(a.page, 'Frank', false);
  const token = tokenOf(link), inboxKey = unb64url(link.split('#')[1]);
  const envelope = (text, flags, tail) => {
    const body = sodium.from_string(text);
    const plain = new Uint8Array(1024 - 48);
    plain.set([1, flags, body.length >> 8, body.length & 0xff]);
    plain.set(body, 4);
    if (tail) plain[plain.length - 1] = tail;
    return plain;
  };
  const drops = [
    sodium.from_string('from a client that knows no envelope'), // PyCrypt's
    envelope('padding that is not zero', 0, 7),
    envelope('an envelope without a reply key', 0, 0),
  ];
  for (const plain of drops) {
    const r = await api('/send', { link_token: token,
                                   encrypted_message: b64(sodium.crypto_box_seal(plain, inboxKey)) });
    assert.equal(r.status, 201, JSON.stringify(r.json));
  }
  await lib.unlock(a.page, url);
  const items = a.page.locator('ol.messages > li');
  await items.nth(2).waitFor();
  assert.deepEqual(await items.locator('.text').allTextContents(), [
    'an envelope without a reply key',
    '(this message could not be decrypted)',
    'from a client that knows no envelope',
  ]);
  // No receipt, no thread: nothing to reply to.
  assert.equal(await a.page.getByRole('button', { name: 'Reply' }).count(), 0);
  assert.deepEqual(a.page.problems, []);
  await a.ctx.close();
});

// sealdrop's command-line client (SEALDROP_CLI, default build/sealdrop).
function cli(args, env = {}) {
  const bin = process.env.SEALDROP_CLI || path.join(root, 'build', 'sealdrop');
  const r = spawnSync(bin, args, { env: { ...process.env, SEALDROP_PASSPHRASE: lib.PASS, ...env },
                                   timeout: 60000 });
  assert.equal(r.status, 0, args[0] + ': ' + String(r.stderr));
  return String(r.stdout);
}

test('the pages and the command-line client read each other\'s receipts and replies', async () => {
  const a = await lib.newPage(browser);
  const { link, backup } = await lib.createInbox(a.page, url, 'Gwen');
  // One message from the page, one from the CLI, each with its receipt.
  const b = await lib.newPage(browser);
  await lib.sendMessage(b.page, link, 'sent from the page');
  const pageReceipt = await b.page.locator('#receipt-link').inputValue();
  const out = cli(['send', link, 'sent from the CLI']).trim().split('\n');
  const cliReceipt = out[out.length - 1].replace(/^receipt: /, '');
  assert.match(cliReceipt, new RegExp('^' + url + '/r#[A-Za-z0-9_-]{43}\\.[A-Za-z0-9_-]{43}$'));

  // The owner replies to the page's message with the CLI ...
  const identity = path.join(artifacts, 'cli-identity-receipts-' + Date.now());
  cli(['--identity', identity, 'import', backup]);
  const fetched = JSON.parse(cli(['--identity', identity, 'fetch', '--all', '--json']));
  const fromPage = fetched.find((m) => m.text === 'sent from the page');
  assert.ok(fromPage, JSON.stringify(fetched));
  cli(['--identity', identity, 'reply', String(fromPage.id), 'a reply from the CLI']);
  // ... and to the CLI's message in the page.
  await lib.unlock(a.page, url);
  const item = a.page.locator('ol.messages > li').filter({ hasText: 'sent from the CLI' });
  await item.waitFor();
  await item.getByRole('button', { name: 'Reply' }).click();
  await item.getByLabel('Your reply').fill('a reply from the page');
  await item.getByRole('button', { name: 'Send reply' }).click();
  await a.page.locator('#status[data-kind="ok"]').filter({ hasText: 'Reply sent.' }).waitFor();

  // The page opens both receipts; the CLI opens the CLI's.
  for (const [receipt, reply] of [[pageReceipt, 'a reply from the CLI'],
                                  [cliReceipt, 'a reply from the page']]) {
    await b.page.goto('about:blank');
    await b.page.goto(receipt);
    await b.page.locator('#replies li .text').filter({ hasText: reply }).waitFor();
  }
  const shown = JSON.parse(cli(['receipt', cliReceipt, '--json']));
  assert.deepEqual(shown.replies.map((r) => r.text), ['a reply from the page']);
  assert.deepEqual(a.page.problems, []);
  assert.deepEqual(b.page.problems, []);
  await a.ctx.close();
  await b.ctx.close();
});

test('a hostile receipt answer shows as text, and what does not open says so', async () => {
  const { ctx, page } = await lib.newPage(browser);
  const evil = '<img src=x onerror="document.title=\'pwned\'">';
  await page.route('**/receipt', (r) => r.fulfill({ status: 200, json: {
    link_token: 'link_' + 'Q'.repeat(32), thread_id: 1, status: evil, status_released_at: 'soon',
    messages: [{ id: 1, status: evil, created_at: evil }, null, 7],
    replies: [{ id: 1, encrypted_reply: b64(sodium.randombytes_buf(1024)), created_at: 0 },
              { id: 2, encrypted_reply: evil }, 'x'],
  } }));
  await page.goto(url + '/r#' + b64url(sodium.randombytes_buf(32)));
  await page.locator('#view').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#state').textContent(), 'Your message: unknown.');
  assert.deepEqual(await page.locator('#replies li .text').allTextContents(),
                   ['(this reply could not be decrypted)', '(this reply could not be decrypted)']);
  assert.equal(await page.locator('#view img').count(), 0);
  assert.notEqual(await page.title(), 'pwned');
  // The inbox named is unknown (404): the receipt shows, no answer box.
  assert.equal(await page.locator('#answer').isVisible(), false);
  await page.locator('#answer-gone').waitFor();
  assert.deepEqual(page.problems.filter((p) => !/404/.test(p)), []);
  await ctx.close();
});
