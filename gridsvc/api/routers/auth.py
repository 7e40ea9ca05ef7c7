"""Login: the OAuth2 password form gives a short-lived JWT; /auth/me says who a token belongs to."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from ... import users
from ...errors import AuthError
from ...settings import get_settings
from ..dependencies import Conn
from ..security import CurrentUser

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", summary="Log in (OAuth2 password form) for a short-lived JWT")
def login(conn: Conn, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict:
    """{access_token, token_type, expires_in} for a user name and password."""
    if len(form.username) > 64 or len(form.password) > 1024:
        raise AuthError("wrong user name or password")
    principal = users.authenticate(conn, form.username, form.password)
    minutes = get_settings().jwt_minutes
    return {"access_token": users.issue_jwt(principal, minutes), "token_type": "bearer", "expires_in": minutes * 60}


@router.get("/me", summary="Who the credentials belong to")
def me(principal: CurrentUser) -> dict:
    """Name, role, grids and party of the caller (anonymous: role public)."""
    if principal is None:
        return {"name": None, "role": "public", "grids": [], "party_id": None}
    return {"name": principal.name, "role": principal.role, "grids": list(principal.grids),
            "party_id": principal.party_id, "via": principal.via}
