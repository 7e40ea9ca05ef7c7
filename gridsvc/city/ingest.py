"""`gridsvc ingest`: read a file, check and repair it, and store it in one transaction."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
from sqlalchemy import Connection, Engine

from ..db import store
from ..db.layer_sql import layer_sql
from ..db.layers import INGESTED, layer_spec
from ..db.sql import sql
from ..errors import InputError, NotFoundError, UnknownCRSError, UnreadableFileError
from ..files.uploads import file_sha256
from ..geo.checks import GeometryFix, check_in_china, check_raw_coordinates, repair_geometries_logged
from ..geo.crs import CrsSpec, parse_crs, to_wgs84
from ..geo.streets import WIDTH_FROM_INPUT, carriageway_widths, street_polygons
from ..people import audit
from .catalogue import Catalogue, load_catalogue
from .grid import index_rows, stored_res
from .readers import vector
from .readers.ledger import read_ledger
from .readers.osm import read_osm
from .readers.osm_stream import CHUNK, stream_osm

Progress = Callable[[str, int, int], None]
PBF = (".pbf",)
VECTOR = (".gpkg", ".geojson", ".json", ".shp", ".zip", ".kml", ".fgb")
LEDGER = (".csv", ".xlsx", ".xls", ".xlsm")
# An OSM PBF larger than this streams (`ingest_stream`) unless --no-stream: pyrosm's whole-file ingest of a 10 MB
# PBF (Nanjing ×100) already peaks at over 3× the streaming ingest's memory, in the same time
# (bench/results/ingest_stream.json).
STREAM_ABOVE_BYTES = 16 * 1024 * 1024


@dataclass
class IngestReport:
    """What an ingest stored, per layer, and what it noticed on the way.

    notes holds every note (repairs included, at most MAX_NOTES of them per layer); fixes every geometry repaired
    or skipped, per layer, as stored in the imports row `import_id` (`gridsvc imports show ID`).
    """

    source_file: str
    crs: str
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    fixes: dict[str, list[GeometryFix]] = field(default_factory=dict)
    fix_notes: list[str] = field(default_factory=list, repr=False)
    import_id: int | None = None

    @property
    def other_notes(self) -> list[str]:
        """The notes that are not about one repaired or skipped geometry (CRS, duplicates, empty layers)."""
        return [n for n in self.notes if n not in set(self.fix_notes)]

    def fix_summary(self) -> dict[str, tuple[int, int]]:
        """Layer -> (geometries repaired, skipped), for the layers that had any."""
        return {layer: (sum(f.action == "repaired" for f in fixes), sum(f.action == "skipped" for f in fixes))
                for layer, fixes in self.fixes.items() if fixes}


def _file_crs(gdf: gpd.GeoDataFrame, declared: str | None, source: str, layer: str,
              notes: list[str]) -> CrsSpec:
    """The CRS to read a layer in: --crs wins over the file's own, which wins over a lon/lat guess."""
    if declared is not None:
        spec = parse_crs(declared)
        if gdf.crs is not None and gdf.crs.to_epsg() != spec.epsg:
            notes.append(f"{source} layer {layer}: file says {gdf.crs.name}, --crs says {spec.label}; using {spec.label}")
        return spec
    if gdf.crs is not None:
        epsg = gdf.crs.to_epsg()
        if epsg is None:
            raise UnknownCRSError(f"layer {layer!r} has a CRS without an EPSG code ({gdf.crs.name}); pass --crs EPSG",
                                  source=source)
        return parse_crs(epsg)
    xmin, ymin, xmax, ymax = gdf.total_bounds
    if -180 <= xmin <= xmax <= 180 and -90 <= ymin <= ymax <= 90:
        notes.append(f"{source} layer {layer}: no CRS in file; coordinates look like lon/lat, read as WGS84")
        return parse_crs("wgs84")
    raise UnknownCRSError(f"layer {layer!r} has no CRS and its coordinates are not lon/lat; pass --crs", source=source)


def _to_wgs84(gdf: gpd.GeoDataFrame, spec: CrsSpec, source: str) -> gpd.GeoDataFrame:
    labels = [f"feature {i}" for i in gdf.index]
    pts = gdf.geometry.representative_point()
    check_raw_coordinates(pts.x.to_numpy(), pts.y.to_numpy(), spec, source, labels)
    out = to_wgs84(gdf, spec)
    check_in_china(out, spec, source, labels)
    return out


def read_source(path: Path, *, kind: str | None = None, layer: str | None = None, crs: str | None = None,
                columns: dict[str, str] | None = None, cat: Catalogue | None = None,
                ) -> tuple[dict[str, gpd.GeoDataFrame], list[str], str]:
    """Read any supported file into WGS84 gridsvc layers, with notes; nothing touches the database."""
    cat = cat or load_catalogue()
    path = Path(path)
    source = path.name
    if not path.exists():
        raise UnreadableFileError("file not found", source=str(path))
    if not path.is_file() or not path.stat().st_size:
        raise UnreadableFileError("not a file or empty", source=str(path))
    suffix = path.suffix.lower()
    notes: list[str] = []
    if suffix in PBF:
        if crs is not None and parse_crs(crs).epsg != 4326:
            raise InputError("OSM PBF files are always WGS84; drop --crs", source=source)
        if kind is not None:
            raise InputError("--kind does not apply to OSM PBF files (tags decide the layers)", source=source)
        return read_osm(path, cat), notes, "EPSG:4326 (OSM)"
    if suffix in LEDGER:
        if kind not in (None, "unit"):
            raise InputError("ledgers hold frontage units; --kind must be unit or omitted", source=source)
        units, ledger_notes = read_ledger(path, crs=crs or "wgs84", columns=columns, sheet=layer)
        return {"units": units}, ledger_notes, parse_crs(crs or "wgs84").label
    if suffix not in VECTOR:
        raise UnreadableFileError(
            f"unsupported file type {suffix or '(none)'}; use .osm.pbf, {', '.join(VECTOR)} or {', '.join(LEDGER)}",
            source=source)
    names = vector.list_layers(path)
    if layer is not None and layer not in names:
        raise InputError(f"no layer {layer!r}; layers in this file: {', '.join(names)}", source=source)
    out: dict[str, list[gpd.GeoDataFrame]] = {}
    labels = []
    for name in [layer] if layer else names:
        raw = vector.read_raw(path, name)
        if raw.empty:
            notes.append(f"{source} layer {name}: empty, skipped")
            continue
        spec = _file_crs(raw, crs, source, name, notes)
        labels.append(spec.label)
        present = raw.geometry.notna() & ~raw.geometry.is_empty
        if not present.all():
            notes.append(f"{source} layer {name}: {int((~present).sum())} feature(s) without geometry skipped")
            raw = raw[present]
        wgs = _to_wgs84(raw, spec, f"{source} layer {name}")
        for lname, gdf in vector.layers_from_raw(wgs, source=source, layer=name, kind=kind, columns=columns,
                                                  cat=cat).items():
            out.setdefault(lname, []).append(gdf)
    layers = {k: gpd.GeoDataFrame(gpd.pd.concat(v, ignore_index=True), crs=4326) for k, v in out.items()}
    return layers, notes, ", ".join(sorted(set(labels))) or "EPSG:4326"


def prepare_layers(layers: dict[str, gpd.GeoDataFrame], source: str, cat: Catalogue, strict: bool = False,
                   ) -> tuple[dict[str, gpd.GeoDataFrame], list[str]]:
    """Repair geometries (strict: reject what cannot be repaired) and derive street widths and polygons."""
    out, notes, _, _ = _prepare_layers(layers, source, cat, strict)
    return out, notes


def _prepare_layers(layers: dict[str, gpd.GeoDataFrame], source: str, cat: Catalogue, strict: bool = False,
                    ) -> tuple[dict[str, gpd.GeoDataFrame], list[str], list[str], dict[str, list[GeometryFix]]]:
    """prepare_layers, plus the notes that came from geometry repair and every GeometryFix per layer."""
    notes: list[str] = []
    fix_notes: list[str] = []
    fixes: dict[str, list[GeometryFix]] = {}
    out = {}
    for name, gdf in layers.items():
        if gdf.empty:
            continue
        gdf = gdf.reset_index(drop=True)
        labels = [f"feature {sid}" for sid in gdf["source_id"]]
        gdf, repair_notes, fixes[name] = repair_geometries_logged(gdf, f"{source} {name}", labels, strict=strict)
        notes += repair_notes
        fix_notes += repair_notes
        dup = gdf["source_id"].duplicated(keep="last")
        if dup.any():
            notes.append(f"{source} {name}: {int(dup.sum())} duplicate source id(s), last one kept "
                         f"(e.g. {gdf['source_id'][dup].iloc[0]})")
            gdf = gdf[~dup].reset_index(drop=True)
        if name == "streets":
            width_in = gdf["width_tag"] if "width_tag" in gdf else gpd.pd.Series(None, index=gdf.index)
            width_m, width_source = carriageway_widths(gdf["osm_class"], width_in, gdf["lanes"], cat)
            if "osm_class" in gdf and gdf["osm_class"].isna().all() and "width_tag" in gdf:
                width_source = np.where(width_source == "width tag", WIDTH_FROM_INPUT, width_source)
            gdf["lanes"] = gpd.pd.to_numeric(
                gdf["lanes"].astype("string").str.extract(r"(\d+(?:\.\d+)?)", expand=False), errors="coerce")
            gdf["width_m"], gdf["width_source"] = width_m, width_source
            gdf["centerline"] = gpd.GeoSeries(gdf.geometry.values, crs=4326)
            gdf = gdf.set_geometry(street_polygons(gdf.geometry, width_m).values)
        if name == "buildings" and "levels" in gdf:
            gdf["levels"] = gpd.pd.to_numeric(gdf["levels"], errors="coerce")
        if name == "admin_units":
            gdf["provisional"] = False
        out[name] = gdf
    return out, notes, fix_notes, fixes


def ingest(engine: Engine, path: Path, *, kind: str | None = None, layer: str | None = None,
           crs: str | None = None, columns: dict[str, str] | None = None, strict: bool = False,
           progress: Progress | None = None) -> IngestReport:
    """Ingest one file: all layers in one transaction, so a failure leaves the database as it was.

    Unrepairable geometries are skipped and reported; strict=True rejects the file instead.
    """
    path = Path(path)
    cat = load_catalogue()
    tick = progress or (lambda *_: None)
    tick("reading", 0, 3)
    layers, notes, crs_label = read_source(path, kind=kind, layer=layer, crs=crs, columns=columns, cat=cat)
    tick("checking geometries", 1, 3)
    layers, prepare_notes, fix_notes, fixes = _prepare_layers(layers, path.name, cat, strict=strict)
    notes += prepare_notes
    if not layers:
        raise InputError("no streets, buildings, compounds, markets, units or boundaries found", source=path.name)
    report = IngestReport(source_file=path.name, crs=crs_label, notes=notes, fixes=fixes, fix_notes=fix_notes)
    report.counts, report.import_id = _store_layers(
        engine, layers, path.name, sha256=file_sha256(path), path=str(path.resolve()), crs_label=crs_label,
        notes=report.other_notes, fixes=fixes, progress=tick)
    return report


def store_layers(engine: Engine, layers: dict[str, gpd.GeoDataFrame], source_file: str, *, sha256: str = "",
                 path: str = "", crs_label: str = "EPSG:4326", notes: list[str] | None = None,
                 progress: Progress | None = None) -> dict[str, dict[str, int]]:
    """Upsert prepared layers of one source in one transaction, link units to buildings, log the import."""
    counts, _ = _store_layers(engine, layers, source_file, sha256=sha256, path=path, crs_label=crs_label,
                              notes=notes, progress=progress)
    return counts


def _store_layers(engine: Engine, layers: dict[str, gpd.GeoDataFrame], source_file: str, *, sha256: str = "",
                  path: str = "", crs_label: str = "EPSG:4326", notes: list[str] | None = None,
                  fixes: dict[str, list[GeometryFix]] | None = None, progress: Progress | None = None,
                  ) -> tuple[dict[str, dict[str, int]], int]:
    """store_layers, returning the counts and the imports row's id.

    The row's notes are the notes (text) followed by one object per geometry repaired or skipped
    ({layer, feature, action, reason}).
    """
    tick = progress or (lambda *_: None)
    logged = [*(notes or []), *({"layer": layer, "feature": f.feature, "action": f.action, "reason": f.reason}
                                for layer, layer_fixes in (fixes or {}).items() for f in layer_fixes)]
    counts: dict[str, dict[str, int]] = {}
    order = [n for n in INGESTED if n in layers]
    with engine.begin() as conn:
        audit.start_bulk(conn)  # one audit row for the import, not one per shop
        for i, name in enumerate(order):
            tick(f"storing {name}", i, len(order))
            upsert = store.upsert_layer(conn, layer_spec(name), layers[name], source_file)
            index_rows(conn, name, upsert.written_ids, upsert.removed_ids)  # grid-scoped reads see them at once
            counts[name] = upsert.as_dict() | {"rows": len(layers[name])}
        import_id = _finish_import(conn, order, counts, logged, source_file, path, sha256, crs_label)
    tick("done", len(order), len(order))
    return counts, import_id


def _finish_import(conn: Connection, order: list[str], counts: dict, logged: list, source_file: str, path: str,
                   sha256: str, crs_label: str) -> int:
    """After the layers are stored: link units to buildings, write the imports row and the audit row, analyse."""
    conn.execute(sql("link_units_to_buildings"), {"sf": source_file, "max_m": 10.0})
    import_id = conn.execute(
        sql("import_insert"),
        {"f": source_file, "p": path, "h": sha256, "c": crs_label,
         "n": json.dumps(counts), "o": json.dumps(logged, ensure_ascii=False)},
    ).scalar_one()
    audit.bulk(conn, "import", "imports", source_file, {"sha256": sha256, "crs": crs_label, "counts": counts})
    for name in order:  # fresh statistics, or the planner misjudges the first queries after a bulk load
        conn.execute(layer_sql("layer_analyze", name))
    return import_id


def streams(path: Path, stream: bool | None, **options) -> bool:
    """Whether `gridsvc ingest` streams this file: --stream, else an OSM PBF over STREAM_ABOVE_BYTES.

    --stream reads OSM PBF files alone, which take no --kind, --layer, --crs or --column.
    """
    path = Path(path)
    pbf = path.suffix.lower() in PBF
    if stream:
        if not pbf:
            raise InputError("--stream reads OSM PBF files only", source=path.name)
        given = [f"--{k}" for k, v in options.items() if v]
        if given:
            raise InputError(f"{', '.join(given)} do(es) not apply to OSM PBF files", source=path.name)
        return True
    return stream is None and pbf and path.is_file() and path.stat().st_size > STREAM_ABOVE_BYTES and not any(
        options.values())


def ingest_stream(engine: Engine, path: Path, *, strict: bool = False, progress: Progress | None = None,
                  chunk_size: int = CHUNK) -> IngestReport:
    """Ingest an OSM PBF in bounded memory: features are read (`readers/osm_stream.py`), checked and COPYed chunk by
    chunk into staging tables, then upserted, all in one transaction; the same rows as `ingest` stores.

    progress gets the reader's passes over the file (with the features read so far), then the layers stored.
    """
    path = Path(path)
    if path.suffix.lower() not in PBF:
        raise InputError("--stream reads OSM PBF files only", source=path.name)
    if not path.is_file() or not path.stat().st_size:
        raise UnreadableFileError("file not found, not a file or empty", source=str(path))
    cat = load_catalogue()
    tick = progress or (lambda *_: None)
    report = IngestReport(source_file=path.name, crs="EPSG:4326 (OSM)", fixes={})
    with engine.begin() as conn:
        audit.start_bulk(conn)
        stages: dict[str, store.StagedLayer] = {}
        grid = stored_res(conn) is not None  # written ids are needed only to index them in a stored grid
        for chunk in stream_osm(path, cat, chunk_size, progress=tick):
            layers, notes, fix_notes, fixes = _prepare_layers(chunk, path.name, cat, strict=strict)
            report.notes += notes
            report.fix_notes += fix_notes
            for name, gdf in layers.items():
                report.fixes.setdefault(name, []).extend(fixes.get(name, []))
                if name not in stages:
                    stages[name] = store.StagedLayer(conn, layer_spec(name), list(gdf.columns))
                stages[name].add(gdf)
        if not stages:
            raise InputError("no streets, buildings, compounds, markets, units or boundaries found", source=path.name)
        order = [n for n in INGESTED if n in stages]
        for i, name in enumerate(order):
            tick(f"storing {name}", i, len(order))
            dropped, example = stages[name].drop_duplicates()
            if dropped:
                report.notes.append(f"{path.name} {name}: {dropped} duplicate source id(s), last one kept "
                                    f"(e.g. {example})")
            rows = stages[name].rows
            upsert = stages[name].merge(path.name, with_ids=grid)
            index_rows(conn, name, upsert.written_ids, upsert.removed_ids)
            report.counts[name] = upsert.as_dict() | {"rows": rows}
        logged = [*report.other_notes, *({"layer": layer, "feature": f.feature, "action": f.action,
                                          "reason": f.reason} for layer, fx in report.fixes.items() for f in fx)]
        report.import_id = _finish_import(conn, order, report.counts, logged, path.name, str(path.resolve()),
                                          file_sha256(path), report.crs)
    tick("done", len(order), len(order))
    return report


def list_imports(conn: Connection, limit: int = 50) -> list[dict]:
    """The newest imports first: id, time, file, CRS, rows stored, geometries repaired and skipped."""
    return [dict(r._mapping) for r in conn.execute(sql("imports_list"), {"limit": limit})]


def import_detail(conn: Connection, import_id: int) -> dict:
    """One import: its row, its notes (text) and every geometry it repaired or skipped (layer, feature, action,
    reason); NotFoundError if there is no such import."""
    row = conn.execute(sql("import_show"), {"id": import_id}).mappings().first()
    if row is None:
        raise NotFoundError(f"no import {import_id}; `gridsvc imports list` shows them")
    out = dict(row)
    notes = out.pop("notes") or []
    out["notes"] = [n for n in notes if isinstance(n, str)]
    out["fixes"] = [n for n in notes if isinstance(n, dict)]
    return out
