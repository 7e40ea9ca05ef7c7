"""Every gridsvc error, and the one table mapping each to an HTTP status."""

from __future__ import annotations


class GridsvcError(Exception):
    """Base of all gridsvc errors; `str(err)` is the user-facing message."""

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = {k: v for k, v in details.items() if v is not None}


class InputError(GridsvcError):
    """Bad input data: names the source, the place (row/feature) and what is wrong."""

    def __init__(self, what: str, *, source: str | None = None, where: str | None = None, **details):
        parts = [p for p in (source, where) if p]
        prefix = ": ".join(parts)
        super().__init__(f"{prefix}: {what}" if prefix else what, source=source, where=where, **details)
        self.what = what
        self.source = source
        self.where = where


class UnreadableFileError(InputError):
    """A file that cannot be opened or parsed."""


class MissingColumnsError(InputError):
    """A table lacks required columns."""


class UnknownCRSError(InputError):
    """A CRS string that is neither an EPSG code nor gcj02/bd09."""


class SwappedCoordinatesError(InputError):
    """Coordinates that look like (lat, lng) given as (lng, lat)."""


class OutsideChinaError(InputError):
    """Points outside China while a Chinese CRS was declared."""


class InvalidGeometryError(InputError):
    """Empty or invalid geometries that could not be repaired."""


class NotFoundError(GridsvcError):
    """A record or place that does not exist."""


class AuthError(GridsvcError):
    """Missing, wrong, expired or revoked credentials."""


class ForbiddenError(GridsvcError):
    """An authenticated user acting outside their role or grids."""


class RateLimitedError(GridsvcError):
    """Too many anonymous requests from one client."""


class MethodNotAllowedError(GridsvcError):
    """An operation the resource does not support (details carry the allowed methods)."""


class ConflictError(GridsvcError):
    """A write that conflicts with stored state."""


class ZoneOverlapError(ConflictError):
    """A zone edit that would overlap other current zones (named, with the shared area)."""


class StaleVersionError(ConflictError):
    """A write against a version that is no longer current (If-Match / version mismatch)."""


class PreconditionRequiredError(GridsvcError):
    """An update without If-Match or a version field: it could silently overwrite someone else's edit."""


class OutsideManagedAreaError(InputError):
    """A zone outside the managed area (the grid cells)."""


class DatabaseUnavailableError(GridsvcError):
    """The database cannot be reached."""


class MissingDependencyError(GridsvcError):
    """A system program (PostgreSQL, PostGIS, Chromium) is not installed."""


class ClusterError(GridsvcError):
    """The local PostGIS cluster could not be started, stopped or inspected."""


class BackupError(GridsvcError):
    """A pg_dump, pg_restore or psql run of `gridsvc db dump` / `db restore` that failed."""


# The one table from exception to HTTP status; the most specific class wins.
HTTP_STATUS: dict[type[GridsvcError], int] = {
    InputError: 422,
    NotFoundError: 404,
    AuthError: 401,
    ForbiddenError: 403,
    RateLimitedError: 429,
    MethodNotAllowedError: 405,
    ConflictError: 409,
    StaleVersionError: 412,
    PreconditionRequiredError: 428,
    DatabaseUnavailableError: 503,
    MissingDependencyError: 500,
    ClusterError: 500,
    GridsvcError: 500,
}


def http_status(err: GridsvcError) -> int:
    """HTTP status for an error, by its nearest class in HTTP_STATUS."""
    for cls in type(err).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]
    return 500


# --- OGC API – Features (gridsvc/api/routers/ogc.py): the standard wants 400, not 422, for bad or unknown
# query parameters (/req/core/query-param-invalid, /req/core/query-param-unknown).
class OGCParameterError(InputError):
    """An invalid or unknown query parameter of an OGC API – Features request."""


HTTP_STATUS[OGCParameterError] = 400


# --- Hostile and broken input (gridsvc/api/limits.py, gridsvc/uploads.py).
class PayloadTooLargeError(InputError):
    """A request body or uploaded file larger than its limit (details carry the limit in bytes)."""


class UnsupportedMediaTypeError(InputError):
    """An upload whose content (by its magic bytes, not its name) is not an accepted type."""


HTTP_STATUS[PayloadTooLargeError] = 413
HTTP_STATUS[UnsupportedMediaTypeError] = 415


# --- The party's case page (gridsvc/ops/cases/links.py): a case link past its expiry is gone for good (410), so
# the party knows to ask for a new notice rather than retry.
class LinkExpiredError(GridsvcError):
    """A signed case link (the QR code of a notice) whose time has run out."""


HTTP_STATUS[LinkExpiredError] = 410


# --- 随手拍 citizen reports (gridsvc/ops/citizens/reports.py): the same photo sent again is a conflict naming the report and
# the case it already is (409), so the reporter follows that case rather than filing it twice.
class DuplicatePhotoError(ConflictError):
    """A report photo whose perceptual hash matches an earlier report's photo (details: report_code, case_code)."""
