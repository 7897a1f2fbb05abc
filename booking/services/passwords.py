"""Password hashing with argon2id (OWASP ASVS 5: memory-hard, salted, tunable)."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2-cffi's defaults are RFC 9106's second recommended profile: argon2id, 64 MiB, t=3, p=4.
_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 10
# Long enough for any passphrase, short enough that hashing it is no denial of service.
MAX_PASSWORD_LENGTH = 1024


@cache
def _common_passwords() -> frozenset[str]:
    """The 30,000 most used passwords (xato's leaked-password corpus, ranked), offline.

    Shipped by the zxcvbn package (MIT, https://github.com/dwolfhub/zxcvbn-python);
    loaded once, on first use.
    """
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(word.lower() for word in FREQUENCY_LISTS["passwords"])


def is_common_password(password: str) -> bool:
    """True for a password among the most used ones (case does not matter)."""
    return password.strip().lower() in _common_passwords()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


# Verifying against this when no user exists keeps login timing the same for unknown e-mails.
DUMMY_HASH = _hasher.hash("no user has this password")
