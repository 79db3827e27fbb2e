"""The gateway's memory: verdicts cached by a hash of the credentials, and call counters."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]


@dataclass(frozen=True)
class Verdict:
    """users-api's answer about one set of credentials (the authenticate contract)."""

    user_id: str
    username: str
    roles: tuple[str, ...]
    active: bool


@dataclass
class VerdictCache:
    """Verdicts for `ttl` seconds, keyed by HMAC-SHA-256 of the credentials.

    The key never holds the password, and with a per-process secret a digest cannot be
    tested against guesses offline either. Only successful verdicts are kept: a new or
    reset password works at once, and a wrong one always reaches users-api.
    """

    ttl: float
    clock: Clock = time.monotonic
    _secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    _entries: dict[str, tuple[float, Verdict]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def key(self, username: str, password: str) -> str:
        # Length-prefixed so ("a:b", "c") and ("a", "b:c") never share a key.
        message = f"{len(username)}:{username}:{password}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def get(self, key: str) -> Verdict | None:
        now = self.clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if now >= entry[0]:
                del self._entries[key]
                return None
            return entry[1]

    def put(self, key: str, verdict: Verdict) -> None:
        if self.ttl <= 0:
            return
        now = self.clock()
        with self._lock:
            # Drop what expired whenever the cache grows, so it cannot grow without bound.
            if len(self._entries) >= 10_000:
                self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            self._entries[key] = (now + self.ttl, verdict)


@dataclass
class FixedWindowLimiter:
    """`calls` per `window` seconds per key, windows aligned on the clock."""

    calls: int
    window: int
    clock: Clock = time.time
    _counts: dict[str, tuple[int, int]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def admit(self, key: str) -> int | None:
        """None when the call may go ahead, else the seconds until the window renews."""
        now = self.clock()
        index = int(now // self.window)
        with self._lock:
            window, count = self._counts.get(key, (index, 0))
            if window != index:
                window, count = index, 0
            if count >= self.calls:
                return max(1, math.ceil((index + 1) * self.window - now))
            self._counts[key] = (window, count + 1)
            return None
