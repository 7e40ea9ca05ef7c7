"""Users, roles and credentials: argon2 passwords, short-lived JWTs, revocable API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection

from ..db.instance import identity
from ..db.queries.users import principal_row
from ..db.sql import sql
from ..errors import AuthError, ConflictError, InputError, NotFoundError
from ..settings import get_settings
from .roles import role_table

ROLES = role_table().roles  # gridsvc/people/roles.toml
TOKEN_PREFIX = "gst_"
JWT_ALGORITHM = "HS256"
MIN_PASSWORD = 10
_hasher = PasswordHasher()


@dataclass(frozen=True)
class Principal:
    """Who is asking: a user's name, role, grid codes (grid officers) and party (responsible parties), and the
    user's id in this database (None for principals that are no stored user)."""

    name: str
    role: str
    grids: tuple[str, ...] = field(default_factory=tuple)
    party_id: int | None = None
    via: str = "jwt"  # jwt | token | cli
    user_id: int | None = None


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}; roles: {', '.join(ROLES)}", where="role")


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise InputError(f"a password needs at least {MIN_PASSWORD} characters", where="password")


def create_user(conn: Connection, name: str, role: str, password: str | None, grids: list[str] | tuple = (),
                party_id: int | None = None) -> int:
    """A new user; grid officers need grid (or community) codes, passwords are stored as argon2 hashes."""
    _check_role(role)
    name = (name or "").strip()
    if not 1 <= len(name) <= 64:
        raise InputError("a user name needs 1 to 64 characters", where="name")
    if password is not None:
        _check_password(password)
    if role == "grid_officer" and not grids:
        raise InputError("a grid officer needs at least one --grid CODE", where="grids")
    if party_id is not None and conn.execute(sql("party_exists"), {"p": party_id}).first() is None:
        raise NotFoundError(f"no party {party_id}", where="party")
    if role == "party" and party_id is None:
        raise InputError("a responsible-party user needs --party ID", where="party")
    if conn.execute(sql("user_exists"), {"n": name}).first():
        raise ConflictError(f"user {name!r} exists already")
    uid = conn.execute(sql("user_insert"),
        {"n": name, "r": role, "h": _hasher.hash(password) if password else None, "p": party_id}).scalar_one()
    for code in dict.fromkeys(grids):
        conn.execute(sql("user_grid_insert"), {"u": uid, "g": code})
    return uid


def list_users(conn: Connection) -> list[dict]:
    """Every user with role, grids, tokens in use and state."""
    return [dict(r) for r in conn.execute(sql("users_list")).mappings()]


def disable_user(conn: Connection, name: str) -> None:
    """Disable a user: logins, JWTs and API tokens stop working at once."""
    if conn.execute(sql("user_disable"), {"n": name}).rowcount == 0:
        raise NotFoundError(f"no active user {name!r}")


def issue_api_token(conn: Connection, name: str, label: str | None = None) -> str:
    """A new long-lived API token for a user (shown once; only its SHA-256 is stored)."""
    uid = conn.execute(sql("user_active_id"), {"n": name}).scalar()
    if uid is None:
        raise NotFoundError(f"no active user {name!r}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    conn.execute(sql("api_token_insert"), {"u": uid, "h": _digest(token), "l": label})
    return token


def revoke_tokens(conn: Connection, name: str) -> int:
    """Revoke every API token of a user; returns how many."""
    return conn.execute(sql("api_tokens_revoke"), {"n": name}).rowcount


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _principal(conn: Connection, by: str, params: dict, via: str) -> Principal | None:
    row = principal_row(conn, by, params)
    return None if row is None else Principal(row["name"], row["role"], tuple(row["grids"]), row["party_id"], via,
                                              row["id"])


def authenticate(conn: Connection, name: str, password: str) -> Principal:
    """The user for a name and password; AuthError (one message for every failure) otherwise."""
    row = conn.execute(sql("user_password_hash"), {"n": name}).first()
    try:
        if row is None or row[0] is None:
            _hasher.hash("timing")  # same work whether or not the user exists
            raise VerificationError
        _hasher.verify(row[0], password)
    except (VerificationError, InvalidHashError):
        raise AuthError("wrong user name or password") from None
    return _principal(conn, "name", {"n": name}, "jwt")


def signing_key(conn: Connection) -> str:
    """GRIDSVC_JWT_SECRET if set, else the key this database made at initialisation (table instance)."""
    return get_settings().jwt_secret or identity(conn).jwt_key


def issue_jwt(conn: Connection, principal: Principal, minutes: int | None = None) -> str:
    """A signed JWT for the principal, valid for settings.jwt_minutes in this database only: its subject is the
    user's id and its audience the database's id (so neither a namesake in another database nor another database
    signed with the same GRIDSVC_JWT_SECRET accepts it)."""
    if principal.user_id is None:
        raise AuthError("only stored users get login tokens")
    now = datetime.now(UTC)
    ttl = timedelta(minutes=minutes or get_settings().jwt_minutes)
    return jwt.encode({"sub": str(principal.user_id), "name": principal.name, "aud": identity(conn).id,
                       "iat": now, "exp": now + ttl}, signing_key(conn), algorithm=JWT_ALGORITHM)


def principal_for_bearer(conn: Connection, token: str) -> Principal:
    """The user behind a Bearer token (API token or JWT), still active; AuthError otherwise.

    API tokens are found by their SHA-256 in this database's own api_tokens; JWTs must be signed with this
    database's key (or GRIDSVC_JWT_SECRET), name this database as audience and a user id that is still active."""
    if token.startswith(TOKEN_PREFIX):
        p = _principal(conn, "token", {"h": _digest(token)}, "token")
        if p is None:
            raise AuthError("the API token is unknown or revoked")
        return p
    try:
        claims = jwt.decode(token, signing_key(conn), algorithms=[JWT_ALGORITHM], audience=identity(conn).id,
                            options={"require": ["exp", "sub", "aud"]})
    except jwt.ExpiredSignatureError:
        raise AuthError("the token has expired: log in again (POST /auth/token)") from None
    except jwt.InvalidAudienceError:
        raise AuthError("the token was issued by another gridsvc database: log in here (POST /auth/token)") from None
    except jwt.PyJWTError:
        raise AuthError("the token is not valid") from None
    if not (isinstance(claims["sub"], str) and claims["sub"].isdigit() and len(claims["sub"]) <= 10):
        raise AuthError("the token is not valid")
    p = _principal(conn, "id", {"id": int(claims["sub"])}, "jwt")
    if p is None:
        raise AuthError("the user of this token is disabled or gone")
    return p
