/* /inbox — unlock the identity, fetch with signed challenges, decrypt here,
 * mark read, delete. Message text is only ever set as textContent. */
'use strict';

(async () => {
  await SD.ready;
  const $ = (id) => document.getElementById(id);
  const status = $('status');
  let keys = null, linkToken = null, timer = null, busy = false;

  const show = (which) => {
    for (const id of ['unlock', 'import', 'reader', 'other']) $(id).hidden = !which.includes(id);
  };

  const stored = await SD.loadIdentity().catch(() => null);
  if (stored && stored.inbox) {
    show(['unlock', 'other']);
    $('pass').focus();
  } else {
    show(['import']);
  }
  $('use-backup').addEventListener('click', () => show(['import']));

  const start = (doc, pass) => {
    const seed = SD.openIdentity(doc, pass); /* throws with a message for people */
    if (!doc.inbox || !doc.inbox.link_token) {
      sodium.memzero(seed);
      throw new Error('This identity has no inbox yet.');
    }
    if (doc.inbox.server && doc.inbox.server !== location.origin) {
      sodium.memzero(seed);
      throw new Error('This identity belongs to an inbox on ' + doc.inbox.server + '.');
    }
    keys = SD.keys(seed);
    sodium.memzero(seed);
    linkToken = doc.inbox.link_token;
    $('who').textContent = doc.inbox.display_name ? 'Inbox of ' + doc.inbox.display_name : '';
    $('mylink').value = SD.selfLink(location.origin, linkToken, keys.boxPk);
    show(['reader']);
    SD.say(status, '');
    refresh();
    timer = setInterval(refresh, 15000);
  };

  $('unlock').addEventListener('submit', (ev) => {
    ev.preventDefault();
    try {
      start(stored, $('pass').value);
    } catch (e) {
      SD.say(status, e.message, 'error');
    }
    $('pass').value = '';
  });

  $('import').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const file = $('file').files[0];
    if (!file || file.size > 65536) {
      SD.say(status, 'Choose your backup file.', 'error');
      return;
    }
    let doc;
    try {
      doc = JSON.parse(await file.text());
    } catch (e) {
      SD.say(status, 'This is not a sealdrop identity file.', 'error');
      return;
    }
    try {
      start(doc, $('import-pass').value);
      await SD.saveIdentity(doc);
    } catch (e) {
      SD.say(status, e.message, 'error');
    }
    $('import-pass').value = '';
  });

  const render = (items) => {
    const list = $('messages');
    list.replaceChildren();
    let unseen = 0;
    for (const m of items) {
      const li = document.createElement('li');
      li.className = m.seen ? 'seen' : 'unseen';
      li.dataset.id = String(m.id);
      const meta = document.createElement('div');
      meta.className = 'meta';
      const when = document.createElement('time');
      when.dateTime = m.created_at;
      when.textContent = new Date(m.created_at).toLocaleString();
      meta.append(when);
      if (!m.seen) {
        unseen++;
        const badge = document.createElement('span');
        badge.className = 'badge';
        badge.textContent = 'new';
        meta.append(badge);
      }
      const text = document.createElement('div');
      text.className = 'text';
      try {
        const plain = sodium.crypto_box_seal_open(SD.unb64(m.encrypted_message), keys.boxPk,
                                                  keys.boxSk);
        text.textContent = new TextDecoder().decode(plain);
      } catch (e) {
        text.textContent = '(this message could not be decrypted)';
      }
      const actions = document.createElement('div');
      actions.className = 'row actions';
      if (!m.seen) {
        const read = document.createElement('button');
        read.type = 'button';
        read.className = 'secondary';
        read.textContent = 'Mark read';
        read.addEventListener('click', () => ack([m.id], false));
        actions.append(read);
      }
      const del = document.createElement('button');
      del.type = 'button';
      del.className = 'secondary';
      del.textContent = 'Delete';
      del.addEventListener('click', () => ack([m.id], true));
      actions.append(del);
      li.append(meta, text, actions);
      list.append(li);
    }
    $('summary').textContent = items.length === 0 ? 'No messages yet.'
      : items.length + ' message(s), ' + unseen + ' new.';
  };

  async function refresh() {
    if (!keys || busy) return;
    busy = true;
    try {
      const items = [];
      let before = null;
      for (;;) {
        const body = Object.assign({link_token: linkToken, include_seen: true, limit: 200},
                                   await SD.signed(keys, linkToken));
        if (before) body.before_id = before;
        const r = await SD.api('/fetch', body);
        if (r.status !== 200) throw new Error(SD.reason(r));
        items.push(...r.json.data);
        if (!r.json.has_more) break;
        before = r.json.next_cursor;
      }
      render(items);
    } catch (e) {
      SD.say(status, e instanceof TypeError ? 'You seem to be offline.' : e.message, 'error');
    } finally {
      busy = false;
    }
  }

  async function ack(ids, del) {
    try {
      const body = Object.assign({link_token: linkToken, message_ids: ids, delete: del},
                                 await SD.signed(keys, linkToken));
      const r = await SD.api('/ack', body);
      if (r.status !== 200) throw new Error(SD.reason(r));
      SD.say(status, del ? 'Deleted.' : 'Marked as read.', 'ok');
    } catch (e) {
      SD.say(status, e.message, 'error');
    }
    refresh();
  }

  $('refresh').addEventListener('click', refresh);
  $('lock').addEventListener('click', () => {
    clearInterval(timer);
    if (keys) { sodium.memzero(keys.signSk); sodium.memzero(keys.boxSk); }
    keys = null;
    $('messages').replaceChildren();
    show(['unlock', 'other']);
    SD.say(status, 'Locked.');
  });
})();
