"""Secrets and how they are stored: API keys, enterprise tokens, activation codes, passwords.

- API keys and tokens are `<role prefix>` + `secrets.token_urlsafe(32)` (256 random bits). Such a
  secret cannot be guessed, so a keyed hash is enough to store it: `hmac-sha256$<hex>`, keyed with
  the platform's secret (`GONGSHI_SECRET_KEY`), so a stolen table without that key checks nothing.
  The id (the 8 characters after the prefix) finds the row. Department keys made before this
  scheme are stored as salted scrypt hashes (`scrypt$N$r$p$salt$hash`) and still verify.
- Passwords and activation codes are chosen by people or short: argon2id through `pwdlib`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from domain.access import KEY_PREFIXES, Role, role_of_key

__all__ = [
    "KEY_ID_LENGTH",
    "activation_code",
    "key_id_of",
    "keyed_hash",
    "new_secret",
    "password_hasher",
    "verify_secret",
]

KEY_ID_LENGTH = 8
# activation codes are read from a letter and typed: no 0/O, 1/I/L
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_secret(role: Role) -> str:
    """A fresh key or token for `role`."""
    while True:  # an id starting with "-" would read as an option on the command line
        token = secrets.token_urlsafe(32)
        if token[0].isalnum():
            return KEY_PREFIXES[role] + token


def key_id_of(key: str) -> str | None:
    """The id of a well-formed key or token (8 characters after its prefix), else None."""
    role = role_of_key(key)
    if role is None:
        return None
    start = len(KEY_PREFIXES[role])
    return key[start : start + KEY_ID_LENGTH]


def keyed_hash(secret: str, pepper: bytes) -> str:
    return "hmac-sha256$" + hmac.new(pepper, secret.encode(), hashlib.sha256).hexdigest()


def verify_secret(secret: str, stored: str, pepper: bytes) -> bool:
    """Constant-time check of a key or token against its stored hash (either scheme)."""
    algorithm, _, rest = stored.partition("$")
    if algorithm == "hmac-sha256":
        return hmac.compare_digest(keyed_hash(secret, pepper), stored)
    if algorithm == "scrypt":
        return _verify_scrypt(secret, rest)
    return False


def _verify_scrypt(secret: str, rest: str) -> bool:
    try:
        n, r, p, salt, expected = rest.split("$")
        digest = hashlib.scrypt(
            secret.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest, bytes.fromhex(expected))


def scrypt_hash(secret: str, salt: bytes | None = None) -> str:
    """The scheme department keys were stored under before keyed hashes (kept to test that old
    rows still verify)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    n, r, p = 2**14, 8, 1
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return f"scrypt${n}${r}${p}${salt.hex()}${digest.hex()}"


def activation_code() -> str:
    """A one-time code to type: `XXXX-XXXX-XXXX` (12 characters of 31, about 59 bits)."""
    chars = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))
    return f"{chars[:4]}-{chars[4:8]}-{chars[8:]}"


def normalise_code(code: str) -> str:
    return code.strip().upper().replace(" ", "").replace("-", "")


def password_hasher(*, cheap: bool = False) -> PasswordHash:
    """argon2id with pwdlib's defaults (about 0.25 s here); `cheap` for tests only."""
    if cheap:
        return PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    return PasswordHash((Argon2Hasher(),))
