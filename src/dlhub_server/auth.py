"""Passwords and bearer tokens.

Passwords are hashed with argon2. Tokens are random (``dlh_`` + 43 URL-safe
characters), handed to the client once, and stored only as their SHA-256, with
an expiry; revoking one stamps it so it stops working at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from dlhub_server.db import utcnow
from dlhub_server.errors import RateLimited, Unauthenticated
from dlhub_server.tables import Token, User

__all__ = [
    "TOKEN_PREFIX",
    "LoginThrottle",
    "authenticate",
    "hash_password",
    "hash_token",
    "issue_token",
    "revoke_token",
    "user_for_token",
    "verify_password",
]

TOKEN_PREFIX = "dlh_"

_hasher = PasswordHasher()
# Checked against when the user does not exist, so a wrong name costs as much as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """An argon2 hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def hash_token(token: str) -> str:
    """What the registry stores of a token: the hex SHA-256 of its text."""
    return hashlib.sha256(token.encode()).hexdigest()


class LoginThrottle:
    """Refuses logins to an account after repeated wrong passwords, for a while.

    Kept in memory: a restart forgets it, which is acceptable for a brake on guessing.
    """

    def __init__(self, max_failures: int = 10, window_seconds: float = 300.0) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def check(self, username: str) -> None:
        """Raise :class:`RateLimited` when ``username`` had too many recent failures."""
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._failures.get(username.lower(), []) if now - t < self.window]
            self._failures[username.lower()] = recent
            if len(recent) >= self.max_failures:
                retry = int(self.window - (now - recent[0])) + 1
                raise RateLimited(
                    f"too many failed logins for {username!r}; try again in {retry} s",
                    details={"retry_after": retry},
                    headers={"Retry-After": str(retry)},
                )

    def failed(self, username: str) -> None:
        """Record a wrong password for ``username``."""
        with self._lock:
            self._failures.setdefault(username.lower(), []).append(time.monotonic())

    def succeeded(self, username: str) -> None:
        """Forget the failures of ``username``."""
        with self._lock:
            self._failures.pop(username.lower(), None)


def authenticate(
    session: Session, username: str, password: str, throttle: LoginThrottle | None = None
) -> User:
    """The user with this name and password.

    Raises:
        Unauthenticated: Unknown user, wrong password or disabled account.
        RateLimited: Too many wrong passwords for this account recently.
    """
    if throttle is not None:
        throttle.check(username)
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        verify_password(_DUMMY_HASH, password)
        ok = False
    else:
        ok = verify_password(user.password_hash, password)
    if not ok or user is None:
        if throttle is not None:
            throttle.failed(username)
        raise Unauthenticated(
            "wrong user name or password; check both, or create an account with "
            "DLHubClient.login(username, password, register=True)"
        )
    if user.disabled:
        raise Unauthenticated(f"the account {username!r} is disabled; ask the hub's administrator")
    if throttle is not None:
        throttle.succeeded(username)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def issue_token(session: Session, user: User, ttl_days: float) -> tuple[str, Token]:
    """A new token for ``user``: its text (shown once) and its registry row."""
    text = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    token = Token(
        user_id=user.id,
        token_hash=hash_token(text),
        created_at=now,
        expires_at=now + dt.timedelta(days=ttl_days),
    )
    session.add(token)
    session.flush()
    return text, token


def _find_token(session: Session, text: str) -> Token | None:
    return session.scalar(select(Token).where(Token.token_hash == hash_token(text)))


def user_for_token(session: Session, text: str) -> tuple[User, Token]:
    """The user a bearer token belongs to.

    Raises:
        Unauthenticated: The token is unknown, expired or revoked, or its account is disabled;
            the message says which and what to do.
    """
    token = _find_token(session, text) if text.startswith(TOKEN_PREFIX) else None
    if token is None:
        raise Unauthenticated(
            "the token is not valid for this hub; log in again (`dlhub login` or "
            "DLHubClient.login(...)), or unset DLHUB_TOKEN if it is stale"
        )
    if token.revoked_at is not None:
        raise Unauthenticated("the token was revoked (logged out); log in again with `dlhub login`")
    if token.expires_at <= utcnow():
        raise Unauthenticated(
            f"the token expired on {token.expires_at:%Y-%m-%d %H:%M} UTC; "
            "log in again with `dlhub login`"
        )
    if token.user.disabled:
        raise Unauthenticated(
            f"the account {token.user.username!r} is disabled; ask the hub's administrator"
        )
    return token.user, token


def revoke_token(session: Session, token: Token) -> None:
    """Make ``token`` stop working now."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()
