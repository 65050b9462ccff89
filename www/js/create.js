/* / — create an inbox: the key is made here and never leaves unencrypted. */
'use strict';

(async () => {
  await SD.ready;
  const $ = (id) => document.getElementById(id);
  const status = $('status');
  let identity = null;

  $('create').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const name = $('name').value.trim(), pass = $('pass').value;
    if (pass !== $('pass2').value) {
      SD.say(status, 'The two passphrases differ.', 'error');
      return;
    }
    if (pass.length < 8) {
      SD.say(status, 'Choose a passphrase of at least 8 characters.', 'error');
      return;
    }
    $('create-button').disabled = true;
    SD.say(status, 'Creating your key and inbox…');
    const seed = sodium.randombytes_buf(32);
    const keys = SD.keys(seed);
    /* bound-signatures: deleting, rotating and erasing this inbox then need
     * a signature made for that purpose; the fetch token only reads.
     * envelope-v1: this page opens envelopes (docs/RECEIPTS.md), so senders
     * pad and may ask for replies; padded-only makes the server refuse
     * anything else. */
    const capabilities = ['bound-signatures', 'envelope-v1'];
    if ($('padded-only').checked) capabilities.push('padded-only');
    const body = {public_key: SD.b64(keys.signPk), box_public_key: SD.b64(keys.boxPk),
                  key_type: 'ed25519', capabilities};
    if (name) body.display_name = name;
    let r;
    try {
      r = await SD.api('/register', body);
    } catch (e) {
      SD.say(status, 'The server cannot be reached. Check your connection and try again.', 'error');
      $('create-button').disabled = false;
      return;
    }
    if (r.status !== 201) {
      SD.say(status, SD.reason(r), 'error');
      $('create-button').disabled = false;
      return;
    }
    const inbox = {server: location.origin, link_token: r.json.link_token};
    if (name) inbox.display_name = name;
    /* The fetch token lets the inbox page read without a signature per
     * request; kept sealed to our own key. */
    if (SD.fetchTokenValid(r.json.fetch_token)) {
      inbox.sealed_fetch_token = SD.sealFetchToken(r.json.fetch_token, keys.boxPk);
    }
    identity = SD.sealIdentity(seed, pass, inbox);
    sodium.memzero(seed);
    await SD.saveIdentity(identity);
    const link = SD.selfLink(location.origin, r.json.link_token, keys.boxPk);
    $('link').value = link;
    SD.drawQr($('qr'), link);
    $('create').hidden = true;
    $('done').hidden = false;
    SD.say(status, 'Your inbox is ready. Save your backup before you go on.', 'ok');
    $('backup').focus();
  });

  $('copy').addEventListener('click', () => SD.copyField($('link'), status, 'Link'));

  $('backup').addEventListener('click', () => {
    SD.download('sealdrop-identity.json', identity);
    $('to-inbox').disabled = false;
    SD.say(status, 'Backup downloaded. Keep it somewhere safe.', 'ok');
  });

  $('to-inbox').addEventListener('click', () => { location.href = '/inbox'; });
})();
