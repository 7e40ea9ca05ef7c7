"""Versioned records (zones, parties, units): their ETags and the precondition every update must meet.

Each record version has the ETag "<id>-<version>". A write names the version it was based on (If-Match, or a
`version` field in the body); writing without one is refused (428), and so is writing on an older version (412),
so no edit is silently overwritten. "*" knowingly takes whatever is current. The HTTP side (reading If-Match
headers) is gridsvc/api/versions.py.
"""

from __future__ import annotations

from .errors import PreconditionRequiredError, StaleVersionError

ANY_VERSION = "*"  # If-Match: * : the caller knowingly edits whatever version is current
Expected = int | str | None  # the version edited; "*"; a weak If-Match ('W/"…"', never matches); None is refused


def etag(record_id: int, version: int) -> str:
    """The ETag of a zone, party or unit version: "<id>-<version>"."""
    return f'"{record_id}-{version}"'


def require_version(record_id: int, version: int, expected: Expected, *, what: str = "zone",
                    field: str = "properties.version", **ids) -> None:
    """Refuse a write without a precondition (428) or based on an older version (412); "*" accepts any version."""
    found = {**ids, "current_version": version, "etag": etag(record_id, version)}
    if expected is None:
        raise PreconditionRequiredError(
            f"{what} {record_id} is at version {version}: send If-Match: {etag(record_id, version)} (or {field}) "
            "so that an edit made meanwhile by someone else is not overwritten", **found)
    if isinstance(expected, str) and expected.startswith("W/"):
        raise StaleVersionError(f"If-Match {expected} is a weak ETag, which never matches: If-Match compares "
                                f"strongly (RFC 9110 13.1.1); {what} {record_id} is at version {version}, send "
                                f"If-Match: {etag(record_id, version)}", **found)
    if expected != ANY_VERSION and (isinstance(expected, bool) or not isinstance(expected, int)
                                    or expected != version):
        raise StaleVersionError(f"{what} {record_id} is at version {version}, not {expected}: "
                                "reload it and apply your change again", **found)
