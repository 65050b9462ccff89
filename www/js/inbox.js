/* /inbox — unlock the identity, read, mark read, delete. Message text is
 * only ever set as textContent.
 *
 * A reading session: the newest page shows at once, older pages load on
 * demand, a refresh asks only for ids above the newest one loaded. Reads
 * and marking read go with the fetch token kept sealed in the identity
 * (one authentication for the whole session, no challenge per request);
 * without one, each call signs a challenge for its purpose. Deleting
 * always signs a challenge bound to "delete". What is loaded stays on
 * screen when a request fails.
 *
 * Messages of a thread (docs/RECEIPTS.md: a message sent with a receipt
 * and the sender's answers through it) show together, oldest first; one
 * that carries a reply key can be replied to, end to end. */
'use strict';

(async () => {
  await SD.ready;
  const $ = (id) => document.getElementById(id);
  const status = $('status');
  const PAGE = 50;           /* messages per page shown */
  const REFRESH_PAGES = 10;  /* pages of new messages one refresh reads at most */

  /* The session: keys, the fetch token, and what is loaded. */
  let keys = null, linkToken = null, fetchToken = null, timer = null, live = null;
  let items = new Map();     /* id -> {id, created_at, seen, text, replyKey, threadId} */
  let threadReplies = new Map(); /* thread id -> replies the owner stored under it */
  let replyBoxes = new Map();    /* message id -> its reply form, kept across renders */
  let newest = 0;            /* highest id loaded */
  let oldest = null;         /* the cursor for older pages, null when none */
  let loaded = false;        /* the newest page was read once */
  let queue = Promise.resolve();

  /* One request at a time: a refresh never races a delete. */
  const serial = (fn) => {
    const run = queue.then(fn);
    queue = run.catch(() => {});
    return run;
  };

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
    fetchToken = SD.openFetchToken(doc.inbox, keys);
    items = new Map();
    threadReplies = new Map();
    replyBoxes = new Map();
    newest = 0;
    oldest = null;
    loaded = false;
    $('who').textContent = doc.inbox.display_name ? 'Inbox of ' + doc.inbox.display_name : '';
    $('mylink').value = SD.selfLink(location.origin, linkToken, keys.boxPk);
    show(['reader']);
    SD.say(status, '');
    render();
    serial(loadNewest);
    timer = setInterval(() => serial(refresh), 15000);
    listen();
  };

  /* Live events (js/events.js): a refresh as soon as something arrives;
   * the 15 s refresh stays, for when events are unavailable. */
  const listen = () => {
    if (live) live.stop();
    live = SD.liveEvents(keys, linkToken, () => serial(refresh));
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

  /* ---- talking to the server ------------------------------------------ */

  /* An authenticated POST. bound: always a challenge signed for purpose;
   * otherwise the fetch token when there is one (a token the server
   * refuses is dropped and the call signed instead). Resolves to the reply
   * when it is 200; throws with a message for people otherwise. */
  const call = async (path, body, purpose, bound) => {
    if (!bound && fetchToken) {
      const r = await SD.api(path, body, {'Authorization': 'Bearer ' + fetchToken});
      if (r.status === 200) return r;
      if (r.status !== 401) throw new Error(SD.reason(r));
      fetchToken = null;
    }
    const r = await SD.api(path, Object.assign({}, body,
                                               await SD.signed(keys, linkToken, purpose)));
    if (r.status !== 200) throw new Error(SD.reason(r));
    return r;
  };

  /* A page of /fetch, its messages checked and opened, added to items. */
  const fetchPage = async (options) => {
    const r = await call('/fetch', Object.assign({link_token: linkToken, include_seen: true},
                                                 options), 'fetch', false);
    const data = r.json && Array.isArray(r.json.data) ? r.json.data : null;
    if (!data) throw new Error('The server\'s answer has no message list.');
    for (const m of data) {
      if (!m || !Number.isSafeInteger(m.id) || m.id < 1 || items.has(m.id)) continue;
      const read = open(m.encrypted_message);
      items.set(m.id, Object.assign({id: m.id, seen: m.seen === true,
                                     text: read ? read.text : null,
                                     replyKey: read ? read.replyKey : null,
                                     created_at: typeof m.created_at === 'string' ? m.created_at
                                                                                 : ''},
                                    threadOf(m)));
      if (m.id > newest) newest = m.id;
    }
    const more = r.json.has_more === true;
    const cursor = Number.isSafeInteger(r.json.next_cursor) ? r.json.next_cursor : null;
    return {more, cursor, count: data.length};
  };

  /* {text, replyKey} of a message: an envelope's text without its
   * padding, or plain text as before; null when it does not open. */
  const open = (ct) => {
    try {
      return SD.readPlaintext(sodium.crypto_box_seal_open(SD.unb64(ct), keys.boxPk, keys.boxSk));
    } catch (e) {
      return null;
    }
  };

  const failed = (e) => {
    SD.say(status, e instanceof TypeError ? 'You seem to be offline.' : e.message, 'error');
  };

  /* The newest page, at once. */
  async function loadNewest() {
    if (!keys) return;
    try {
      const p = await fetchPage({limit: PAGE, order: 'DESC'});
      oldest = p.more ? p.cursor : null;
      loaded = true;
    } catch (e) {
      failed(e);
    }
    render();
  }

  /* The page below the oldest loaded. */
  async function loadOlder() {
    if (!keys || oldest === null) return;
    try {
      const before = oldest;
      const p = await fetchPage({limit: PAGE, order: 'DESC', before_id: before});
      /* The cursor must move down, or a broken server would keep us here. */
      oldest = p.more && p.cursor !== null && p.cursor < before ? p.cursor : null;
      SD.say(status, '');
    } catch (e) {
      failed(e);
    }
    render();
  }

  /* Only what is new: ids above the newest loaded. Until the newest page
   * was read once (its first try failed), that page: ids above 0 would
   * walk the whole inbox from the oldest. */
  async function refresh() {
    if (!keys) return;
    if (!loaded) {
      await loadNewest();
      return;
    }
    try {
      for (let i = 0; i < REFRESH_PAGES; i++) {
        const since = newest;
        const p = await fetchPage({limit: 200, order: 'ASC', since_id: since});
        if (!p.more || p.cursor === null || p.cursor <= since) break;
      }
    } catch (e) {
      failed(e);
    }
    render();
  }

  /* Mark read (the token will do) or delete (signed for "delete"). */
  async function ack(ids, del) {
    if (!keys) return;
    try {
      await call('/ack', {link_token: linkToken, message_ids: ids, delete: del},
                 del ? 'delete' : 'ack', del);
      for (const id of ids) {
        if (del) items.delete(id);
        else if (items.has(id)) items.get(id).seen = true;
      }
      SD.say(status, del ? 'Deleted.' : 'Marked as read.', 'ok');
    } catch (e) {
      failed(e);
    }
    render();
  }

  /* Every message up to the newest one seen, in one signed call; what
   * arrived since has a higher id and stays. */
  async function deleteAll() {
    if (!keys || newest === 0) return;
    const upTo = newest;
    try {
      const r = await call('/ack', {link_token: linkToken, up_to_id: upTo, delete: true},
                           'delete', true);
      for (const id of [...items.keys()]) if (id <= upTo) items.delete(id);
      oldest = null;
      const n = r.json && Number.isSafeInteger(r.json.count) ? r.json.count : 0;
      SD.say(status, 'Deleted ' + n + ' message(s).', 'ok');
    } catch (e) {
      failed(e);
    }
    render();
  }

  /* ---- threads and replies -------------------------------------------- */

  /* The thread fields /fetch adds to a message of a thread; the reply
   * count is kept per thread, the highest the server reported. */
  const threadOf = (m) => {
    const threadId = Number.isSafeInteger(m.thread_id) && m.thread_id > 0 ? m.thread_id : null;
    if (threadId !== null && Number.isSafeInteger(m.replies) && m.replies >= 0) {
      threadReplies.set(threadId, Math.max(threadReplies.get(threadId) || 0, m.replies));
    }
    return {threadId};
  };

  const canReply = (m) => m.threadId !== null && m.replyKey instanceof Uint8Array;

  /* The entries to show, newest activity first: a message on its own, or
   * a thread {thread, messages (oldest first)} of more than one. */
  const groupThreads = (list) => {
    const groups = [], byThread = new Map();
    for (const m of list) {
      if (m.threadId === null) {
        groups.push({message: m});
      } else if (byThread.has(m.threadId)) {
        byThread.get(m.threadId).messages.unshift(m);
      } else {
        const g = {thread: m.threadId, messages: [m]};
        byThread.set(m.threadId, g);
        groups.push(g);
      }
    }
    return groups.map((g) => (g.messages && g.messages.length === 1 ? {message: g.messages[0]}
                                                                    : g));
  };

  const repliedText = (threadId) => {
    const n = threadReplies.get(threadId) || 0;
    return n === 0 ? '' : 'replied ' + n + (n === 1 ? ' time' : ' times');
  };

  /* A reply seals an envelope (no reply key, padded) to the message's
   * reply key: only the holder of the sender's receipt opens it. Signed
   * for "reply"; the fetch token is not enough. */
  async function sendReply(m, form) {
    if (!keys || !canReply(m)) return;
    const area = form.querySelector('textarea');
    const bytes = new TextEncoder().encode(area.value);
    if (bytes.length === 0) return;
    if (bytes.length > SD.ENV_MAX_TEXT) {
      SD.say(status, 'A reply holds at most ' + SD.ENV_MAX_TEXT + ' bytes.', 'error');
      return;
    }
    try {
      const sealed = sodium.crypto_box_seal(SD.envelope(bytes, null), m.replyKey);
      const body = Object.assign({link_token: linkToken, message_id: m.id,
                                  encrypted_reply: SD.b64(sealed)},
                                 await SD.signed(keys, linkToken, 'reply'));
      const r = await SD.api('/reply', body);
      if (r.status !== 201) throw new Error(SD.reason(r));
      threadReplies.set(m.threadId, (threadReplies.get(m.threadId) || 0) + 1);
      area.value = '';
      area.dispatchEvent(new Event('input'));
      form.hidden = true;
      SD.say(status, 'Reply sent.', 'ok');
    } catch (e) {
      failed(e);
    }
    render();
  }

  /* The reply form of a message, made once: a refresh re-renders the list
   * without losing what is being typed. */
  const replyBox = (m) => {
    if (replyBoxes.has(m.id)) return replyBoxes.get(m.id);
    const form = document.createElement('form');
    form.className = 'reply-box';
    form.hidden = true;
    const label = document.createElement('label');
    label.htmlFor = 'reply-' + m.id;
    label.textContent = 'Your reply';
    const area = document.createElement('textarea');
    area.id = 'reply-' + m.id;
    area.required = true;
    const counter = document.createElement('p');
    counter.className = 'counter';
    counter.id = 'reply-counter-' + m.id;
    area.setAttribute('aria-describedby', counter.id);
    const send = document.createElement('button');
    send.type = 'submit';
    send.textContent = 'Send reply';
    /* The bytes against the limit and the padded size, as on the send page. */
    const count = () => {
      const n = new TextEncoder().encode(area.value).length;
      const sealed = SD.envelopeSealedSize(n, false);
      counter.textContent = n + ' / ' + SD.ENV_MAX_TEXT + ' bytes' +
        (sealed ? ', sent padded to ' + sealed + ' bytes' : '');
      counter.dataset.over = n > SD.ENV_MAX_TEXT ? '1' : '0';
      send.disabled = n === 0 || n > SD.ENV_MAX_TEXT;
    };
    area.addEventListener('input', count);
    count();
    form.append(label, area, counter, send);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      serial(() => sendReply(m, form));
    });
    replyBoxes.set(m.id, form);
    return form;
  };

  /* A thread of several messages: the opening one, the answers under it. */
  const threadEntry = (g) => {
    const li = document.createElement('li');
    li.className = 'thread';
    li.dataset.thread = String(g.thread);
    const meta = document.createElement('div');
    meta.className = 'meta';
    meta.textContent = ['Conversation, ' + g.messages.length + ' messages',
                        repliedText(g.thread)].filter(Boolean).join(', ');
    const list = document.createElement('ol');
    list.className = 'answers';
    list.append(...g.messages.map((m) => entry(m, true)));
    li.append(meta, list);
    return li;
  };

  /* ---- showing it ----------------------------------------------------- */

  const entry = (m, inThread) => {
    const li = document.createElement('li');
    li.className = m.seen ? 'seen' : 'unseen';
    li.dataset.id = String(m.id);
    const meta = document.createElement('div');
    meta.className = 'meta';
    const when = document.createElement('time');
    when.dateTime = m.created_at;
    const date = new Date(m.created_at);
    when.textContent = Number.isNaN(date.getTime()) ? '' : date.toLocaleString();
    meta.append(when);
    if (!m.seen) {
      const badge = document.createElement('span');
      badge.className = 'badge';
      badge.textContent = 'new';
      meta.append(badge);
    }
    if (m.threadId !== null) {
      const mark = document.createElement('span');
      mark.className = 'thread-mark';
      /* In a thread's entry, its header says how often it was replied to. */
      mark.textContent = [m.threadId === m.id ? 'opens a conversation' : 'answer in a conversation',
                          inThread ? '' : repliedText(m.threadId)].filter(Boolean).join(', ');
      meta.append(mark);
    }
    const text = document.createElement('div');
    text.className = 'text';
    text.textContent = m.text === null ? '(this message could not be decrypted)' : m.text;
    const actions = document.createElement('div');
    actions.className = 'row actions';
    if (!m.seen) {
      const read = document.createElement('button');
      read.type = 'button';
      read.className = 'secondary';
      read.textContent = 'Mark read';
      read.addEventListener('click', () => serial(() => ack([m.id], false)));
      actions.append(read);
    }
    const del = document.createElement('button');
    del.type = 'button';
    del.className = 'secondary';
    del.textContent = 'Delete';
    del.addEventListener('click', () => serial(() => ack([m.id], true)));
    actions.append(del);
    li.append(meta, text, actions);
    if (canReply(m)) {
      const box = replyBox(m);
      const reveal = document.createElement('button');
      reveal.type = 'button';
      reveal.className = 'secondary';
      reveal.textContent = 'Reply';
      reveal.addEventListener('click', () => {
        box.hidden = false;
        box.querySelector('textarea').focus();
      });
      actions.prepend(reveal);
      li.append(box);
    }
    return li;
  };

  function render() {
    const list = [...items.values()].sort((a, b) => b.id - a.id);
    /* A reply being typed keeps its focus and caret across a re-render. */
    const typing = document.activeElement;
    const caret = typing && typing.closest && typing.closest('.reply-box')
      ? [typing.selectionStart, typing.selectionEnd] : null;
    $('messages').replaceChildren(...groupThreads(list).map((g) => (g.thread ? threadEntry(g)
                                                                           : entry(g.message, false))));
    if (caret && typing.isConnected) {
      typing.focus();
      typing.setSelectionRange(caret[0], caret[1]);
    }
    const unseen = list.filter((m) => !m.seen).length;
    $('summary').textContent = list.length === 0 && oldest === null ? 'No messages yet.'
      : list.length + ' message(s) shown, ' + unseen + ' new' +
        (oldest !== null ? '; older ones not loaded yet.' : '.');
    $('older').hidden = oldest === null;
    $('delete-all').hidden = list.length === 0;
  }

  $('refresh').addEventListener('click', () => serial(refresh));
  $('older').addEventListener('click', () => serial(loadOlder));
  $('delete-all').addEventListener('click', () => {
    if (window.confirm('Delete every message up to the newest one shown, including older ' +
                       'ones not loaded yet? This cannot be undone.')) {
      serial(deleteAll);
    }
  });
  $('lock').addEventListener('click', () => {
    clearInterval(timer);
    if (live) live.stop();
    live = null;
    if (keys) { sodium.memzero(keys.signSk); sodium.memzero(keys.boxSk); }
    keys = null;
    fetchToken = null;
    items = new Map();
    threadReplies = new Map();
    replyBoxes = new Map();
    $('messages').replaceChildren();
    show(['unlock', 'other']);
    SD.say(status, 'Locked.');
  });
})();
