/* /r#R.K — the sender's receipt (docs/RECEIPTS.md): the released status of
 * each message of the thread, the recipient's replies opened with the
 * reply key R derives, and a box to answer through the receipt.
 *
 * R stays in the fragment, which a browser never sends to a server; the
 * server sees only auth, a one-way hash of R. The fragment is left in the
 * address bar so that reloading and bookmarking keep working (it is in the
 * browser's history like any address). Reply text is set only as
 * textContent. */
'use strict';

(async () => {
  /* Another receipt pasted into this tab changes only the fragment: start
   * over with it. */
  window.addEventListener('hashchange', () => location.reload());
  await SD.ready;
  const $ = (id) => document.getElementById(id);
  const status = $('status');
  const enc = new TextEncoder();
  const STATUS_WORDS = {
    stored: 'stored, not read yet',
    read: 'read',
    deleted: 'deleted by the recipient',
    expired: 'expired (removed after its time)',
  };

  const fragment = SD.receiptFragment(location.hash.slice(1));
  if (!fragment) {
    SD.say(status, 'This is not a receipt link: it needs the whole part after "#".', 'error');
    return;
  }
  const keys = SD.receiptKeys(fragment.secret);
  sodium.memzero(fragment.secret);
  /* The inbox key the first message was sealed to, when the link names it:
   * answers go only to it, so a server serving another key reads nothing. */
  const pinnedKey = fragment.inboxKey;
  const auth = SD.b64url(keys.auth);
  let inboxKey = null;     /* the inbox's X25519 key, for answers */
  let linkToken = null;
  /* An answer whose outcome is not known ({text, body}): sent again with
   * the same body and idempotency key, so it is stored once at most. */
  let pending = null;
  let queue = Promise.resolve();
  const serial = (fn) => {
    const run = queue.then(fn);
    queue = run.catch(() => {});
    return run;
  };

  const when = (t) => {
    const d = new Date(typeof t === 'number' ? t * 1000 : t);
    const el = document.createElement('time');
    if (!Number.isNaN(d.getTime())) {
      el.dateTime = d.toISOString();
      el.textContent = d.toLocaleString();
    }
    return el;
  };

  /* A reply's text, or null when it does not open as an envelope sealed
   * to our reply key. */
  const openReply = (ct) => {
    try {
      if (typeof ct !== 'string') return null;
      const plain = sodium.crypto_box_seal_open(SD.unb64(ct), keys.replyPk, keys.replySk);
      const env = SD.openEnvelope(plain);
      return env ? env.text : null;
    } catch (e) {
      return null;
    }
  };

  const render = (j) => {
    const word = STATUS_WORDS[j.status] || 'unknown';
    $('state').textContent = 'Your message: ' + word + '.';
    $('state').dataset.status = typeof j.status === 'string' ? j.status : '';
    const messages = Array.isArray(j.messages) ? j.messages : [];
    $('statuses').replaceChildren(...messages.filter((m) => m && typeof m === 'object')
      .map((m, i) => {
        const li = document.createElement('li');
        li.dataset.status = typeof m.status === 'string' ? m.status : '';
        li.append((i === 0 ? 'Your message' : 'Your answer ' + i) + ', sent ', when(m.created_at),
                  ': ' + (STATUS_WORDS[m.status] || 'unknown') + '.');
        return li;
      }));
    const released = $('released');
    released.replaceChildren();
    if (Number.isSafeInteger(j.status_released_at)) {
      released.append('Last published change: ', when(j.status_released_at), '.');
    }
    const replies = Array.isArray(j.replies) ? j.replies : [];
    $('replies').replaceChildren(...replies.filter((m) => m && typeof m === 'object').map((m) => {
      const li = document.createElement('li');
      const meta = document.createElement('div');
      meta.className = 'meta';
      meta.append('Reply received ', when(m.created_at));
      const text = document.createElement('div');
      text.className = 'text';
      const plain = openReply(m.encrypted_reply);
      text.textContent = plain === null ? '(this reply could not be decrypted)' : plain;
      li.append(meta, text);
      return li;
    }));
    $('no-replies').hidden = replies.length > 0;
  };

  /* The inbox's key, once: answers are sealed to it. */
  const loadInbox = async () => {
    const r = await SD.api('/key/' + encodeURIComponent(linkToken));
    if (r.status === 404) $('answer-gone').hidden = false;
    if (r.status !== 200 || !r.json || typeof r.json.box_public_key !== 'string') return;
    let k = null;
    try { k = SD.unb64(r.json.box_public_key); } catch (e) { k = null; }
    if (!k || k.length !== 32) return;
    if (pinnedKey && !sodium.memcmp(k, pinnedKey)) {
      SD.say(status, 'The server now gives this inbox another key than the one your message ' +
             'was sealed to: answers are not sent.', 'error');
      return;
    }
    inboxKey = pinnedKey || k;
    if (typeof r.json.display_name === 'string' && r.json.display_name) {
      $('title').textContent = 'Your receipt for ' + r.json.display_name;
    }
    $('answer').hidden = false;
    updateCounter();
  };

  async function load() {
    let r;
    try {
      r = await SD.api('/receipt', {receipt_auth: auth});
    } catch (e) {
      SD.say(status, 'You seem to be offline: the server cannot be reached.', 'error');
      return;
    }
    if (r.status === 404) {
      $('view').hidden = true;
      SD.say(status, 'This receipt is not known (any more): receipts are erased some time after ' +
             'their last activity, and with the inbox.', 'error');
      return;
    }
    if (r.status !== 200 || !r.json || typeof r.json.link_token !== 'string' ||
        !/^link_[A-Za-z0-9_-]{1,123}$/.test(r.json.link_token)) {
      SD.say(status, SD.reason(r), 'error');
      return;
    }
    render(r.json);
    $('view').hidden = false;
    if (!linkToken) {
      linkToken = r.json.link_token;
      try { await loadInbox(); } catch (e) { /* no answers then; the receipt still shows */ }
    }
  }

  /* ---- answering through the receipt ---------------------------------- */

  const text = $('answer-text');
  const tooLong = () => enc.encode(text.value).length > SD.ENV_MAX_TEXT;
  function updateCounter() {
    const n = enc.encode(text.value).length, sealed = SD.envelopeSealedSize(n, true);
    $('answer-counter').textContent = n + ' / ' + SD.ENV_MAX_TEXT + ' bytes' +
      (sealed ? ', sent padded to ' + sealed + ' bytes' : '');
    $('answer-counter').dataset.over = tooLong() ? '1' : '0';
    $('answer-button').disabled = tooLong() || !text.value || !inboxKey;
  }
  text.addEventListener('input', () => {
    if (pending && pending.text !== text.value) pending = null;
    updateCounter();
  });

  async function answer() {
    if (!inboxKey || !text.value || tooLong()) return;
    $('answer-button').disabled = true;
    SD.say(status, 'Encrypting and sending…');
    if (!pending || pending.text !== text.value) {
      /* The same reply key as the first message: replies to the answer
       * come back to this receipt. */
      const sealed = sodium.crypto_box_seal(SD.envelope(enc.encode(text.value), keys.replyPk),
                                            inboxKey);
      pending = {text: text.value,
                 body: {receipt_auth: auth, encrypted_message: SD.b64(sealed),
                        idempotency_key: SD.b64url(sodium.randombytes_buf(16))}};
    }
    let res;
    try {
      for (let attempt = 1; ; attempt++) {
        res = await SD.api('/receipt/answer', pending.body);
        if (![502, 503, 504].includes(res.status) || attempt >= 3) break;
        await SD.sleep(1000);
      }
    } catch (e) {
      SD.say(status, 'You seem to be offline. The answer may or may not have been sent; ' +
             'sending it again is safe.', 'error');
      updateCounter();
      return;
    }
    if (res.status === 201) {
      pending = null;
      text.value = '';
      updateCounter();
      SD.say(status, 'Answer sent.', 'ok');
      await load();
      return;
    }
    const code = res.json && res.json.code;
    if (res.status === 429 && code === 'inbox_full') {
      SD.say(status, 'The inbox is full. Try again later.', 'error');
    } else if (res.status === 404) {
      SD.say(status, 'This receipt is not known any more.', 'error');
    } else {
      SD.say(status, SD.reason(res) + (res.status >= 500 ? ' The answer may or may not have ' +
             'been sent; sending it again is safe.' : ''), 'error');
    }
    updateCounter();
  }

  $('answer').addEventListener('submit', (ev) => {
    ev.preventDefault();
    serial(answer);
  });
  $('refresh').addEventListener('click', () => serial(async () => {
    SD.say(status, '');
    await load();
  }));
  updateCounter();
  serial(load);
})();
