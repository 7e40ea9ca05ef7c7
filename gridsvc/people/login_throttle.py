"""Login throttle: failed logins slow down per account and per client address, with growing delays.

Each key (`account:<name>`, `address:<ip>`) may fail `FREE[kind]` times within `WINDOW_S`; the failure that
reaches that number blocks the key for `FIRST_DELAY_S`, each further one for twice as long (at most
`MAX_DELAY_S`). While a key is blocked every login naming it is refused with 429 and `Retry-After`, before any
password is checked (a refused guess costs no argon2 work), the right password included. A right password
clears the account's count and gives back the address's one failure.

The counts live in PostgreSQL (table `login_throttle`), so every worker of `uvicorn --workers N` sees the same
state. An attempt is counted as a failure *before* its password is checked (a short transaction that locks the
two rows), so concurrent guesses cannot slip past the limit while the first ones are being verified.

Audited (table_name `login_throttle`, actor `anonymous`, the attempted user name and the address in `after`):
each block as it starts (`login_blocked`), and refused attempts during a block at the 1st, 2nd, 4th, 8th, …
refusal (`login_refused`, with the count): the log records every flood and its size, but a flood cannot fill the
append-only log.
"""

from __future__ import annotations

from sqlalchemy import Connection

from ..db.sql import sql
from ..errors import RateLimitedError
from . import audit

FREE = {"account": 5, "address": 20}  # failures allowed per window before the first delay (an office's NAT: 20)
FIRST_DELAY_S = 1.0
MAX_DELAY_S = 900.0
WINDOW_S = 3600  # a failure after an hour without failures starts the count again


def _keys(name: str, address: str) -> dict[str, str]:
    return {"account": f"account:{name}", "address": f"address:{address}"}


def _params(keys: dict[str, str]) -> dict:
    return {"keys": list(keys.values()), "frees": [FREE[k] for k in keys]}


def _audit(conn: Connection, action: str, row, name: str, address: str) -> None:
    facts = {k: v for k, v in row._mapping.items() if k in ("failures", "blocked_until", "refused")}
    audit.event(conn, actor="anonymous", source="api", action=action, table="login_throttle", record_id=row.key,
                after={"user": name, "address": address, **facts})


def claim(conn: Connection, name: str, address: str) -> None:
    """Count this login attempt as a failure, or refuse it (RateLimitedError, audited) while a key is blocked.

    Commits either way (the count must outlive the request)."""
    keys = _keys(name, address)
    conn.execute(sql("login_throttle_ensure"), {"keys": list(keys.values())})
    state = conn.execute(sql("login_throttle_state"), {"keys": list(keys.values())}).all()
    blocked = [r for r in state if r.blocked]
    if blocked:
        wait = max(r.wait_s for r in blocked)
        for row in conn.execute(sql("login_throttle_refuse"), {"keys": [r.key for r in blocked]}).all():
            if row.refused & (row.refused - 1) == 0:  # 1, 2, 4, 8, …
                _audit(conn, "login_refused", row, name, address)
        conn.commit()
        what = " and ".join(sorted({r.key.split(":", 1)[0] for r in blocked}))
        raise RateLimitedError(f"too many failed logins for this {what}; retry in {wait} s",
                               retry_after=wait, where="login")
    conn.execute(sql("login_throttle_count"), _params(keys) | {
        "first_s": FIRST_DELAY_S, "max_s": MAX_DELAY_S, "window_s": WINDOW_S})
    conn.commit()


def failed(conn: Connection, name: str, address: str) -> None:
    """The claimed attempt failed: audit the blocks it started (the count was made by claim)."""
    keys = _keys(name, address)
    state = conn.execute(sql("login_throttle_state"), {"keys": list(keys.values())}).all()
    for row in state:
        kind = row.key.split(":", 1)[0]
        if row.blocked and row.failures >= FREE[kind]:
            _audit(conn, "login_blocked", row, name, address)
    conn.commit()


def succeeded(conn: Connection, name: str, address: str) -> None:
    """The claimed attempt was right: clear the account, give the address its failure back."""
    keys = _keys(name, address)
    conn.execute(sql("login_throttle_success"), _params(keys) | {"account": keys["account"]})
    conn.commit()
