"""Read an OSM PBF extract in bounded memory with pyosmium: tagged features in chunks, never the whole file.

Three passes over the file, each streamed by libosmium:

1. relations whose tags pass the catalogue's filter (`osm._custom_filter`), with their member way ids;
2. nodes and ways: every node location goes to an on-disk index (`sparse_file_array` in a temporary directory);
   tagged nodes and ways that pass the filter come out as features, in chunks of `chunk_size`;
3. the member ways of the relations kept in pass 1, with their node locations from the index (such a way is part of its relation,
   not a feature of its own, as in pyrosm); then the relations' areas are assembled and come out as the last chunks.

Memory holds one chunk, the relations of interest and their member ways' coordinates, never the file's nodes.
Geometries follow pyrosm's rules (`read_osm`), so both readers give the same layers: a closed way whose tags make
an area (pyrosm's polygon features) is a counter-clockwise Polygon, any other way a LineString through its nodes
with known locations; a relation is a line (routes and the like, pyrosm's `relation_kind`) or the even-odd overlay
of the closed rings of its merged member ways.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ...errors import UnreadableFileError
from ...geo.osm_tags import TAG_KEYS
from ..catalogue import Catalogue
from .osm import _custom_filter
from .tagged import layers_from_tagged

CHUNK = 20_000
STEPS = ("relations", "nodes and ways", "relation members")
Progress = Callable[[str, int, int], None]
FILTER_KEYS = ("highway", "building", "shop", "office", "amenity", "landuse", "place")


def _matcher(cat: Catalogue):
    """tags (osmium TagList) -> whether pyrosm's 'keep' custom filter keeps the element."""
    rules = {k: (None if v is True else frozenset(v)) for k, v in _custom_filter(cat).items()}

    def keep(tags) -> bool:
        for key, values in rules.items():
            v = tags.get(key)
            if v is not None and (values is None or v in values):
                return True
        return False

    return keep


def _tag_row(tags) -> dict[str, str | None]:
    return {k: tags.get(k) for k in TAG_KEYS}


def _all_tags(tags) -> dict[str, str]:
    return {t.k: t.v for t in tags}


def _way_coords(way) -> np.ndarray:
    """The way's node locations that are known (pyrosm drops nodes missing from an extract)."""
    return np.array([(n.lon, n.lat) for n in way.nodes if n.location.valid()], dtype=float).reshape(-1, 2)


def _way_geometry(refs: tuple[int, int], coords: np.ndarray, area: bool):
    """pyrosm's way geometry: a Polygon when closed (same first and last node) and an area by its tags."""
    if refs[0] == refs[1] and area:
        if len(coords) < 4:
            return None
        try:
            return shapely.orient_polygons(shapely.polygons(coords), exterior_cw=False)
        except shapely.errors.GEOSException:
            return None
    return shapely.linestrings(coords) if len(coords) >= 2 else None


def _polygonal_only(geom):
    """The polygonal part of an overlay result (stray lines and points dropped); None when nothing is left."""
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon") and not p.is_empty]
    parts = [q for p in parts for q in shapely.get_parts(p)]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def _relation_geometry(tags: dict[str, str], lines: list):
    """pyrosm's relation geometry from its member ways' lines (in file order)."""
    from pyrosm.geometry import fix_geometry, ring_polygon
    from pyrosm.relations import relation_kind

    if not lines:
        return None
    force_line, _ = relation_kind(tags)
    if force_line:
        return lines[0] if len(lines) == 1 else shapely.line_merge(shapely.multilinestrings(lines))
    merged = shapely.line_merge(shapely.multilinestrings(lines))
    rings = []
    for line in shapely.get_parts(merged):
        if line.geom_type != "LineString":
            continue
        c = shapely.get_coordinates(line)
        if len(c) < 4 or not (c[0] == c[-1]).all():
            continue
        poly = ring_polygon(c)
        if poly is not None and not poly.is_empty:
            rings.append(poly)
    if not rings:
        return None
    parts = np.asarray(rings, dtype=object)
    try:
        while len(parts) > 1:  # even-odd overlay, in pairs round by round
            n = len(parts) // 2 * 2
            parts = np.concatenate([shapely.symmetric_difference(parts[0:n:2], parts[1:n:2]), parts[n:]])
    except shapely.errors.GEOSException:
        return None
    area = _polygonal_only(parts[0])
    if area is not None and not area.is_valid:
        area = _polygonal_only(fix_geometry(area))
    return area


class _Chunker:
    """Collects features and hands them out as tagged GeoDataFrames of at most `size` rows."""

    def __init__(self, size: int) -> None:
        self.size, self.ids, self.rows, self.geoms = size, [], [], []

    def add(self, source_id: str, tags: dict, geom) -> bool:
        if geom is None:
            return False
        self.ids.append(source_id)
        self.rows.append(tags)
        self.geoms.append(geom)
        return len(self.ids) >= self.size

    def take(self) -> gpd.GeoDataFrame | None:
        if not self.ids:
            return None
        frame = pd.DataFrame(self.rows, columns=list(TAG_KEYS))
        frame["source_id"] = self.ids
        gdf = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(self.geoms, crs=4326), crs=4326)
        self.ids, self.rows, self.geoms = [], [], []
        return gdf


def stream_tagged(path: Path, cat: Catalogue, chunk_size: int = CHUNK, index_dir: Path | None = None,
                  progress: Progress | None = None) -> Iterator[gpd.GeoDataFrame]:
    """Tagged features of the file (TAG_KEYS columns, source_id 'node/1', geometry), chunk by chunk.

    progress(stage, pass, 3) is called as each pass starts and with each chunk (stage counts the features so far).
    """
    import osmium
    from osmium.filter import KeyFilter
    from pyrosm.config.polygon_features import is_area

    keep = _matcher(cat)
    name = str(path)
    out = _Chunker(chunk_size)
    tick = progress or (lambda *_: None)
    done = 0

    def chunk(step: int) -> gpd.GeoDataFrame:
        nonlocal done
        gdf = out.take()
        done += len(gdf)
        tick(f"reading ({STEPS[step]}): {done:,} features", step, len(STEPS))
        return gdf

    try:
        tick(f"reading ({STEPS[0]})", 0, len(STEPS))
        relations: list[tuple[int, dict[str, str], list[int]]] = []
        for r in osmium.FileProcessor(name, osmium.osm.RELATION).with_filter(KeyFilter(*FILTER_KEYS)):
            if keep(r.tags):
                relations.append((r.id, _all_tags(r.tags), [m.ref for m in r.members if m.type == "w"]))
        members = {w for _, _, ws in relations for w in ws}
        tick(f"reading ({STEPS[1]})", 1, len(STEPS))
        with tempfile.TemporaryDirectory(prefix="gridsvc-osm-", dir=index_dir) as tmp:
            locations = osmium.index.create_map(f"sparse_file_array,{tmp}/nodes.idx")
            fp = (osmium.FileProcessor(name, osmium.osm.NODE | osmium.osm.WAY).with_locations(locations)
                  .with_filter(KeyFilter(*FILTER_KEYS)))
            for o in fp:
                if not keep(o.tags):
                    continue
                if o.is_node():
                    loc = o.location
                    geom = shapely.Point(loc.lon, loc.lat) if loc.valid() else None
                    full = out.add(f"node/{o.id}", _tag_row(o.tags), geom)
                elif o.id in members:  # a kept relation's member way is part of it, as pyrosm reads it
                    continue
                else:
                    refs = (o.nodes[0].ref, o.nodes[-1].ref) if len(o.nodes) else (0, -1)
                    geom = _way_geometry(refs, _way_coords(o), is_area(_all_tags(o.tags)))
                    full = out.add(f"way/{o.id}", _tag_row(o.tags), geom)
                if full:
                    yield chunk(1)
            tick(f"reading ({STEPS[2]}): {done:,} features", 2, len(STEPS))
            lines: dict[int, object] = {}
            if members:
                # not osmium's IdFilter: its id set is a bitmap over the id range (400 MB for ids near 10^12)
                for w in osmium.FileProcessor(name, osmium.osm.WAY):
                    if w.id not in members:
                        continue
                    c = [locations.get(n.ref) for n in w.nodes if _known(locations, n.ref)]
                    if len(c) >= 2:
                        lines[w.id] = shapely.linestrings([(p.lon, p.lat) for p in c])
        order = {w: i for i, w in enumerate(lines)}  # file order, as pyrosm takes a relation's member ways
        for rid, tags, ways in relations:
            member_lines = [lines[w] for w in sorted({w for w in ways if w in lines}, key=order.get)]
            geom = _relation_geometry(tags, member_lines)
            if out.add(f"relation/{rid}", {k: tags.get(k) for k in TAG_KEYS}, geom):
                yield chunk(2)
        if out.ids:
            yield chunk(2)
        tick(f"read {done:,} features", 3, len(STEPS))
    except (RuntimeError, ValueError, OSError) as e:  # libosmium: "PBF error", "invalid BlobHeader", …
        raise UnreadableFileError(f"not a readable OSM PBF file ({type(e).__name__}: {e})", source=path.name) from e


def _known(locations, ref: int) -> bool:
    try:
        return locations.get(ref).valid()
    except KeyError:
        return False


def stream_osm(path: Path, cat: Catalogue, chunk_size: int = CHUNK, index_dir: Path | None = None,
               progress: Progress | None = None) -> Iterator[dict[str, gpd.GeoDataFrame]]:
    """gridsvc layers of a .osm.pbf file, chunk by chunk, as `read_osm` gives them for the whole file."""
    for gdf in stream_tagged(path, cat, chunk_size, index_dir, progress):
        gdf = gdf.reset_index(drop=True)
        yield {k: v for k, v in layers_from_tagged(gdf, gdf["source_id"], cat).items() if len(v)}
