"""The streaming OSM reader and ingest store the same rows as the pyrosm path, in bounded memory."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from support import NANJING, scratch_database, shared_file

from gridsvc import errors
from gridsvc.city.catalogue import load_catalogue
from gridsvc.city.ingest import ingest, ingest_stream, streams
from gridsvc.city.readers.osm import read_osm
from gridsvc.city.readers.osm_stream import stream_osm
from gridsvc.db import migrate
from gridsvc.db.engine import make_engine

LAYERS = ("streets", "buildings", "compounds", "markets", "units")
# Layer -> the columns compared besides the geometry.
COLUMNS = {"streets": "name, name_zh, osm_class, lanes, width_m, width_source",
           "buildings": "name, building_type, levels",
           "compounds": "name, kind, property_manager", "markets": "name, market_type, operator",
           "units": "name, category, address, phone, building_id IS NOT NULL"}
TOLERANCE_DEG = 1e-8  # about a millimetre


def _rows(engine, layer: str) -> dict[str, tuple]:
    with engine.connect() as c:
        return {r[0]: tuple(r[1:]) for r in c.execute(text(
            f"SELECT source_id, {COLUMNS[layer]}, ST_AsBinary(geom) FROM {layer}"))}


def test_reader_chunks_match_pyrosm():
    """Chunk by chunk (small chunks, so features and relations straddle them), the same features as pyrosm."""
    import shapely

    cat = load_catalogue()
    whole = read_osm(shared_file(NANJING), cat)
    streamed: dict[str, list] = {}
    chunks = 0
    for chunk in stream_osm(NANJING, cat, chunk_size=300):
        chunks += 1
        for name, gdf in chunk.items():
            streamed.setdefault(name, []).extend(zip(gdf["source_id"], gdf.geometry, strict=True))
    assert chunks > 5
    assert set(streamed) == set(whole)
    for name, gdf in whole.items():
        mine = dict(streamed[name])
        assert len(mine) == len(streamed[name]) == len(gdf), name
        theirs = dict(zip(gdf["source_id"], gdf.geometry, strict=True))
        assert mine.keys() == theirs.keys(), name
        for sid, geom in theirs.items():
            assert shapely.equals_exact(shapely.normalize(geom), shapely.normalize(mine[sid]), TOLERANCE_DEG), sid


def test_stream_ingest_stores_the_same_rows():
    """Nanjing ingested both ways into two databases: the same rows per layer, attributes and geometry (1 mm)."""
    import shapely

    path = shared_file(NANJING)
    with scratch_database("gridsvc_stream_a") as url_a, scratch_database("gridsvc_stream_b") as url_b:
        a, b = make_engine(url_a), make_engine(url_b)
        try:
            migrate.upgrade(a)
            migrate.upgrade(b)
            whole = ingest(a, path)
            stages = []
            streamed = ingest_stream(b, path, chunk_size=400, progress=lambda *s: stages.append(s))
            assert {k: v["rows"] for k, v in streamed.counts.items()} == {k: v["rows"] for k, v in whole.counts.items()}
            assert streamed.counts == whole.counts
            assert any(s[0].startswith("reading (nodes and ways)") for s in stages)
            for layer in LAYERS:
                ra, rb = _rows(a, layer), _rows(b, layer)
                assert ra.keys() == rb.keys(), layer
                for sid, row in ra.items():
                    other = rb[sid]
                    assert row[:-1] == other[:-1], (layer, sid)
                    ga, gb = shapely.from_wkb(row[-1]), shapely.from_wkb(other[-1])
                    assert shapely.equals_exact(shapely.normalize(ga), shapely.normalize(gb), TOLERANCE_DEG), (
                        layer, sid)
            # importing the same file again, streamed, changes nothing
            again = ingest_stream(b, path)
            assert all(c["inserted"] == c["updated"] == c["removed"] == 0 for c in again.counts.values())
            with b.connect() as c:
                assert c.execute(text("SELECT count(*) FROM imports")).scalar() == 2
        finally:
            a.dispose()
            b.dispose()


def test_stream_choice_and_bad_files(tmp_path):
    pbf = tmp_path / "x.osm.pbf"
    pbf.write_bytes(b"not a pbf at all" * 10)
    assert streams(pbf, True) and not streams(pbf, None) and not streams(pbf, False)
    with pytest.raises(errors.InputError, match="OSM PBF files only"):
        streams(tmp_path / "shops.csv", True)
    with pytest.raises(errors.InputError, match="--crs"):
        streams(pbf, True, crs="gcj02")
    with pytest.raises(errors.UnreadableFileError, match="not a readable OSM PBF"):
        list(stream_osm(pbf, load_catalogue()))
