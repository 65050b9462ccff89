/* The envelope and the receipt secret of docs/RECEIPTS.md: what the send
 * page puts inside the sealed box for an `envelope-v1` inbox, how the inbox
 * and the receipt page open it, and what a receipt secret R derives.
 * Needs libsodium (SD.ready) and common.js. */
'use strict';

SD.ENV_VERSION = 1;
SD.ENV_FLAG_REPLY_KEY = 1;
SD.SEAL_OVERHEAD = 48;                  /* crypto_box_SEALBYTES */
SD.BUCKETS = [1024, 4096, 16384];       /* sealed sizes */
SD.ENV_MAX_TEXT = 16384 - 48 - 36;      /* 16300 bytes: the largest text with a reply key */

/* The plaintext size a sealed bucket holds, for a plaintext of n bytes;
 * 0 when even the largest is too small. */
SD.bucketFor = (n) => {
  for (const sealed of SD.BUCKETS) if (n + SD.SEAL_OVERHEAD <= sealed) return sealed - SD.SEAL_OVERHEAD;
  return 0;
};

/* The sealed size an envelope of a text of n bytes gets (0: too long). */
SD.envelopeSealedSize = (n, withReplyKey) => {
  const plain = SD.bucketFor(4 + (withReplyKey ? 32 : 0) + n);
  return plain ? plain + SD.SEAL_OVERHEAD : 0;
};

/* The padded envelope of text (a Uint8Array of UTF-8), with the 32-byte
 * reply key or none. Throws when the text does not fit. */
SD.envelope = (text, replyKey) => {
  const head = 4 + (replyKey ? 32 : 0);
  const size = SD.bucketFor(head + text.length);
  if (!size || text.length > 0xffff) throw new Error('The message is too long.');
  const plain = new Uint8Array(size); /* zero-filled: the padding */
  plain[0] = SD.ENV_VERSION;
  plain[1] = replyKey ? SD.ENV_FLAG_REPLY_KEY : 0;
  plain[2] = text.length >> 8;
  plain[3] = text.length & 0xff;
  if (replyKey) {
    if (replyKey.length !== 32) throw new Error('A reply key has 32 bytes.');
    plain.set(replyKey, 4);
  }
  plain.set(text, head);
  return plain;
};

/* {text, replyKey (Uint8Array or null)} of an envelope, or null for
 * anything RECEIPTS.md says to refuse: never a guess. */
SD.openEnvelope = (plain) => {
  if (!(plain instanceof Uint8Array) || plain.length < 4 || plain[0] !== SD.ENV_VERSION) {
    return null;
  }
  const flags = plain[1], length = (plain[2] << 8) | plain[3];
  if (flags & ~SD.ENV_FLAG_REPLY_KEY) return null;
  const at = flags & SD.ENV_FLAG_REPLY_KEY ? 36 : 4;
  if (at + length > plain.length) return null;
  for (let i = at + length; i < plain.length; i++) if (plain[i] !== 0) return null;
  let text;
  try {
    text = new TextDecoder('utf-8', {fatal: true, ignoreBOM: true})
      .decode(plain.subarray(at, at + length));
  } catch (e) {
    return null;
  }
  return {text, replyKey: at === 36 ? plain.slice(4, 36) : null};
};

/* What a message's plaintext reads as in an inbox: an envelope (first
 * byte 0x01), or the plain UTF-8 text of a client that does not know
 * envelopes (PyCrypt's). {text, replyKey, envelope} or null when it cannot
 * be read. */
SD.readPlaintext = (plain) => {
  if (plain.length > 0 && plain[0] === SD.ENV_VERSION) {
    const env = SD.openEnvelope(plain);
    return env ? Object.assign(env, {envelope: true}) : null;
  }
  try {
    return {text: new TextDecoder('utf-8', {fatal: true, ignoreBOM: true}).decode(plain),
            replyKey: null, envelope: false};
  } catch (e) {
    return null;
  }
};

/* ---- the receipt secret R -------------------------------------------- */

SD.RECEIPT_LABEL_AUTH = 'sealdrop-v1 receipt auth';
SD.RECEIPT_LABEL_REPLY = 'sealdrop-v1 reply key';

/* Everything R (32 bytes) derives: auth (sent on every receipt request),
 * receiptId (sent once, on /send) and the reply key pair. */
SD.receiptKeys = (r) => {
  const auth = sodium.crypto_generichash(32, sodium.from_string(SD.RECEIPT_LABEL_AUTH), r);
  const receiptId = sodium.crypto_generichash(32, auth, null);
  const seed = sodium.crypto_generichash(32, sodium.from_string(SD.RECEIPT_LABEL_REPLY), r);
  const kp = sodium.crypto_box_seed_keypair(seed);
  sodium.memzero(seed);
  return {auth, receiptId, replyPk: kp.publicKey, replySk: kp.privateKey};
};

/* R from the text after '#' in a receipt link: 43 characters of unpadded
 * base64url decoding to 32 bytes, or null. */
/* The fragment of a receipt link: R, or R.K where K is the inbox key the
 * message was sealed to (docs/RECEIPTS.md). {secret, inboxKey (or null)},
 * or null when it is neither. */
SD.receiptFragment = (text) => {
  const m = typeof text === 'string' &&
    /^([A-Za-z0-9_-]{43})(?:\.([A-Za-z0-9_-]{43}))?$/.exec(text);
  if (!m) return null;
  try {
    const secret = SD.unb64url(m[1]);
    const inboxKey = m[2] ? SD.unb64url(m[2]) : null;
    if (secret.length !== 32 || (inboxKey && inboxKey.length !== 32)) return null;
    return {secret, inboxKey};
  } catch (e) {
    return null;
  }
};

SD.receiptSecret = (text) => {
  const f = SD.receiptFragment(text);
  return f ? f.secret : null;
};

/* The link the sender keeps: the secret and the inbox key it sealed to, so
 * an answer through the receipt goes to that key whatever a server says. */
SD.receiptLink = (origin, r, inboxKey) => origin + '/r#' + SD.b64url(r) + '.' + SD.b64url(inboxKey);
