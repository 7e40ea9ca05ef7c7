"""Province-size inputs: peak memory and time of the streaming OSM ingest against the pyrosm path.

`python -m bench.ingest_stream [--sizes 1,10,100,400] [--pyrosm-max 100]` writes bench/results/ingest_stream.json.
The input is the Nanjing PBF tiled N times (`tiled_pbf`: every node, way and relation copied with shifted
coordinates and fresh ids, in a temporary directory, never in the repo). Each ingest runs in its own process into
its own fresh database, so the peak RSS (getrusage) is that ingest's alone.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from .run import RESULTS, fresh_engine
from .tiling import NANJING

ID_STRIDE = 10_000_000_000  # copy k's ids are the original's + k * ID_STRIDE (above every OSM id today)


def tiled_pbf(n: int, out: Path, source: Path = NANJING) -> Path:
    """The source PBF's objects n times on a near-square grid of copies (as bench/tiling lays out layers)."""
    import osmium

    nodes, ways, rels = [], [], []
    for o in osmium.FileProcessor(str(source)):
        tags = {t.k: t.v for t in o.tags}
        if o.is_node():
            nodes.append((o.id, o.location.lon, o.location.lat, tags))
        elif o.is_way():
            ways.append((o.id, [r.ref for r in o.nodes], tags))
        elif o.is_relation():
            rels.append((o.id, [(m.type, m.ref, m.role) for m in o.members], tags))
    x0, x1 = min(x for _, x, _, _ in nodes), max(x for _, x, _, _ in nodes)
    y0, y1 = min(y for _, _, y, _ in nodes), max(y for _, _, y, _ in nodes)
    dx, dy = (x1 - x0) * 1.02, (y1 - y0) * 1.02
    cols = math.ceil(math.sqrt(n))
    out.unlink(missing_ok=True)
    w = osmium.SimpleWriter(str(out))
    try:
        from osmium.osm.mutable import Node, Relation, Way

        for k in range(n):
            ox, oy, off = (k % cols) * dx, (k // cols) * dy, k * ID_STRIDE
            for i, x, y, tags in nodes:
                w.add_node(Node(id=i + off, location=(x + ox, y + oy), tags=tags, version=1))
        for k in range(n):
            off = k * ID_STRIDE
            for i, refs, tags in ways:
                w.add_way(Way(id=i + off, nodes=[r + off for r in refs], tags=tags, version=1))
        for k in range(n):
            off = k * ID_STRIDE
            for i, members, tags in rels:
                w.add_relation(Relation(id=i + off, members=[(t, r + off, role) for t, r, role in members],
                                        tags=tags, version=1))
    finally:
        w.close()
    return out


def one(mode: str, pbf: Path, url: str) -> dict:
    """Ingest pbf into the database at url, in this process: seconds, peak RSS, rows per layer."""
    from gridsvc.city.ingest import ingest, ingest_stream
    from gridsvc.db.engine import make_engine

    engine = make_engine(url)
    t = time.perf_counter()
    report = ingest_stream(engine, pbf) if mode == "stream" else ingest(engine, pbf)
    seconds = time.perf_counter() - t
    engine.dispose()
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "rows": {k: v["rows"] for k, v in report.counts.items()}}


def measure(mode: str, pbf: Path) -> dict:
    """`one` in a child process on a fresh benchmark database (dropped afterwards)."""
    cluster, name, engine = fresh_engine()
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    try:
        proc = subprocess.run([sys.executable, "-m", "bench.ingest_stream", "--one", mode, "--pbf", str(pbf),
                               "--url", url], capture_output=True, text=True, timeout=3600)
    finally:
        cluster.drop_database(name)
    if proc.returncode != 0:
        return {"error": proc.stderr[-1500:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1,10,100,400")
    ap.add_argument("--pyrosm-max", type=int, default=100, help="largest size the pyrosm path is run at")
    ap.add_argument("--one", choices=("stream", "pyrosm"))
    ap.add_argument("--pbf", type=Path)
    ap.add_argument("--url")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.pbf, args.url)))
        return
    result = {"started": datetime.now(UTC).isoformat(timespec="seconds"),
              "machine": {"python": sys.version.split()[0], "platform": platform.platform(),
                          "load_avg": list(__import__("os").getloadavg())},
              "input": f"{NANJING.name} tiled N times (bench/ingest_stream.py)", "sizes": {}}
    with tempfile.TemporaryDirectory(prefix="gridsvc-bench-pbf-") as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            t = time.perf_counter()
            pbf = tiled_pbf(n, Path(tmp) / f"nanjing_x{n}.osm.pbf")
            row = {"pbf_mb": round(pbf.stat().st_size / 2**20, 1), "make_pbf_s": round(time.perf_counter() - t, 1)}
            # pyrosm and the stream alternate, so a busy machine slows both alike
            row["stream"] = measure("stream", pbf)
            if n <= args.pyrosm_max:
                row["pyrosm"] = measure("pyrosm", pbf)
                if "error" not in row["pyrosm"] and "error" not in row["stream"]:
                    row["same_rows"] = row["pyrosm"]["rows"] == row["stream"]["rows"]
                    row["rss_ratio_pyrosm_over_stream"] = round(
                        row["pyrosm"]["peak_rss_mb"] / row["stream"]["peak_rss_mb"], 2)
                    row["time_ratio_stream_over_pyrosm"] = round(row["stream"]["seconds"] / row["pyrosm"]["seconds"], 2)
            result["sizes"][f"{n}x"] = row
            print(f"{n}x: {json.dumps(row)}", flush=True)
            pbf.unlink()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ingest_stream.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"wrote {RESULTS / 'ingest_stream.json'}")


if __name__ == "__main__":
    main()
