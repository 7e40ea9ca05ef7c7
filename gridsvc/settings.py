"""Runtime settings, read from GRIDSVC_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """gridsvc configuration; every field can be set as GRIDSVC_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="GRIDSVC_", extra="ignore")

    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL of an existing PostGIS; unset = run the local cluster."
    )
    data_dir: Path = Field(default=Path(".gridsvc"), description="Project data folder (local cluster, exports).")
    pg_dir: Path | None = Field(default=None, description="Local PostGIS cluster folder; default <data_dir>/pg.")
    db_name: str = Field(default="gridsvc", description="Database name inside the local cluster.")
    geodata_dir: Path = Field(default=REPO_ROOT / "geodata", description="Shipped configs and policies.")
    h3_res: int = Field(default=10, ge=5, le=13, description="H3 resolution of the unit grid.")
    admin_code: str = Field(
        default="000000", pattern=r"^\d{6}$", description="6-digit county-level admin code for grid codes."
    )
    max_grid_cells: int = Field(default=2_000_000, description="Refuse grids larger than this (a mixed-up extent).")
    public_base_url: str = Field(
        default="http://127.0.0.1:8000", description="Public address of the service; unit QR codes link to <url>/u/<code>."
    )
    case_link_days: int = Field(
        default=30, ge=1, le=366,
        description="Days a party's case link (the QR code of a notice, /c/<token>) stays valid after the later of "
                    "its issue and the case's running deadline.")
    notice_office: str = Field(
        default="城市管理网格化服务中心", max_length=60, description="The issuing office printed on notices (落款).")
    open311_jurisdiction_id: str | None = Field(
        default=None, max_length=200,
        description="Open311 jurisdiction_id this endpoint answers to (e.g. the city's web domain); unset = any value "
                    "is accepted, as the spec allows an endpoint that serves one jurisdiction.")
    jwt_secret: str | None = Field(default=None, description="JWT signing key; unset = the key each database makes (table instance).")
    jwt_minutes: int = Field(default=30, ge=1, le=1440, description="Lifetime of login tokens (JWT).")
    public_rate_per_s: float = Field(default=20.0, gt=0, description="Anonymous requests per second per client.")
    public_burst: int = Field(default=60, ge=1, description="Anonymous request burst per client.")
    public_total_rate_per_s: float = Field(
        default=100.0, gt=0, description="Anonymous work per second, all clients together (burst: 3 s of it).")
    public_max_points: int = Field(default=1000, ge=1, le=10_000, description="Largest anonymous POST /lookup batch.")
    # 随手拍 citizen reports (gridsvc/ops/citizens/reports.py) and their duplicates
    report_radius_public_m: float = Field(
        default=50.0, gt=0, le=1000, description="Radius of duplicate suggestions for the public (metres).")
    report_radius_staff_m: float = Field(
        default=250.0, gt=0, le=5000, description="Radius of duplicate suggestions for staff (metres).")
    report_suggest_days: int = Field(
        default=30, ge=1, le=366, description="Duplicate suggestions: open cases reported within this many days.")
    report_suggest_max: int = Field(default=5, ge=1, le=50, description="Duplicate suggestions: at most this many.")
    report_phash_distance: int = Field(
        default=8, ge=0, le=32,
        description="A photo whose perceptual hash (64-bit pHash) differs from an earlier report's photo in at most "
                    "this many bits is the same photo sent again (409).")
    report_same_photo_days: int = Field(
        default=30, ge=1, le=366, description="How far back a photo sent again is looked for (days).")
    report_max_photos: int = Field(default=6, ge=1, le=20, description="Photos per report.")
    report_max_pixels: int = Field(
        default=40_000_000, ge=1_000_000, le=60_000_000, description="Pixels per report photo (413 above).")
    report_max_body_bytes: int = Field(
        default=30 * 1024 * 1024, ge=1024, description="Largest POST /reports body (all photos together).")
    report_per_hour: int = Field(
        default=10, ge=1, description="Anonymous reports per client address per hour (429 above; counted in the "
                                     "database by a keyed hash of the address, so every worker sees them).")
    upload_keep_days_photo: int = Field(
        default=365, ge=1, description="Days `uploads prune` keeps 随手拍 photos (case evidence, yearly review)."
    )
    upload_keep_days_ledger: int = Field(
        default=90, ge=1, description="Days `uploads prune` keeps ledgers (owners' names and phones)."
    )
    tz: str = Field(
        default="Asia/Shanghai", max_length=64,
        description="Time zone of the people using gridsvc (IANA name): a date given or printed is a day here.",
    )
    lookup_index: bool = Field(
        default=True, description="Answer GET/POST /lookup from an in-memory index of the current zones kept coherent "
                                  "by LISTEN/NOTIFY (0 = every lookup queries PostGIS).")
    db_pool_size: int = 5
    db_pool_timeout: float = Field(default=5.0, gt=0, description="Seconds to wait for a free connection (then 503).")
    db_connect_timeout: int = 5
    db_prepared_statements: bool = Field(
        default=True, description="false behind a pgbouncer in transaction mode that does not track prepared "
                                  "statements (max_prepared_statements = 0): psycopg's prepare_threshold=None.")
    read_urls: str = Field(
        default="", description="Comma-separated SQLAlchemy URLs of hot standbys: lookups, tiles, layer and OGC reads "
                                "go to them round-robin (docs/scaling.md); empty = every read on the primary.")
    read_connect_timeout: int = Field(
        default=2, ge=2, description="Seconds to wait connecting to a standby before reading from another one (libpq's "
                                     "minimum is 2).")
    read_retry_s: float = Field(
        default=5.0, gt=0, description="A standby that failed is skipped this long, doubling while it keeps failing "
                                       "(at most 12 times as long).")

    @field_validator("tz")
    @classmethod
    def _known_tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"GRIDSVC_TZ must be an IANA time zone like Asia/Shanghai, not {value!r}") from None
        return value

    def upload_keep_days(self, kind: str) -> int:
        """Retention of uploads of a kind (photo | ledger), in days (see gridsvc/upload_retention.py)."""
        return {"photo": self.upload_keep_days_photo, "ledger": self.upload_keep_days_ledger}[kind]

    @property
    def upload_dir(self) -> Path:
        """Where uploaded files are stored: <data_dir>/uploads, one folder per database (gridsvc/db/instance.py)."""
        return (self.data_dir / "uploads").resolve()

    @property
    def read_url_list(self) -> list[str]:
        """GRIDSVC_READ_URLS as a list (blanks dropped)."""
        return [u.strip() for u in self.read_urls.split(",") if u.strip()]

    @property
    def cluster_dir(self) -> Path:
        """Folder of the local PostGIS cluster."""
        return (self.pg_dir or self.data_dir / "pg").resolve()


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests clear with get_settings.cache_clear())."""
    return Settings()
