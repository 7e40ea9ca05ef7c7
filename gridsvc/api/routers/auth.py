"""Login: the OAuth2 password form gives a short-lived JWT; /auth/me says who a token belongs to."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request

from ...errors import AuthError
from ...people import login_throttle, users
from ...people.roles import role_table
from ...settings import get_settings
from ..dependencies import Conn
from ..security import CurrentUser, role_of

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", summary="Log in (OAuth2 password form) for a short-lived JWT",
             responses={429: {"description": "too many failed logins for this account or address: wait Retry-After"}})
def login(request: Request, conn: Conn, username: Annotated[str, Form(min_length=1, max_length=64)],
          password: Annotated[str, Form(min_length=1, max_length=256)],
          grant_type: Annotated[str | None, Form(pattern="^password$", max_length=8)] = None,
          scope: Annotated[str, Form(max_length=200)] = "") -> dict:
    """{access_token, token_type, expires_in} for a user name and password (the OAuth2 password form).

    Failed logins are throttled per account and per address (gridsvc/login_throttle.py): 429 + Retry-After."""
    address = request.client.host if request.client else "?"
    login_throttle.claim(conn, username, address)  # before the password: a refused guess costs no argon2
    try:
        principal = users.authenticate(conn, username, password)
    except AuthError:
        login_throttle.failed(conn, username, address)
        raise
    login_throttle.succeeded(conn, username, address)
    minutes = get_settings().jwt_minutes
    return {"access_token": users.issue_jwt(conn, principal, minutes), "token_type": "bearer", "expires_in": minutes * 60}


@router.get("/me", summary="Who the credentials belong to")
def me(principal: CurrentUser) -> dict:
    """Name, role, grids and party of the caller (anonymous: role public), and the actions of the role table
    (gridsvc/people/roles.toml) its role may perform."""
    table = role_table()
    may = sorted(a for a in table.actions if role_of(principal) in table.allowed(a))
    if principal is None:
        return {"name": None, "role": "public", "grids": [], "party_id": None, "may": may}
    return {"name": principal.name, "role": principal.role, "grids": list(principal.grids),
            "party_id": principal.party_id, "via": principal.via, "may": may}
