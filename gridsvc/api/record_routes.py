"""Endpoint factory: GET and PATCH of one versioned record (parties, units) with ETag / If-Match."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel

from ..people import records as record_edits
from .dependencies import Conn
from .security import CurrentUser, check_fields, own_records, redact
from .versions import IfMatch, etag, expected_version


def _unscoped() -> None:
    """The scope of a record that any of its writers may change (parties: admins and planners)."""


def add_record_routes(router: APIRouter, table: str, what: str, change: type[BaseModel], writer: Any, *,
                      summary: str, required: tuple[str, ...] = (), scope: Any = None) -> None:
    """GET /{table}/{id} (ETag) and PATCH /{table}/{id} (If-Match or version: 428 without, 412 if stale).

    scope: the write's scope dependency (gridsvc/api/scope.py), checked before the body is validated.
    """

    def get_one(conn: Conn, principal: CurrentUser, record_id: int, response: Response) -> dict:
        row = record_edits.get_record(conn, table, record_id)
        response.headers["ETag"] = etag(record_id, row["version"])
        return redact(row, principal, records=own_records(conn, principal, table))

    def patch_one(conn, scoped: None, record_id: int, body, response: Response, if_match: IfMatch = None) -> dict:
        fields = body.model_dump(exclude_unset=True)
        version = fields.pop("version", None)
        check_fields(conn.info["principal"], table, fields, what)  # the role table, field by field: before any content
        for name in required:  # null cannot clear these
            if name in fields and fields[name] is None:
                del fields[name]
        expected = expected_version(if_match, record_id, what)
        row = record_edits.update_record(conn, table, record_id, fields,
                                         expected if expected is not None else version)
        conn.commit()
        response.headers["ETag"] = etag(record_id, row["version"])
        return row

    patch_one.__annotations__.update(conn=writer, body=change, scoped=scope or Annotated[None, Depends(_unscoped)])
    get_one.__doc__ = f"The {what} with its version."
    patch_one.__doc__ = ("Needs If-Match (or version): 428 without, 412 with the current version if it changed "
                         "meanwhile.")
    path = f"/{table}/{{record_id:int}}"
    router.add_api_route(path, get_one, methods=["GET"], name=f"get_{what}",
                         summary=f"One {what} (ETag names its version)")
    router.add_api_route(path, patch_one, methods=["PATCH"], name=f"update_{what}", summary=summary)
