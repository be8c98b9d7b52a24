"""Signing staff in to the console: argon2id passwords, a signed session cookie that
expires, a CSRF token per session, and a limit on wrong passwords.

- Passwords: argon2id at OWASP's minimum (19 MiB, 2 passes, 1 lane): about 30 ms a check
  on 2 cores, hashed off the event loop.
- The session is a cookie signed with itsdangerous (``YINLING_CONSOLE_SECRET``, or one
  derived from the deployment's index key): the staff id, when it was signed and a CSRF
  token. It ends after ``YINLING_CONSOLE_SESSION_HOURS``, and at once when the password
  changes, the staff member signs out (everywhere) or the account is deactivated (checked
  on every request). HttpOnly,
  SameSite=Strict, Secure when the request came over HTTPS.
- Every POST carries the session's CSRF token (a hidden field, or the X-CSRF-Token header
  htmx sends), compared in constant time; a cross-site Origin is refused as well.
- Wrong passwords: at most ``LOGIN_TRIES`` per user name and ``LOGIN_TRIES_PER_ADDRESS``
  per address in ``LOGIN_WINDOW``, counted in the database (so every process shares them).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from bot.settings import Settings
from storage.models import Staff
from storage.uow import UnitOfWork

__all__ = [
    "COOKIE",
    "LOGIN_TRIES",
    "LOGIN_TRIES_PER_ADDRESS",
    "LOGIN_WINDOW",
    "Session",
    "SessionCodec",
    "check_password",
    "csrf_ok",
    "hash_password",
    "login_blocked",
    "password_problem",
]

COOKIE = "yinling_console"
LOGIN_TRIES = 5
LOGIN_TRIES_PER_ADDRESS = 20
LOGIN_WINDOW = timedelta(minutes=15)
MIN_PASSWORD = 10
MAX_PASSWORD = 200  # what the sign-in form takes

_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# Checked against when the user name is unknown, so a wrong name costs as long as a wrong
# password (no telling which names exist by timing).
_DECOY = _HASHER.hash(secrets.token_hex(16))


def password_problem(password: str) -> str | None:
    """Why a password will not do (None: it will)."""
    if len(password) < MIN_PASSWORD:
        return f"at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"at most {MAX_PASSWORD} characters"
    if len(set(password)) < 4:  # noqa: PLR2004 - "aaaaaaaaaa", "1212121212"
        return "too few different characters"
    return None


async def hash_password(password: str) -> str:
    """An argon2id hash (off the event loop)."""
    return await asyncio.to_thread(_HASHER.hash, password)


async def check_password(stored: str | None, password: str) -> bool:
    """Whether a password matches its hash; an account without one never matches."""

    def verify() -> bool:
        try:
            return _HASHER.verify(stored or _DECOY, password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)


@dataclass(frozen=True, slots=True)
class Session:
    """What the cookie holds."""

    staff_id: int | None  # None: not signed in (the sign-in form's CSRF token only)
    csrf: str
    signed_at: float  # epoch seconds


class SessionCodec:
    """Signs and reads the session cookie."""

    def __init__(self, settings: Settings) -> None:
        if settings.console_secret is not None:
            secret = settings.console_secret.get_secret_value().encode()
        else:
            # Derived from the deployment's index key, so every process of one deployment
            # agrees without another secret to set (the development key in a demo).
            index_key = settings.keyring().index_key
            secret = hmac.new(index_key, b"yinling console session", hashlib.sha256).digest()
        self._serializer = URLSafeTimedSerializer(secret, salt="yinling-console")
        self.max_age = int(settings.console_session_hours * 3600)

    def read(self, request: Request) -> Session | None:
        """The request's session, if its cookie is genuine and not expired."""
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data = self._serializer.loads(raw, max_age=self.max_age)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return None
        staff = data.get("s")
        signed = data.get("t")
        if (staff is not None and not isinstance(staff, int)) or not isinstance(
            signed, int | float
        ):
            return None
        return Session(staff, data["c"], float(signed))

    def write(self, request: Request, response: Response, session: Session) -> None:
        """Set the cookie."""
        value = self._serializer.dumps(
            {"s": session.staff_id, "c": session.csrf, "t": session.signed_at}
        )
        response.set_cookie(
            COOKIE,
            value,
            max_age=self.max_age,
            path="/console",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )

    @staticmethod
    def clear(response: Response) -> None:
        """Remove the cookie (sign out)."""
        response.delete_cookie(COOKIE, path="/console")

    @staticmethod
    def fresh(staff_id: int | None) -> Session:
        """A new session (a new CSRF token, signed now)."""
        return Session(staff_id, secrets.token_urlsafe(24), time.time())


def still_valid(session: Session, member: Staff | None) -> bool:
    """A signed-in session holds while its staff member is active and has neither changed
    password nor signed out since it was signed."""
    if member is None or not member.active or not member.password_hash:
        return False
    changed = member.sessions_valid_from
    return changed is None or session.signed_at >= changed.timestamp()


def csrf_ok(request: Request, session: Session | None, form_token: str | None) -> bool:
    """Whether a POST carries its session's CSRF token and comes from our own pages."""
    if session is None:
        return False
    origin = request.headers.get("origin")
    if origin and origin not in {"null", f"{request.url.scheme}://{request.url.netloc}"}:
        return False
    given = request.headers.get("x-csrf-token") or form_token or ""
    return hmac.compare_digest(given.encode(), session.csrf.encode())


def _name_key(username: str) -> str:
    # What was typed in the name box is kept only as a digest: people type their password
    # there by mistake.
    return "user:" + hashlib.sha256(username.encode()).hexdigest()[:32]


async def login_blocked(uow: UnitOfWork, username: str, address: str, now: datetime) -> bool:
    """Whether too many wrong passwords were given lately for this name or from here."""
    since = now - LOGIN_WINDOW
    by_name, _ = await uow.verification.misses(since, "console", _name_key(username), ("login",))
    by_address, _ = await uow.verification.misses(since, "console", f"ip:{address}", ("login",))
    return by_name >= LOGIN_TRIES or by_address >= LOGIN_TRIES_PER_ADDRESS


def count_miss(uow: UnitOfWork, username: str, address: str, now: datetime) -> None:
    """Count one wrong password against the name and the address."""
    uow.verification.miss("console", _name_key(username), "login", now)
    uow.verification.miss("console", f"ip:{address}"[:128], "login", now)
