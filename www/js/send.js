/* /l/<link_token>[#<key>] — seal a message in the browser and drop it. */
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

  const size = () => enc.encode(text.value).length + sodium.crypto_box_SEALBYTES;
  const update = () => {
    const n = size();
    counter.textContent = n + ' / ' + SD.MAX_SEALED + ' bytes';
    counter.dataset.over = n > SD.MAX_SEALED ? '1' : '0';
    $('send-button').disabled = n > SD.MAX_SEALED || text.value.length === 0;
  };

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
    if (size() > SD.MAX_SEALED || !text.value) return;
    $('send-button').disabled = true;
    SD.say(status, 'Encrypting and sending…');
    /* One key per message, the same on every retry of it, also the user's
     * own after a failed try: a retry after a lost answer then stores
     * nothing twice. */
    if (!pending || pending.text !== text.value) {
      const sealed = sodium.crypto_box_seal(enc.encode(text.value), key);
      pending = {text: text.value,
                 body: {link_token: token, encrypted_message: SD.b64(sealed),
                        idempotency_key: SD.b64url(sodium.randombytes_buf(16))}};
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
      pending = null;
      text.value = '';
      update();
      SD.say(status, 'Sent. Only the owner of this link can read it.', 'ok');
      return;
    }
    const code = res.json && res.json.code;
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
