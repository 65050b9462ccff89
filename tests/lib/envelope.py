"""The reference implementation of docs/RECEIPTS.md in PyNaCl, written from
that page alone: envelopes, buckets and what a receipt secret derives. The
tests use it as the independent client the server and sealdrop's own
clients are checked against."""
import base64
import struct

import nacl.bindings
import nacl.encoding
import nacl.hash
import nacl.public

VERSION = 1
FLAG_REPLY_KEY = 1
SEAL_OVERHEAD = 48
BUCKETS = (1024, 4096, 16384)  # sealed ciphertext sizes


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _kdf(secret, label):
    return nacl.hash.blake2b(label, digest_size=32, key=secret, encoder=nacl.encoding.RawEncoder)


def receipt_auth(secret):
    return _kdf(secret, b"sealdrop-v1 receipt auth")


def receipt_id(secret):
    return nacl.hash.blake2b(receipt_auth(secret), digest_size=32, encoder=nacl.encoding.RawEncoder)


def reply_keypair(secret):
    """(public, secret) X25519 key pair of crypto_box_seed_keypair."""
    seed = _kdf(secret, b"sealdrop-v1 reply key")
    return nacl.bindings.crypto_box_seed_keypair(seed)


def bucket_for(plain_len):
    for size in BUCKETS:
        if plain_len + SEAL_OVERHEAD <= size:
            return size - SEAL_OVERHEAD
    raise ValueError("text too long for the largest bucket")


def envelope(text, reply_key=None):
    body = text.encode() if isinstance(text, str) else text
    head = struct.pack(">BBH", VERSION, FLAG_REPLY_KEY if reply_key else 0, len(body))
    if reply_key:
        head += reply_key
    plain = head + body
    return plain + bytes(bucket_for(len(plain)) - len(plain))


def open_envelope(plain):
    """(text, reply_key or None); ValueError for anything RECEIPTS.md refuses."""
    if len(plain) < 4 or plain[0] != VERSION:
        raise ValueError("not a version 1 envelope")
    flags, length = plain[1], struct.unpack(">H", plain[2:4])[0]
    if flags & ~FLAG_REPLY_KEY:
        raise ValueError("unknown flags")
    at, key = 4, None
    if flags & FLAG_REPLY_KEY:
        key, at = plain[4:36], 36
        if len(key) != 32:
            raise ValueError("short reply key")
    if at + length > len(plain):
        raise ValueError("length past the end")
    if any(plain[at + length:]):
        raise ValueError("padding not zero")
    return plain[at:at + length].decode("utf-8"), key


def seal(plain, public_key):
    return nacl.public.SealedBox(nacl.public.PublicKey(public_key)).encrypt(plain)


def unseal(cipher, secret_key):
    return nacl.public.SealedBox(nacl.public.PrivateKey(secret_key)).decrypt(cipher)
