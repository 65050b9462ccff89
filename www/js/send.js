/* /l/<link_token>[#<key>] — seal a message in the browser and drop it; to
 * an inbox that opens envelopes, padded, with a receipt for the sender. */
'use strict';

(async () => {
  await SD.ready;
  const $ = (id) => document.getElementById(id);
  const status = $('status'), form = $('send'), text = $('message'), counter = $('counter');
  const token = decodeURIComponent(location.pathname.replace(/^\/l\//, ''));
  const enc = new TextEncoder();
  let key = null;
  /* The last send whose outcome is not known ({text, body}): the same
   * text sent again goes with the same body and idempotency key, so it is
   * stored once at most. Dropped after a 201 or when the text changes. */
  let pending = null;

  /* An inbox whose owner's client opens envelopes (docs/RECEIPTS.md) gets
   * one, padded, with a reply key, and the sender a receipt; any other
   * gets the plain text exactly as before. */
  let envelope = false;

  /* Too long to send? The counter says how far from the limit. */
  const tooLong = () => {
    const n = enc.encode(text.value).length;
    return envelope ? n > SD.ENV_MAX_TEXT : n + sodium.crypto_box_SEALBYTES > SD.MAX_SEALED;
  };
  const update = () => {
    const n = enc.encode(text.value).length;
    if (envelope) {
      const sealed = SD.envelopeSealedSize(n, true);
      counter.textContent = n + ' / ' + SD.ENV_MAX_TEXT + ' bytes' +
        (sealed ? ', sent padded to ' + sealed + ' bytes' : '');
    } else {
      counter.textContent = (n + sodium.crypto_box_SEALBYTES) + ' / ' + SD.MAX_SEALED + ' bytes';
    }
    counter.dataset.over = tooLong() ? '1' : '0';
    $('send-button').disabled = tooLong() || text.value.length === 0;
  };

  /* The sealed body of text for /send, and the receipt secret R when the
   * inbox takes envelopes (null otherwise). */
  const seal = (value) => {
    const body = {link_token: token, idempotency_key: SD.b64url(sodium.randombytes_buf(16))};
    if (!envelope) {
      body.encrypted_message = SD.b64(sodium.crypto_box_seal(enc.encode(value), key));
      return {body, receipt: null};
    }
    const receipt = sodium.randombytes_buf(32);
    const derived = SD.receiptKeys(receipt);
    body.encrypted_message = SD.b64(sodium.crypto_box_seal(
      SD.envelope(enc.encode(value), derived.replyPk), key));
    body.receipt_id = SD.b64url(derived.receiptId);
    sodium.memzero(derived.replySk);
    return {body, receipt};
  };

  /* After a 201: the receipt link, its QR code and a Copy button. */
  const showReceipt = (receipt) => {
    if (!receipt) {
      $('receipt').hidden = true;
      return;
    }
    const link = SD.receiptLink(location.origin, receipt, key);
    $('receipt-link').value = link;
    SD.drawQr($('receipt-qr'), link);
    $('receipt').hidden = false;
  };
  $('receipt-copy').addEventListener('click',
                                     () => SD.copyField($('receipt-link'), status, 'Receipt link'));

  if (!/^link_[A-Za-z0-9_-]{1,123}$/.test(token)) {
    SD.say(status, 'This is not a sealdrop link.', 'error');
    return;
  }
  let r;
  try {
    r = await SD.api('/key/' + encodeURIComponent(token));
  } catch (e) {
    SD.say(status, 'You seem to be offline: the server cannot be reached.', 'error');
    return;
  }
  if (r.status === 404) {
    SD.say(status, 'This link does not lead to an inbox (it may have been deleted).', 'error');
    return;
  }
  if (r.status !== 200 || !r.json || !r.json.box_public_key) {
    SD.say(status, SD.reason(r), 'error');
    return;
  }
  const served = SD.unb64(r.json.box_public_key);
  const fragment = location.hash.slice(1);
  if (fragment) {
    let named = null;
    try { named = SD.unb64url(fragment); } catch (e) { named = null; }
    if (!named || named.length !== 32 || !sodium.memcmp(named, served)) {
      SD.say(status, 'Warning: the server is offering a different key than the one in your ' +
             'link. Your message could be read by someone else, so it will not be sent. ' +
             'Ask the owner of the link for a fresh copy.', 'warn');
      return;
    }
    key = named;
  } else {
    key = served;
  }
  envelope = Array.isArray(r.json.capabilities) && r.json.capabilities.includes('envelope-v1');
  if (r.json.display_name) $('title').textContent = 'Send a message to ' + r.json.display_name;
  form.hidden = false;
  update();
  text.addEventListener('input', () => {
    if (pending && pending.text !== text.value) pending = null;
    update();
  });
  text.focus();

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (tooLong() || !text.value) return;
    $('send-button').disabled = true;
    SD.say(status, 'Encrypting and sending…');
    /* One key per message, the same on every retry of it, also the user's
     * own after a failed try: a retry after a lost answer then stores
     * nothing twice. */
    if (!pending || pending.text !== text.value) {
      pending = Object.assign({text: text.value}, seal(text.value));
    }
    const body = pending.body;
    const unknown = ' The message may or may not have been sent; sending it again is safe: ' +
                    'it will not arrive twice.';
    let res;
    try {
      for (let attempt = 1; ; attempt++) {
        res = await SD.api('/send', body);
        if (![502, 503, 504].includes(res.status) || attempt >= 3) break;
        await SD.sleep(1000);
      }
    } catch (e) {
      SD.say(status, 'You seem to be offline.' + unknown, 'error');
      update();
      return;
    }
    if (res.status === 201 && res.json && Number.isSafeInteger(res.json.id) && res.json.id > 0) {
      const receipt = pending.receipt;
      pending = null;
      text.value = '';
      update();
      showReceipt(receipt);
      SD.say(status, 'Sent. Only the owner of this link can read it.' +
             (receipt ? ' Keep the receipt below.' : ''), 'ok');
      return;
    }
    const code = res.json && res.json.code;
    /* A receipt id already taken (vanishingly unlikely): the next try
     * draws a fresh secret. */
    if (res.status === 409 && code === 'receipt_exists') pending = null;
    if (res.status === 201) {
      SD.say(status, 'The server\'s answer was not understood: the message may or may not ' +
             'have arrived.', 'error');
    } else if (res.status === 429 && code === 'inbox_full') {
      SD.say(status, 'This inbox is full. Try again later.', 'error');
    } else if (res.status === 429) {
      SD.say(status, 'Too many messages from your address just now. Wait a moment and try again.',
             'error');
    } else if (res.status === 404) {
      SD.say(status, 'This inbox no longer exists.', 'error');
    } else if (res.status >= 500) {
      SD.say(status, SD.reason(res) + unknown, 'error');
    } else {
      SD.say(status, SD.reason(res), 'error');
    }
    update();
  });
})();
