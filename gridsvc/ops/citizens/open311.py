"""Open311 GeoReport v2 on G's cases: services are the categories, service requests are cases.

- **Services** are the minor classes of categories.toml: service_code = the category code, service_name its
  Chinese name, group its major class, type realtime (a POST answers the case code at once). Their attributes are
  data, geodata/ops/open311_attributes.toml (validated and cross-checked against the categories here).
- **POST requests** opens a case (gridsvc/ops/cases.open_case, source citizen) at lat/long, at a place named by
  address_string (the project's own names, gridsvc/ops/addresses.py: the placer the 12345 import uses, refused
  below [accept] open311 of addresses.toml or when a name in it is ambiguous) or at a unit's public code (address_id).
  The reporter's name and phone go to the case's reporter columns, the e-mail, attribute answers, media_url and
  the rest to cases.routing -> 'open311'. None of them comes out in any Open311 answer.
- **GET requests** reads cases (any source) as service requests: status open/closed (closed = 结案 or 作废),
  agency_responsible the routed party else the department, expected_datetime the 处置 deadline.

Errors are gridsvc's own (gridsvc/errors.py); under /open311 they are answered in the spec's form with the
statuses of SPEC_STATUS (gridsvc/api/routers/open311.py).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field
from sqlalchemy import Connection

from ...db.sql import sql
from ...errors import ForbiddenError, InputError, NotFoundError
from ...settings import get_settings
from ...timekeeping import instant, zone
from ..addresses import Placed, load_addresses, place_address, place_unit_code
from ..cases.core import check_report_scope, open_case
from ..rules.categories import Categories, Category, load_categories, load_departments
from ..rules.files import Strict, fail, ops_dir, read_toml, stamp, validate
from ..rules.flow import load_flow

SPEC = "http://wiki.open311.org/GeoReport_v2"
DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
LISTS = ("singlevaluelist", "multivaluelist")
CLOSED_STATES = ("closed", "void")  # 结案, 作废: resolved, one way or the other; 挂账 (deferred) stays open
WINDOW = timedelta(days=90)  # the spec's default range and largest span of start_date/end_date
MAX_REQUESTS = 1000  # the spec's "first 1000 requests"
MAX_IDS = 200
SOURCE = "citizen"
# gridsvc's statuses as the spec wants them: 403 for a missing or wrong api_key, 404 for what does not exist, 400
# for any other request that cannot be fulfilled. Statuses not listed (403, 404, 405, 413, 415, 429, 503, 5xx) stay.
SPEC_STATUS = {401: 403, 409: 400, 410: 404, 412: 400, 422: 400, 428: 400}
MAX_FIELD = {"api_key": 200, "jurisdiction_id": 200, "service_code": 20, "lat": 40, "long": 40,
             "address_string": 500, "address_id": 40, "email": 200, "device_id": 200, "account_id": 100,
             "first_name": 50, "last_name": 50, "phone": 40, "description": 4000, "media_url": 2000}
MAX_ATTRIBUTES = 50
MAX_LIST_VALUES = 50
PHONE_IN_TEXT = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)(\d{4})(\d{4})(?!\d)|(?<!\d)(0\d{2,3}-?)\d{3,4}(\d{4})(?!\d)")
W3C = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?")


# ---- the attributes, as data ----

class _Value(Strict):
    key: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=200)


class _Attribute(Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    datatype: Literal[DATATYPES]  # type: ignore[valid-type]
    variable: bool
    required: bool
    order: int = Field(ge=1, le=1000)
    description: str = Field(min_length=1, max_length=500)
    datatype_description: str | None = Field(default=None, max_length=500)
    values: list[_Value] = Field(default_factory=list)
    values_from: Literal["problems"] | None = None
    max_length: int | None = Field(default=None, ge=1, le=4000)
    services: list[str] = Field(min_length=1)


class _AttributesFile(Strict):
    attribute: list[_Attribute] = Field(default_factory=list)


@dataclass(frozen=True)
class Attribute:
    """One attribute of a service definition, resolved for one service (values_from filled in)."""

    code: str
    datatype: str
    variable: bool
    required: bool
    order: int
    description: str
    datatype_description: str | None
    values: tuple[tuple[str, str], ...]
    max_length: int

    def as_dict(self) -> dict:
        """The spec's attribute (its field order)."""
        out = {"variable": self.variable, "code": self.code, "datatype": self.datatype, "required": self.required,
               "datatype_description": self.datatype_description, "order": self.order,
               "description": self.description}
        if self.datatype in LISTS:
            out["values"] = [{"key": k, "name": n} for k, n in self.values]
        return out


def _applies(entry: _Attribute, cat: Category) -> bool:
    return any(s in ("*", cat.code, cat.major) for s in entry.services)


def parse_attributes(path: Path, cats: Categories) -> dict[str, tuple[Attribute, ...]]:
    """open311_attributes.toml: each service's attributes in order. Cross-checks: codes unique, list datatypes with
    values (keys unique), others without, services known, informational attributes not required, orders unique
    within each service."""
    data = validate(_AttributesFile, read_toml(path), path)
    seen: set[str] = set()
    for i, a in enumerate(data.attribute):
        where = f"attribute[{i}] (code {a.code!r})"
        if a.code in seen:
            raise fail(path, where, f"duplicate attribute code {a.code!r}")
        seen.add(a.code)
        if a.datatype in LISTS and not (a.values or a.values_from):
            raise fail(path, where, f"a {a.datatype} needs values (or values_from)")
        if a.datatype not in LISTS and (a.values or a.values_from):
            raise fail(path, where, f"a {a.datatype} takes no values")
        if a.values and a.values_from:
            raise fail(path, where, "give values or values_from, not both")
        keys = [v.key for v in a.values]
        if len(set(keys)) != len(keys):
            raise fail(path, where, f"duplicate value keys in {keys}")
        if a.required and not a.variable:
            raise fail(path, where, "an informational attribute (variable = false) cannot be required")
        for s in a.services:
            if s != "*" and s not in cats.by_code:
                raise fail(path, where, f"unknown service {s!r}: not a category code of categories.toml")
        if a.max_length is not None and a.datatype not in ("string", "text"):
            raise fail(path, where, "max_length is for string and text attributes")
    out: dict[str, tuple[Attribute, ...]] = {}
    for cat in cats.minors:
        attrs = []
        for a in data.attribute:
            if not _applies(a, cat):
                continue
            values = tuple((v.key, v.name) for v in a.values)
            if a.values_from == "problems":
                if not cat.problems:
                    continue
                values = tuple((p.code, p.zh) for p in cat.problems)
            attrs.append(Attribute(a.code, a.datatype, a.variable, a.required, a.order, a.description,
                                   a.datatype_description, values,
                                   a.max_length or (4000 if a.datatype == "text" else 200)))
        orders = [a.order for a in attrs]
        if len(set(orders)) != len(orders):
            raise fail(path, f"service {cat.code}", f"attribute orders repeat: {sorted(orders)}")
        out[cat.code] = tuple(sorted(attrs, key=lambda a: a.order))
    return out


def load_attributes() -> dict[str, tuple[Attribute, ...]]:
    """open311_attributes.toml of <geodata_dir>/ops, by service code (cached while the files are unchanged)."""
    return _attributes(ops_dir(), stamp(ops_dir()))


@lru_cache(maxsize=8)
def _attributes(folder: Path, _stamp: tuple) -> dict[str, tuple[Attribute, ...]]:
    return parse_attributes(folder / "open311_attributes.toml", load_categories())


# ---- jurisdiction, discovery, services ----

def check_jurisdiction(value: str | None) -> None:
    """jurisdiction_id is optional (one jurisdiction per endpoint); when GRIDSVC_OPEN311_JURISDICTION_ID is set,
    another value is the spec's 404."""
    want = get_settings().open311_jurisdiction_id
    if value and want and value != want:
        raise NotFoundError(f"jurisdiction_id {value[:100]!r} not found: this endpoint serves {want!r}",
                            where="jurisdiction_id")


def discovery(base_url: str) -> dict:
    """The Service Discovery document: this one endpoint, XML and JSON; changeset = when the services last
    changed (the newest of categories.toml and open311_attributes.toml)."""
    s = get_settings()
    files = [ops_dir() / n for n in ("categories.toml", "open311_attributes.toml", "departments.toml")]
    changed = max((f.stat().st_mtime for f in files if f.exists()), default=0.0)
    changeset = datetime.fromtimestamp(changed, zone()).replace(microsecond=0).isoformat()
    return {
        "changeset": changeset,
        "contact": f"{s.notice_office}：网格化城市管理服务（gridsvc）",
        "key_service": "API 密钥（api_key）由管理员为接入单位发放：gridsvc user token <账号>",
        "endpoints": [{"specification": SPEC, "url": f"{base_url.rstrip('/')}/open311/v2", "changeset": changeset,
                       "type": "production", "formats": ["text/xml", "application/json"]}],
    }


def _service(cat: Category, attrs: Sequence[Attribute]) -> dict:
    dep = load_departments().get(cat.department)
    return {"service_code": cat.code, "service_name": cat.zh,
            "description": f"{cat.kind_zh} · {cat.major_zh} · {cat.zh}（{cat.en}）" + (f"，{dep.zh}处理" if dep else ""),
            "metadata": bool(attrs), "type": "realtime",
            "keywords": ", ".join(dict.fromkeys([cat.zh, cat.en, cat.major_zh, cat.kind_zh])),
            "group": cat.major_zh}


def services() -> list[dict]:
    """GET services: every minor class of the classification."""
    attrs = load_attributes()
    return [_service(c, attrs.get(c.code, ())) for c in load_categories().minors]


def _category(code: str | None) -> Category:
    cat = load_categories().by_code.get(code or "")
    if cat is None or cat.is_major:
        raise NotFoundError(f"service_code {str(code)[:40]!r} not found (GET services lists them)",
                            where="service_code")
    return cat


def service_definition(code: str) -> dict:
    """GET services/{service_code}: its attributes."""
    cat = _category(code)
    return {"service_code": cat.code, "attributes": [a.as_dict() for a in load_attributes().get(cat.code, ())]}


# ---- reading a POST ----

def _one(fields: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = [v for v in fields.get(name, ()) if v is not None]
    if len(values) > 1:
        raise InputError(f"{name} was sent {len(values)} times", where=name)
    value = values[0].strip() if values else ""
    if len(value) > MAX_FIELD.get(name, 200):
        raise InputError(f"at most {MAX_FIELD.get(name, 200)} characters", where=name)
    return value or None  # the spec: an empty parameter is the same as none


def _number(value: str, where: str) -> float:
    try:
        x = float(value)
    except ValueError:
        raise InputError(f"not a number: {value[:40]!r}", where=where) from None
    if not math.isfinite(x):
        raise InputError("must be a finite number", where=where)
    return x


def attribute_answers(fields: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """attribute[code]=v and attribute[code][]=v (a multivaluelist) of a form, by code."""
    out: dict[str, list[str]] = {}
    for name, values in fields.items():
        if not name.startswith("attribute["):
            continue
        m = re.fullmatch(r"attribute\[([^\[\]]{1,60})\](\[\])?", name)
        if m is None:
            raise InputError("write attribute[code]=value, or attribute[code][]=value for each value of a list",
                             where=name[:80])
        out.setdefault(m.group(1), []).extend(values)
    if len(out) > MAX_ATTRIBUTES:
        raise InputError(f"at most {MAX_ATTRIBUTES} attributes", where="attribute")
    return out


def check_attributes(service_code: str, answers: Mapping[str, Sequence[str]]) -> dict:
    """The answers validated against the service's definition, each as its datatype: a number as a number, a
    datetime as ISO 8601 in GRIDSVC_TZ, a multivaluelist as a list of keys. One InputError naming every problem."""
    defs = {a.code: a for a in load_attributes().get(service_code, ())}
    problems, out = [], {}
    for code in answers:
        if code not in defs:
            problems.append(f"attribute[{code}]: service {service_code} has no such attribute"
                            + (f" (it has {', '.join(defs)})" if defs else " (it has none)"))
    for code, a in defs.items():
        values = [v.strip() for v in answers.get(code, ()) if v is not None and v.strip()]
        where = f"attribute[{code}]"
        if not a.variable:
            if values:
                problems.append(f"{where}: information only, it takes no answer")
            continue
        if not values:
            if a.required:
                problems.append(f"{where}: required ({a.description})")
            continue
        if a.datatype != "multivaluelist" and len(values) > 1:
            problems.append(f"{where}: one value, got {len(values)}")
            continue
        v = values[0]
        if a.datatype in ("string", "text"):
            if len(v) > a.max_length:
                problems.append(f"{where}: at most {a.max_length} characters")
            elif a.datatype == "string" and ("\n" in v or "\r" in v):
                problems.append(f"{where}: a string is one line (use a text attribute for several)")
            else:
                out[code] = v
        elif a.datatype == "number":
            try:
                x = _number(v, where)
                out[code] = int(x) if x.is_integer() and abs(x) < 2**53 else x
            except InputError as e:
                problems.append(str(e))
        elif a.datatype == "datetime":
            try:
                out[code] = instant(v, edge="start", where=where).isoformat()
            except InputError as e:
                problems.append(str(e))
        else:
            keys = dict(a.values)
            if len(values) > MAX_LIST_VALUES:
                problems.append(f"{where}: at most {MAX_LIST_VALUES} values")
                continue
            wrong = [x for x in values if x not in keys]
            if wrong:
                problems.append(f"{where}: {', '.join(repr(x[:40]) for x in wrong[:5])} not among the keys "
                                f"{', '.join(keys)}")
            elif a.datatype == "singlevaluelist":
                out[code] = v
            else:
                out[code] = list(dict.fromkeys(values))
    if problems:
        raise InputError("; ".join(problems), where="attribute")
    return out


def _media_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        raise InputError("an http(s) URL", where="media_url")
    return value


def _email(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(r"[^@\s]{1,100}@[^@\s]{1,100}\.[^@\s]{1,50}", value):
        raise InputError("not an e-mail address", where="email")
    return value


def _reporter(first: str | None, last: str | None) -> str | None:
    names = [n for n in (last, first) if n]
    if not names:
        return None
    if any("\u4e00" <= ch <= "\u9fff" for n in names for ch in n):
        return "".join(names)  # 李 + 举报: family name first, no space
    return " ".join(n for n in (first, last) if n)


def post_request(conn: Connection, fields: Mapping[str, Sequence[str]], principal, *,
                 now: datetime | None = None) -> list[dict]:
    """POST requests: a case from a form; the spec's answer (a list of one). The caller has checked the api_key
    and the role; this checks the rest, the grid officer's scope first, then the content."""
    now = now or datetime.now(zone())
    check_jurisdiction(_one(fields, "jurisdiction_id"))
    code = _one(fields, "service_code")
    if code is None:
        raise InputError("service_code was not provided (GET services lists them)", where="service_code")
    lat, lng = _one(fields, "lat"), _one(fields, "long")
    address, address_id = _one(fields, "address_string"), _one(fields, "address_id")
    if (lat is None) != (lng is None):
        raise InputError("send lat and long together", where="lat" if lat is None else "long")
    if lat is not None:
        check_report_scope(conn, lng, lat, "wgs84", principal)  # a grid officer: inside their grids (403)
    cat = _category(code)
    answers = check_attributes(cat.code, attribute_answers(fields))
    description = _one(fields, "description")
    media_url = _media_url(_one(fields, "media_url"))
    email = _email(_one(fields, "email"))
    phone = _one(fields, "phone")
    if phone is not None and not re.fullmatch(r"[0-9+\-() ]{3,40}", phone):
        raise InputError("digits, spaces and + - ( ) only", where="phone")
    place = None
    if lat is not None:
        x, y = _number(lng, "long"), _number(lat, "lat")
        if not (-180 <= x <= 180 and -90 <= y <= 90):
            raise InputError(f"lat {y} / long {x} out of range (WGS84 degrees)", where="lat")
    elif address_id is not None:
        place = place_unit_code(conn, address_id)
    elif address is not None:
        place = _placed(conn, address)
    else:
        raise InputError("a location is required: lat and long, address_string or address_id", where="location")
    if place is not None:
        x, y = place.lng, place.lat
        check_report_scope(conn, x, y, "wgs84", principal)
    open311 = {"attributes": answers, "media_url": media_url, "address": address or (place.name if place else None),
               "address_id": address_id, "placed_at": place.name if place else None,
               "placement": place.as_dict() if place else None, "email": email,
               "account_id": _one(fields, "account_id"), "client": principal.name}
    case_id = open_case(conn, lng=x, lat=y, category=cat.code,
                        description=description or f"{cat.zh}（Open311 上报）", source=SOURCE,
                        problem=answers.get("problem"), reporter_name=_reporter(_one(fields, "first_name"),
                                                                               _one(fields, "last_name")),
                        reporter_phone=phone, actor=principal.name, role=principal.role, now=now,
                        routing_extra={"open311": {k: v for k, v in open311.items() if v not in (None, {})}})
    row = _rows(conn, codes=None, case_id=case_id)[0]
    return [{"service_request_id": row["code"], "service_notice": _notice(row),
             "account_id": open311["account_id"]}]


def _placed(conn: Connection, address: str) -> Placed:
    """address_string placed on the city's own names, or a 400 naming why not: nothing matched, an ambiguous name,
    or only a method less sure than addresses.toml [accept] open311."""
    text = " ".join(address.split())
    if len(text) < 2:
        raise InputError("the address is empty", where="address_string")
    placed = place_address(conn, text)
    if isinstance(placed, str):
        raise InputError(f"cannot place the address {text!r}: {placed} (there is no external geocoder); send lat "
                         "and long", where="address_string")
    if placed.ambiguous:
        raise InputError(f"cannot place the address {text!r}: {placed.ambiguous}; only {placed.method} "
                         f"({placed.matched}) matched otherwise: add the street and number or send lat and long",
                         where="address_string")
    least = load_addresses().accept.open311
    if placed.confidence < least:
        raise InputError(f"cannot place the address {text!r} surely enough: only {placed.method} "
                         f"({placed.matched}) matched, confidence {placed.confidence:g} < {least:g} "
                         "(addresses.toml [accept] open311); add the house number or send lat and long",
                         where="address_string")
    return placed


def check_poster(principal) -> None:
    """Permission first: a POST needs an api_key (403 without, the spec's status) of a role that may report."""
    from ...people.roles import role_table

    if principal.role not in role_table().allowed("open311.report"):
        raise ForbiddenError(f"the api_key's account ({principal.role}) may not create service requests",
                             where="api_key")


# ---- reading cases as service requests ----

def w3c_time(value: str | None, where: str) -> datetime | None:
    """A W3C datetime (the spec's format, e.g. 2010-01-01T00:00:00Z: a time needs its zone) or a date (a day in
    GRIDSVC_TZ, from its start)."""
    if value is None:
        return None
    text = value.strip()
    if not W3C.fullmatch(text):
        raise InputError(f"{text[:40]!r} is not a W3C datetime such as 2010-01-01T00:00:00Z (a time needs its time "
                         "zone)", where=where)
    return instant(text.replace("Z", "+00:00"), edge="start", where=where)


def window(start: datetime | None, end: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    """The spec's range: the last 90 days by default, 90 days from start_date or up to end_date when only one is
    given; a range longer than 90 days, or ending before it starts, is a 400."""
    if start is None and end is None:
        return now - WINDOW, now
    if start is None:
        return end - WINDOW, end
    if end is None:
        return start, start + WINDOW
    if end < start:
        raise InputError("end_date is before start_date", where="end_date")
    if end - start > WINDOW:
        raise InputError(f"start_date to end_date spans {(end - start).days} days; at most 90", where="end_date")
    return start, end


def _list(value: str | None, where: str, most: int) -> list[str] | None:
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    if len(items) > most:
        raise InputError(f"at most {most} values", where=where)
    return items or None


def list_requests(conn: Connection, *, service_request_id: str | None = None, service_code: str | None = None,
                  start_date: str | None = None, end_date: str | None = None, status: str | None = None,
                  now: datetime | None = None) -> list[dict]:
    """GET requests: ids (which override every other filter), else service codes, the date window and status."""
    now = now or datetime.now(zone())
    codes = _list(service_request_id, "service_request_id", MAX_IDS)
    cats = _list(service_code, "service_code", 200)
    for c in cats or ():
        _category(c)
    statuses = _list(status, "status", 2) or ["open", "closed"]
    wrong = [s for s in statuses if s not in ("open", "closed")]
    if wrong:
        raise InputError(f"status is open or closed (comma separated), got {', '.join(wrong)[:80]}", where="status")
    since, until = window(w3c_time(start_date, "start_date"), w3c_time(end_date, "end_date"), now)
    return [_request(r) for r in _rows(conn, codes=codes, categories=cats, since=since, until=until,
                                       want_open="open" in statuses, want_closed="closed" in statuses)]


def get_request(conn: Connection, code: str) -> list[dict]:
    """GET requests/{id}: one service request (a list of one), 404 when no case has that code."""
    rows = _rows(conn, codes=[code]) if len(code) <= 40 else []
    if not rows:
        raise NotFoundError(f"service_request_id {code[:40]!r} not found", where="service_request_id")
    return [_request(rows[0])]


def token(conn: Connection, value: str) -> list[dict]:
    """GET tokens/{token}. Every service here is realtime, so POST answers the service_request_id itself and no
    token is ever issued; a token is taken to be the id it would stand for: a known case code answers
    itself, anything else is the spec's 404."""
    rows = _rows(conn, codes=[value]) if len(value) <= 40 else []
    if not rows:
        raise NotFoundError(f"token {value[:40]!r} not found (services here are realtime: POST requests answers "
                            "the service_request_id at once)", where="token")
    return [{"service_request_id": rows[0]["code"], "token": value}]


def _rows(conn: Connection, *, codes: list[str] | None, case_id: int | None = None,
          categories: list[str] | None = None, since: datetime | None = None, until: datetime | None = None,
          want_open: bool = True, want_closed: bool = True) -> list[dict]:
    if case_id is not None:
        codes = [conn.execute(sql("case_code_of"), {"i": case_id}).scalar_one()]
    far = datetime(1970, 1, 1, tzinfo=zone())
    return [dict(r) for r in conn.execute(sql("open311_requests"), {
        "codes": codes, "categories": categories, "since": since or far, "until": until or far,
        "want_open": want_open, "want_closed": want_closed, "closed": list(CLOSED_STATES),
        "limit": MAX_REQUESTS}).mappings()]


def w3c(value: datetime | str | None) -> str | None:
    """An instant in the spec's format: seconds, with GRIDSVC_TZ's offset (2026-12-02T08:30:00+08:00)."""
    if value is None:
        return None
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when.astimezone(zone()).replace(microsecond=0).isoformat()


def scrub(text: str | None) -> str | None:
    """Free text for a public answer: phone numbers in it masked (138****1234, 025-****0000)."""
    if not text:
        return text
    return PHONE_IN_TEXT.sub(lambda m: f"{m.group(1)}****{m.group(3)}" if m.group(1) else
                             f"{m.group(4)}****{m.group(5)}", text)


def _notice(row: Mapping) -> str | None:
    if row["state"] in CLOSED_STATES:
        return None
    due = (row["deadlines"] or {}).get("handle")
    if due is None:
        return None
    return f"已受理，按时限应于 {datetime.fromisoformat(due).astimezone(zone()):%Y-%m-%d %H:%M}（北京时间）前处置完毕"


def _status_notes(row: Mapping) -> str:
    state = load_flow().states[row["state"]]
    if row["state"] == "void" and row["duplicate_code"]:
        return f"{state.zh}：与案卷 {row['duplicate_code']} 重复"
    return f"{state.zh}（{state.en}）"


def _address(row: Mapping) -> str | None:
    given = (row["open311"] or {}).get("address")
    if given:
        return scrub(given)
    parts = [row["unit_address"] or row["unit_name"], row["street"]]
    return ", ".join(dict.fromkeys(p for p in parts if p)) or None


def _request(row: Mapping) -> dict:
    cat = load_categories().by_code.get(row["category"])
    dep = load_departments().get(row["department"])
    closed = row["state"] in CLOSED_STATES
    o311 = row["open311"] or {}
    return {
        "service_request_id": row["code"],
        "status": "closed" if closed else "open",
        "status_notes": _status_notes(row),
        "service_name": cat.zh if cat else row["category"],
        "service_code": row["category"],
        "description": scrub(row["description"])[:4000],
        "agency_responsible": row["party_name"] or (dep.zh if dep else row["department"]),
        "service_notice": _notice(row),
        "requested_datetime": w3c(row["reported_at"]),
        "updated_datetime": w3c(row["closed_at"] if closed and row["closed_at"] else row["updated_at"]),
        "expected_datetime": w3c((row["deadlines"] or {}).get("handle")),
        "address": _address(row),
        "address_id": o311.get("address_id"),
        "zipcode": None,
        "lat": round(row["lat"], 7),
        "long": round(row["lng"], 7),
        "media_url": o311.get("media_url"),
    }
