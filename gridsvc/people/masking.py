"""Personal data and how it is masked for those who may not see it (the public, anonymous callers, viewers).

Contact names and phones are personal: staff with the role table's personal.read see them; everyone else gets
them masked (张**, 138****1234) in the API's answers (gridsvc/api/security.redact), left out of vector tiles
(gridsvc/db/tiles) and masked on the public unit page (gridsvc/zones/public_units). This module is the one
place that says which fields are personal and what a masked value looks like.
"""

from __future__ import annotations

import re
from typing import Any

# The fields (layer columns and answer keys) that hold personal data.
PERSONAL_COLUMNS = frozenset({"contact", "phone", "party_contact", "party_phone", "officer_phone",
                              "email"})  # email: an Open311 reporter's, kept in a case's routing


def mask_phone(phone: str | None) -> str | None:
    """A phone number for a public page: 13812341234 -> 138****1234 (digits only; +86 dropped)."""
    if phone is None:
        return None
    digits = re.sub(r"\D", "", str(phone))
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if not digits:
        return None
    if len(digits) < 8:
        return "*" * max(len(digits) - 2, 2) + digits[-2:]
    return f"{digits[:3]}****{digits[-4:]}"


def mask_name(value: Any) -> Any:
    """张** style."""
    return value[0] + "*" * min(len(value) - 1, 2) if isinstance(value, str) and value else value


def mask_field(key: str, value: Any) -> Any:
    """A personal field masked: phones as mask_phone, names and contacts as mask_name."""
    return mask_phone(value) if "phone" in key else mask_name(value)
