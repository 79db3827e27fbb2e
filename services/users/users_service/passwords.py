"""Argon2id credentials: hash, verify in constant shape, rehash when parameters change."""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from users_service.settings import UsersSettings


def normalise(password: str) -> str:
    """NFKC, as NIST SP 800-63B 5.1.1.2 asks, so one password typed two ways is one secret."""
    return unicodedata.normalize("NFKC", password)


@dataclass(frozen=True)
class Verdict:
    """Whether a password matched, and whether its stored hash should be replaced."""

    matched: bool
    rehash: bool = False


@dataclass(frozen=True)
class Passwords:
    """One hasher per parameter set (settings), with its dummy hash made once."""

    hasher: PasswordHasher
    _dummy: str = field(repr=False)

    def hash(self, password: str) -> str:
        return self.hasher.hash(normalise(password))

    def verify(self, stored: str | None, password: str) -> Verdict:
        """Always one Argon2id verification, whether or not there is a stored hash."""
        candidate = normalise(password)
        try:
            self.hasher.verify(stored or self._dummy, candidate)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return Verdict(matched=False)
        if stored is None:
            return Verdict(matched=False)
        return Verdict(matched=True, rehash=self.hasher.check_needs_rehash(stored))


@lru_cache(maxsize=4)
def _passwords(time_cost: int, memory_kib: int, parallelism: int) -> Passwords:
    hasher = PasswordHasher(
        time_cost=time_cost,
        memory_cost=memory_kib,
        parallelism=parallelism,
        hash_len=32,
        salt_len=16,
        type=Type.ID,
    )
    # A random secret no one knows: unknown users and accounts without a password are
    # verified against its hash, so they cost the same Argon2id run as a wrong password.
    return Passwords(hasher, hasher.hash(secrets.token_urlsafe(32)))


def passwords_for(settings: UsersSettings) -> Passwords:
    return _passwords(
        settings.password_hash_time_cost,
        settings.password_hash_memory_kib,
        settings.password_hash_parallelism,
    )
