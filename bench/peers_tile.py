"""Vector tiles against a peer: gridsvc's tile (gridsvc/db/tiles.py) and the plain ST_AsMVT query that tipg and
Martin serve for a table, on the same layer and tile, interleaved in one run.

`python -m bench.peers_tile [--tiles 70]` builds Nanjing ×N (grid and 三包 zones), times both at z14–z16 over
tiles drawn where the data is, and writes the key "tile" of bench/results/peers.json (read-modify-write: the
other keys of that file belong to other benchmarks).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from datetime import UTC, datetime

from sqlalchemy import text

from gridsvc.db.layer_sql import attribute_exprs, ident
from gridsvc.db.layers import layer_spec
from gridsvc.db.tiles import BUFFER, EXTENT, render_tile, tile_address
from gridsvc.geo.basemap_shift import tile_of

from .run import RESULTS
from .workspace import build

LAYERS = ("zones", "buildings", "units", "streets")
ZOOMS = (14, 15, 16)
# What Martin generates for a table source (and tipg's tile query is the same shape): every row whose bbox meets
# the tile grown by its buffer, transformed and clipped by ST_AsMVTGeom, no simplification of its own.
PLAIN = """
SELECT ST_AsMVT(q, CAST(:layer AS text), :extent, 'geom', '__fid') FROM (
  SELECT t.{key} AS __fid, {attributes},
         ST_AsMVTGeom(ST_Transform(t.geom, 3857), ST_TileEnvelope(:z, :x, :y), :extent, :buffer, true) AS geom
  FROM {table} t
  WHERE t.geom && ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => (CAST(:buffer AS float8) / :extent)), 4326)
) q"""


def plain_tile(conn, name: str, z: int, x: int, y: int) -> bytes:
    spec = layer_spec(name)
    stmt = text(PLAIN.format(key=ident(spec.key), attributes=", ".join(attribute_exprs(spec)), table=ident(spec.table)))
    data = conn.execute(stmt, {"layer": name, "extent": EXTENT, "buffer": BUFFER, "z": z, "x": x, "y": y}).scalar()
    return bytes(data or b"")


def features(tile: bytes) -> int:
    import mapbox_vector_tile

    return sum(len(layer["features"]) for layer in mapbox_vector_tile.decode(tile).values()) if tile else 0


def pick_tiles(engine, per_zoom: int, seed: int = 11) -> list[tuple[int, int, int]]:
    """per_zoom distinct tiles at each zoom, at points inside current zones."""
    with engine.connect() as c:
        pts = c.execute(text("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM zones "
                             "WHERE valid_to IS NULL ORDER BY md5(id::text) LIMIT 2000) s")).all()
    rng = random.Random(seed)
    out = []
    for z in ZOOMS:
        tiles = sorted({(z, *tile_of(x, y, z)) for x, y in pts})
        out += rng.sample(tiles, min(per_zoom, len(tiles)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tiles", type=int, default=70, help="copies of the Nanjing extract")
    ap.add_argument("--per-zoom", type=int, default=8, help="tiles per zoom")
    ap.add_argument("--repeats", type=int, default=15, help="timed renders of each tile by each side")
    args = ap.parse_args()
    cluster, name, engine, built = build(args.tiles)
    result: dict = {"started": datetime.now(UTC).isoformat(timespec="seconds"), "tiles": args.tiles,
                    "what": "gridsvc render_tile vs the plain ST_AsMVT(ST_AsMVTGeom(...)) query of tipg/Martin, "
                            "same layer and tile, interleaved, one connection, median ms",
                    "build": built, "zooms": {}}
    try:
        tiles = pick_tiles(engine, args.per_zoom)
        with engine.connect() as c:
            for z in ZOOMS:
                per_layer = {}
                for layer in LAYERS:
                    ours, theirs, bytes_ours, bytes_theirs, feats_ours, feats_theirs = [], [], 0, 0, 0, 0
                    for tz, x, y in (t for t in tiles if t[0] == z):
                        addr = tile_address(tz, x, y)
                        a, b = render_tile(c, layer_spec(layer), addr), plain_tile(c, layer, tz, x, y)  # warm
                        bytes_ours += len(a)
                        bytes_theirs += len(b)
                        feats_ours += features(a)
                        feats_theirs += features(b)
                        for _ in range(args.repeats):
                            t0 = time.perf_counter()
                            render_tile(c, layer_spec(layer), addr)
                            t1 = time.perf_counter()
                            plain_tile(c, layer, tz, x, y)
                            t2 = time.perf_counter()
                            ours.append(t1 - t0)
                            theirs.append(t2 - t1)
                    m_ours, m_theirs = statistics.median(ours) * 1000, statistics.median(theirs) * 1000
                    per_layer[layer] = {
                        "gridsvc_median_ms": round(m_ours, 3), "plain_median_ms": round(m_theirs, 3),
                        "time_ratio_gridsvc_over_plain": round(m_ours / m_theirs, 2),
                        "gridsvc_bytes": bytes_ours, "plain_bytes": bytes_theirs,
                        "bytes_ratio_gridsvc_over_plain": round(bytes_ours / bytes_theirs, 2) if bytes_theirs else None,
                        "gridsvc_features": feats_ours, "plain_features": feats_theirs,
                        "tiles": sum(1 for t in tiles if t[0] == z), "samples": len(ours)}
                    print(f"z{z} {layer}: {json.dumps(per_layer[layer])}", flush=True)
                result["zooms"][f"z{z}"] = per_layer
    finally:
        engine.dispose()
        cluster.drop_database(name)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "peers.json"
    peers = json.loads(path.read_text()) if path.exists() else {}  # other benchmarks' keys stay as they are
    peers["tile"] = result
    path.write_text(json.dumps(peers, indent=2, ensure_ascii=False))
    print(f"wrote key 'tile' of {path}")


if __name__ == "__main__":
    main()
