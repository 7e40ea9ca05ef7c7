"""SQLAlchemy models: the admin hierarchy, city features, H3 cells, parties and officers."""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ..zones.kinds import ZONE_KINDS

ADMIN_LEVELS = ("district", "subdistrict", "community", "grid")


def geom(kind: str) -> Geometry:
    """A WGS84 geometry column; GiST indexes are created by the migrations."""
    return Geometry(kind, srid=4326, spatial_index=False)


class Base(DeclarativeBase):
    """Declarative base of all tables."""


class Sourced:
    """Rows that came from a file: re-importing the same file updates them in place."""

    source_file: Mapped[str | None] = mapped_column(Text)
    source_id: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Import(Base):
    """One ingest run: which file, its checksum, what it changed and what was repaired."""

    __tablename__ = "imports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_file: Mapped[str] = mapped_column(Text)
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    crs: Mapped[str] = mapped_column(Text)
    counts: Mapped[dict] = mapped_column(JSONB)
    notes: Mapped[list] = mapped_column(JSONB)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AdminUnit(Sourced, Base):
    """District 区 → subdistrict 街道 → community 社区 → grid 网格 polygons."""

    __tablename__ = "admin_units"
    __table_args__ = (
        CheckConstraint(f"level IN {ADMIN_LEVELS!r}", name="admin_level_known"),
        UniqueConstraint("source_file", "source_id", name="admin_units_source"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    level: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("admin_units.id", ondelete="SET NULL"))
    provisional: Mapped[bool] = mapped_column(default=False)
    h3: Mapped[int | None] = mapped_column(BigInteger)
    geom = mapped_column(geom("MULTIPOLYGON"), nullable=False)


class GridCell(Base):
    """One H3 cell of the unit grid, with its national-style grid code."""

    __tablename__ = "grid_cells"
    h3: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    res: Mapped[int] = mapped_column(SmallInteger)
    code: Mapped[str] = mapped_column(Text, unique=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("admin_units.id", ondelete="SET NULL"))
    geom = mapped_column(geom("POLYGON"), nullable=False)


class Street(Sourced, Base):
    """A street centreline and its carriageway polygon."""

    __tablename__ = "streets"
    __table_args__ = (UniqueConstraint("source_file", "source_id", name="streets_source"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(Text)
    name_zh: Mapped[str | None] = mapped_column(Text)
    osm_class: Mapped[str | None] = mapped_column(Text)
    lanes: Mapped[float | None] = mapped_column(Float)
    sidewalk: Mapped[str | None] = mapped_column(Text)
    width_m: Mapped[float] = mapped_column(Float)
    width_source: Mapped[str] = mapped_column(Text)
    steward_party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id", ondelete="SET NULL"))
    centerline = mapped_column(geom("MULTILINESTRING"), nullable=False)
    geom = mapped_column(geom("MULTIPOLYGON"), nullable=False)


class Building(Sourced, Base):
    """A building footprint."""

    __tablename__ = "buildings"
    __table_args__ = (UniqueConstraint("source_file", "source_id", name="buildings_source"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(Text)
    building_type: Mapped[str | None] = mapped_column(Text)
    levels: Mapped[float | None] = mapped_column(Float)
    geom = mapped_column(geom("MULTIPOLYGON"), nullable=False)


COMPOUND_KINDS = ("residential", "institution")


class Compound(Sourced, Base):
    """A residential compound 小区 (property_manager NULL means 无物业), or an institution's grounds (kind
    'institution': a campus, hospital or government compound, held by the institution)."""

    __tablename__ = "compounds"
    __table_args__ = (UniqueConstraint("source_file", "source_id", name="compounds_source"),
                      CheckConstraint(f"kind IN {COMPOUND_KINDS!r}", name="compound_kind_known"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(Text)
    property_manager: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text, server_default="residential")
    geom = mapped_column(geom("MULTIPOLYGON"), nullable=False)


class Market(Sourced, Base):
    """A market: 集贸 / 农贸 / 专业."""

    __tablename__ = "markets"
    __table_args__ = (
        UniqueConstraint("source_file", "source_id", name="markets_source"),
        CheckConstraint("market_type IN ('集贸', '农贸', '专业')", name="market_type_known"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(Text)
    market_type: Mapped[str] = mapped_column(Text)
    operator: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(geom("MULTIPOLYGON"), nullable=False)


class Unit(Sourced, Base):
    """A frontage unit: a shop, office or institution on the street."""

    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("source_file", "source_id", name="units_source"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id", ondelete="SET NULL"))
    public_code: Mapped[str] = mapped_column(Text, unique=True)  # 一户一码: the QR code's /u/{code}
    # the current board (红黄黑牌): written by the ratings code with the period's rating (migration 0012); the
    # credit points are the ledger's sum (view unit_credit), no column
    rating: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, server_default="1")  # bumped by a trigger on every change
    geom = mapped_column(geom("POINT"), nullable=False)


class Party(Base):
    """A responsible party: a unit, property manager, 楼院长, market operator, steward or officer."""

    __tablename__ = "parties"
    __table_args__ = (UniqueConstraint("kind", "ref", name="parties_kind_ref"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    ref: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, server_default="1")  # bumped by a trigger on every change


class Officer(Base):
    """A grid officer 网格员."""

    __tablename__ = "officers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id", ondelete="SET NULL"))


class OfficerGrid(Base):
    """Which grids (by grid code) an officer looks after."""

    __tablename__ = "officer_grids"
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id", ondelete="CASCADE"), primary_key=True)
    grid_code: Mapped[str] = mapped_column(Text, primary_key=True, index=True)


class FeatureCell(Base):
    """The H3 cells covering each street, compound, market and unit."""

    __tablename__ = "feature_cells"
    layer: Mapped[str] = mapped_column(String(16), primary_key=True)
    feature_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    h3: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)


class ZoneBuild(Base):
    """One run of `gridsvc build zones`: its policy, counts and the units left without a zone."""

    __tablename__ = "zone_builds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    counts: Mapped[dict] = mapped_column(JSONB, default=dict)
    unassigned: Mapped[list] = mapped_column(JSONB, default=list)


class Zone(Base):
    """One version of a responsibility zone; the current version has valid_to NULL.

    zone_key names the zone across versions (auto: 'frontage:unit:12:street:5:left'; planner: 'planner:<n>'),
    so "who was responsible on that day" is a query on valid_from/valid_to.
    """

    __tablename__ = "zones"
    __table_args__ = (
        UniqueConstraint("zone_key", "version", name="zones_key_version"),
        CheckConstraint(f"kind IN {ZONE_KINDS!r}", name="zone_kind_known"),
        CheckConstraint("origin IN ('auto', 'planner')", name="zone_origin_known"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="zone_validity_ordered"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    zone_id: Mapped[int] = mapped_column(Integer)  # the public id, shared by all versions (a trigger fills it)
    zone_key: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    kind: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(Text)
    policy: Mapped[str] = mapped_column(Text)
    party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id", ondelete="RESTRICT"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"))
    street_id: Mapped[int | None] = mapped_column(ForeignKey("streets.id", ondelete="SET NULL"))
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id", ondelete="SET NULL"))
    market_id: Mapped[int | None] = mapped_column(ForeignKey("markets.id", ondelete="SET NULL"))
    props: Mapped[dict] = mapped_column(JSONB, default=dict)
    build_id: Mapped[int | None] = mapped_column(ForeignKey("zone_builds.id", ondelete="SET NULL"))
    created_by: Mapped[str] = mapped_column(Text, default="gridsvc")
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    geom = mapped_column(geom("MULTIPOLYGON"), nullable=False)
