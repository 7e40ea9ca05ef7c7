"""If-Match, the HTTP side of versioned records: every update names the version it was based on, so no edit is
silently overwritten. The ETags and the precondition itself are gridsvc/versions.py."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Header

from ..errors import InputError
from ..versions import ANY_VERSION, etag

__all__ = ["IfMatch", "etag", "expected_version"]

IfMatch = Annotated[str | None, Header(max_length=200, description='ETag of the version you edited, e.g. "12-3" '
                                      '(required unless the body carries a version; * takes whatever is current)')]


def expected_version(if_match: str | None, record_id: int, what: str = "zone") -> int | str | None:
    """The version an If-Match header names ("*" for any, None without one; a weak tag as sent, which never matches)."""
    if if_match is None:
        return None
    if if_match.strip() == "*":
        return ANY_VERSION
    m = re.fullmatch(r'\s*(W/)?"(\d+)-(\d+)"\s*', if_match)
    if not m or int(m.group(2)) != record_id:
        raise InputError(f'If-Match must be the ETag of {what} {record_id}, like "{record_id}-3"; got {if_match!r}',
                         where="If-Match")
    if m.group(1):  # RFC 9110 13.1.1: If-Match uses the strong comparison, which a weak tag never passes (412)
        return if_match.strip()
    return int(m.group(3))
