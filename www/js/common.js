/* Shared by every sealdrop page: libsodium, base64, the API, the identity
 * file (docs/IDENTITY.md) and where the browser keeps it (IndexedDB,
 * encrypted). No page ever sends a private key anywhere. */
'use strict';

const SD = {};

SD.ready = window.sodium.ready.then(() => window.sodium);

SD.b64 = (u8) => sodium.to_base64(u8, sodium.base64_variants.ORIGINAL);
SD.unb64 = (s) =>
  sodium.from_base64(s, s.endsWith('=') ? sodium.base64_variants.ORIGINAL
                                        : sodium.base64_variants.ORIGINAL_NO_PADDING);
SD.b64url = (u8) => sodium.to_base64(u8, sodium.base64_variants.URLSAFE_NO_PADDING);
SD.unb64url = (s) => sodium.from_base64(s, sodium.base64_variants.URLSAFE_NO_PADDING);

SD.MAX_SEALED = 16384;

SD.sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/* A rate limit (429) is waited out and the request sent again, at most
 * this many times in a row and never for longer than this per wait; a full
 * inbox and a receipt's reply limit are 429s that waiting does not end. */
SD.LIMITS_NOT_WAITED = ['inbox_full', 'reply_limit'];
SD.RETRIES = 5;
SD.RETRY_WAIT_MAX = 30;

/* POST (or GET without body) to the API. Resolves to {status, json};
 * rejects only when the network fails. */
SD.api = async (path, body, headers) => {
  const init = {
    method: body === undefined ? 'GET' : 'POST',
    headers: Object.assign({'Accept': 'application/json'}, headers || {}),
    cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer',
  };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  for (let attempt = 0; ; attempt++) {
    const r = await fetch(path, init);
    let json = null;
    try { json = await r.json(); } catch (e) { json = null; }
    const code = json && json.code;
    const wait = Number.parseInt(r.headers.get('Retry-After') || '1', 10);
    if (r.status !== 429 || SD.LIMITS_NOT_WAITED.includes(code) || attempt >= SD.RETRIES ||
        !(wait >= 0 && wait <= SD.RETRY_WAIT_MAX)) {
      return {status: r.status, json};
    }
    await SD.sleep(Math.max(wait, 1) * 1000);
  }
};

/* Everything derives from one 32-byte Ed25519 seed. */
SD.keys = (seed) => {
  const kp = sodium.crypto_sign_seed_keypair(seed);
  return {
    signPk: kp.publicKey,
    signSk: kp.privateKey,
    boxPk: sodium.crypto_sign_ed25519_pk_to_curve25519(kp.publicKey),
    boxSk: sodium.crypto_sign_ed25519_sk_to_curve25519(kp.privateKey),
  };
};

SD.selfLink = (origin, linkToken, boxPk) =>
  origin + '/l/' + linkToken + '#' + SD.b64url(boxPk);

/* ---- identity file ---------------------------------------------------- */

SD.OPSLIMIT = 3;
SD.MEMLIMIT = 64 * 1024 * 1024;

SD.sealIdentity = (seed, passphrase, inbox) => {
  const salt = sodium.randombytes_buf(sodium.crypto_pwhash_SALTBYTES);
  const nonce = sodium.randombytes_buf(sodium.crypto_secretbox_NONCEBYTES);
  const key = sodium.crypto_pwhash(32, passphrase, salt, SD.OPSLIMIT, SD.MEMLIMIT,
                                   sodium.crypto_pwhash_ALG_ARGON2ID13);
  const doc = {
    sealdrop_identity: 1, kdf: 'argon2id13', opslimit: SD.OPSLIMIT, memlimit: SD.MEMLIMIT,
    salt: SD.b64(salt), nonce: SD.b64(nonce),
    sealed_seed: SD.b64(sodium.crypto_secretbox_easy(seed, nonce, key)),
    public_key: SD.b64(SD.keys(seed).signPk),
  };
  sodium.memzero(key);
  if (inbox) doc.inbox = inbox;
  return doc;
};

/* The seed of an identity document, or an Error with a message for people. */
SD.openIdentity = (doc, passphrase) => {
  if (!doc || doc.sealdrop_identity !== 1 || doc.kdf !== 'argon2id13') {
    throw new Error('This is not a sealdrop identity file.');
  }
  const ops = doc.opslimit, mem = doc.memlimit;
  /* A hostile file must not make the page allocate without bound. */
  if (!Number.isInteger(ops) || ops < 1 || ops > 10 ||
      !Number.isInteger(mem) || mem < 8192 || mem > 1024 * 1024 * 1024) {
    throw new Error('The identity file has invalid key settings.');
  }
  let seed;
  try {
    const key = sodium.crypto_pwhash(32, passphrase, SD.unb64(doc.salt), ops, mem,
                                     sodium.crypto_pwhash_ALG_ARGON2ID13);
    seed = sodium.crypto_secretbox_open_easy(SD.unb64(doc.sealed_seed), SD.unb64(doc.nonce), key);
    sodium.memzero(key);
  } catch (e) {
    throw new Error('Wrong passphrase.');
  }
  if (SD.b64(SD.keys(seed).signPk) !== doc.public_key) {
    throw new Error('The identity file is damaged (its key does not match).');
  }
  return seed;
};

/* ---- IndexedDB: the encrypted identity, nothing else ------------------ */

SD.db = () => new Promise((resolve, reject) => {
  const req = indexedDB.open('sealdrop', 1);
  req.onupgradeneeded = () => req.result.createObjectStore('identity');
  req.onsuccess = () => resolve(req.result);
  req.onerror = () => reject(req.error);
});

SD.saveIdentity = async (doc) => {
  const db = await SD.db();
  await new Promise((resolve, reject) => {
    const tx = db.transaction('identity', 'readwrite');
    tx.objectStore('identity').put(JSON.stringify(doc), 'current');
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
  });
};

SD.loadIdentity = async () => {
  const db = await SD.db();
  return new Promise((resolve, reject) => {
    const req = db.transaction('identity').objectStore('identity').get('current');
    req.onsuccess = () => resolve(req.result ? JSON.parse(req.result) : null);
    req.onerror = () => reject(req.error);
  });
};

/* ---- authentication (docs/API.md, purpose-bound signatures) --------- */

SD.FORM = 'sealdrop-v1';

/* The challenge of a purpose challenge reply, checked before anything is
 * signed: our form, our purpose, 32 bytes of base64, and the origin this
 * page was loaded from. A server never gets a signature over a string it
 * chose, nor over another server's challenge. Throws with a message for
 * people. */
SD.challengeTake = (json, purpose, origin) => {
  const j = json && typeof json === 'object' ? json : {};
  if (j.form !== SD.FORM) {
    throw new Error('The server offers no purpose-bound challenge; nothing was signed.');
  }
  if (j.purpose !== purpose) {
    throw new Error('The server sent a challenge for something else; nothing was signed.');
  }
  let raw = null;
  try {
    raw = typeof j.challenge === 'string' && j.challenge.length <= 128 &&
          /^[A-Za-z0-9+/]+={0,2}$/.test(j.challenge) ? SD.unb64(j.challenge) : null;
  } catch (e) { raw = null; }
  if (!raw || raw.length !== 32) {
    throw new Error('The server sent a malformed challenge; nothing was signed.');
  }
  if (j.origin !== origin) {
    throw new Error('The challenge names another server than this one; nothing was signed.');
  }
  return j.challenge;
};

/* A fresh challenge for purpose, signed in the bound form, as request body
 * fields. */
SD.signed = async (keys, linkToken, purpose) => {
  const r = await SD.api('/challenge_request', {link_token: linkToken, purpose});
  if (r.status !== 200) throw new Error(SD.reason(r));
  const challenge = SD.challengeTake(r.json, purpose, location.origin);
  const msg = [SD.FORM, purpose, location.origin, linkToken, challenge].join('\n');
  const sig = sodium.crypto_sign_detached(sodium.from_string(msg), keys.signSk);
  return {challenge, challenge_signature: SD.b64(sig), challenge_form: SD.FORM};
};

/* The fetch token is kept in the identity document sealed to the
 * identity's own X25519 key (docs/IDENTITY.md): sealing needs no
 * passphrase, opening needs the unlocked keys. */
SD.fetchTokenValid = (t) => typeof t === 'string' && /^[A-Za-z0-9_-]{16,256}$/.test(t);

SD.sealFetchToken = (token, boxPk) =>
  SD.b64(sodium.crypto_box_seal(sodium.from_string(token), boxPk));

/* The token, or null when the document keeps none or it does not open. */
SD.openFetchToken = (inbox, keys) => {
  if (!inbox || typeof inbox.sealed_fetch_token !== 'string') return null;
  try {
    const t = sodium.to_string(sodium.crypto_box_seal_open(SD.unb64(inbox.sealed_fetch_token),
                                                           keys.boxPk, keys.boxSk));
    return SD.fetchTokenValid(t) ? t : null;
  } catch (e) {
    return null;
  }
};

SD.reason = (r) => {
  const code = r.json && r.json.code;
  if (r.status === 507 || code === 'storage_full' || code === 'capacity_reached') {
    return 'The server is full and takes nothing new for now. Try again later.';
  }
  return (r.json && typeof r.json.error === 'string') ? r.json.error
    : 'The server answered ' + r.status + '.';
};

/* Show a message in a status element: text only, never HTML. */
SD.say = (el, text, kind) => {
  el.textContent = text;
  el.dataset.kind = kind || 'info';
  el.hidden = !text;
};

/* Draw text as a QR code on a canvas (npm qrcode-generator, loaded as
 * /vendor/qrcode.js by the pages that show one). */
SD.drawQr = (canvas, text) => {
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  const n = qr.getModuleCount(), quiet = 4;
  const scale = Math.max(2, Math.floor(264 / (n + 2 * quiet)));
  canvas.width = canvas.height = (n + 2 * quiet) * scale;
  const g = canvas.getContext('2d');
  g.fillStyle = '#fff';
  g.fillRect(0, 0, canvas.width, canvas.height);
  g.fillStyle = '#000';
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      if (qr.isDark(r, c)) g.fillRect((c + quiet) * scale, (r + quiet) * scale, scale, scale);
    }
  }
};

/* Copy the value of a read-only input, or select it for the user to copy. */
SD.copyField = async (input, status, what) => {
  try {
    await navigator.clipboard.writeText(input.value);
    SD.say(status, what + ' copied.', 'ok');
  } catch (e) {
    input.select();
    SD.say(status, 'Select the ' + what.toLowerCase() + ' and copy it.', 'info');
  }
};

/* Offer a JSON document as a file download. */
SD.download = (name, doc) => {
  const blob = new Blob([JSON.stringify(doc, null, 2) + '\n'], {type: 'application/json'});
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
};
