"""Schemathesis over the whole OpenAPI of the app, on a Nanjing database of this module's own.

Every operation gets schema-valid (positive) and schema-violating (negative) requests, as an admin (so the write
endpoints are exercised too). Two checks: no 5xx, and every 4xx carries a readable message (`detail` text;
the public unit page's HTML 404 counts as readable). And the run itself is checked: every operation answered
requests in both modes (at least GRIDSVC_FUZZ_MIN each, however the time share went; an operation without any
parameter or body has nothing a negative request could break, and must be such an operation).
Deterministic: a fixed seed (GRIDSVC_FUZZ_SEED).

`make test` runs the bounded run (GRIDSVC_FUZZ_EXAMPLES=10 per operation and mode, under a minute);
`make fuzz` the long one (GRIDSVC_FUZZ_EXAMPLES=200, GRIDSVC_FUZZ_SECONDS=600: about 10 minutes). A failure prints each failing
request as a curl command to reproduce it.
"""

from __future__ import annotations

import os
import time
import traceback
from collections import Counter
from collections.abc import Iterator

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from samples import PNG
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from sqlalchemy import text
from support import bearer, load_nanjing, scratch_database

from gridsvc.api.app import create_app
from gridsvc.db import migrate
from gridsvc.db.engine import make_engine

LOGIN = ("fuzz-login", "fuzz-login-password-1")
EXAMPLES = int(os.environ.get("GRIDSVC_FUZZ_EXAMPLES", "10"))
SECONDS = float(os.environ.get("GRIDSVC_FUZZ_SECONDS", "60"))
SEED = int(os.environ.get("GRIDSVC_FUZZ_SEED", "20261123"))
MIN_PER_MODE = int(os.environ.get("GRIDSVC_FUZZ_MIN", "3"))  # answers per operation and mode, whatever the time
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


@pytest.fixture(scope="module")
def fuzz_engine() -> Iterator:
    """A database of this module's own (writes cannot disturb the other tests): Nanjing, its grid, 三包 zones."""
    with scratch_database("gridsvc_fuzz") as url:
        engine = make_engine(url)
        try:
            migrate.upgrade(engine)
            load_nanjing(engine, zones="三包")
            with engine.begin() as c:  # a party and a planner-drawn zone, so the edit endpoints find something
                c.execute(text("INSERT INTO parties (kind, ref, name, phone) VALUES ('street_steward', 'fuzz:1', "
                               "'模糊测试管家', '13800000000')"))
            yield engine
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def fuzz_app(fuzz_engine, tmp_path_factory):
    app = create_app(fuzz_engine)
    app.state.upload_dir = tmp_path_factory.mktemp("fuzz-uploads")
    return app


FACTS_SQL = {
    "zones": "SELECT zone_id FROM zones_current ORDER BY zone_id LIMIT 40",
    "units": "SELECT id FROM units ORDER BY id LIMIT 40",
    "parties": "SELECT id FROM parties ORDER BY id LIMIT 40",
    "codes": "SELECT public_code FROM units ORDER BY id LIMIT 20",
    "grids": "SELECT code FROM grid_cells ORDER BY code LIMIT 20",
    "streets": "SELECT name FROM streets WHERE name IS NOT NULL ORDER BY id LIMIT 20",
    # spots in the residual street space, where a planner's new zone is most often accepted
    "spots": "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM zones_current "
             "WHERE kind = 'street_space' AND provenance = 'auto' ORDER BY area_m2 DESC LIMIT 40) s",
    "bbox": "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) AS e FROM grid_cells) x",
}


def data_facts(engine) -> dict:
    """Real ids, codes, places and uploads of the fuzz database, for requests that reach past the 404s."""
    with engine.connect() as c:
        facts = {k: [tuple(r) if len(r) > 1 else r[0] for r in c.execute(text(q))] for k, q in FACTS_SQL.items()}
        facts["uploads"] = c.execute(text("SELECT sha256 FROM uploads")).scalars().all() or ["0" * 64]
    facts["bbox"] = facts["bbox"][0]
    return facts


def _square(lng: float, lat: float, half_m: float) -> dict:
    dx, dy = half_m / 94_400, half_m / 111_000
    ring = [[lng - dx, lat - dy], [lng + dx, lat - dy], [lng + dx, lat + dy], [lng - dx, lat + dy], [lng - dx, lat - dy]]
    return {"type": "Polygon", "coordinates": [ring]}


def steer_to_the_data(schema, facts: dict) -> None:
    """Half of the generated requests get real layer names, ids, codes, places and zone drawings instead of
    random ones (the other half stay as generated), so the fuzzing reaches the handlers and the writes."""
    from gridsvc.db.layers import LAYERS

    st = hypothesis.strategies
    minx, miny, maxx, maxy = facts["bbox"]
    values = {
        "collectionId": st.sampled_from(list(LAYERS)), "layer": st.sampled_from([*LAYERS, "zones,streets,units"]),
        "featureId": st.sampled_from([str(i) for i in facts["zones"] + facts["units"]]),
        "zone_id": st.sampled_from(facts["zones"]), "id": st.sampled_from(facts["zones"] + facts["units"]),
        "party_id": st.sampled_from(facts["parties"]), "code": st.sampled_from(facts["codes"] + facts["grids"]),
        "grid": st.sampled_from(facts["grids"]), "community": st.sampled_from([g[:12] for g in facts["grids"]]),
        "street": st.sampled_from(facts["streets"]), "unit": st.lists(st.sampled_from(facts["units"]), max_size=3),
        "lng": st.floats(minx, maxx), "lat": st.floats(miny, maxy), "version": st.integers(1, 3),
        "bbox": st.just(f"{minx},{miny},{maxx},{maxy}"), "z": st.just(16), "sha256": st.sampled_from(facts["uploads"]),
        "x": st.integers(54_000, 54_010), "y": st.integers(26_770, 26_780), "q": st.sampled_from(["影", "路", "管家"]),
    }
    zone = st.builds(lambda spot, half, party: {"type": "Feature", "geometry": _square(*spot, half),
                                                "properties": {"party_id": party}},
                     st.sampled_from(facts["spots"]), st.floats(2, 12), st.sampled_from(facts["parties"]))

    def steer(case, real: bool, draws: dict, feature: dict, merge: list):
        if not real:
            return case
        for container in (case.path_parameters, case.query):
            if isinstance(container, dict):
                for key in container.keys() & draws.keys():
                    container[key] = draws[key] if key != "featureId" or "collectionId" not in container else (
                        draws[key] if container["collectionId"] != "cells" else format(0x8a309a6a0a4ffff, "x"))
        path = case.operation.path
        if case.method in ("POST", "PUT", "DELETE") and "collectionId" in (case.path_parameters or {}):
            case.path_parameters["collectionId"] = "zones"  # the one editable collection
            if "featureId" in case.path_parameters:
                case.path_parameters["featureId"] = str(draws["zone_id"])
        if path.startswith(("/zones/{", "/ogc/")) and (case.method in ("PUT", "DELETE")
                                                       or path.endswith(("/split", "/revert"))):
            case.headers = {**(case.headers or {}), "If-Match": "*"}  # else every real edit stops at 428
        if case.method in ("POST", "PUT") and (path.startswith("/zones") and "merge" not in path
                                               and "split" not in path or path.endswith("/items")
                                               or path.endswith("{featureId}")):
            case.body = feature
        elif path == "/zones/merge":
            case.body = {"ids": merge}
        elif path == "/auth/token":
            case.body = {"username": LOGIN[0], "password": LOGIN[1]}
        elif path == "/lookup" and case.method == "POST":
            case.body = {"points": [[draws["lng"], draws["lat"]]] * 3}
        return case

    @schema.hook
    def flatmap_case(context, case):
        return st.builds(steer, st.just(case), st.booleans(), st.fixed_dictionaries(values), zone,
                         st.lists(st.sampled_from(facts["zones"]), min_size=2, max_size=3, unique=True))


def readable_4xx(ctx, response, case) -> None:
    """A 4xx answer says what is wrong in words: JSON with a non-empty `detail` text (or an HTML page)."""
    if not 400 <= response.status_code < 500:
        return None
    ctype = response.headers.get("content-type", [""])
    ctype = ctype[0] if isinstance(ctype, list) else ctype
    if ctype.startswith("text/html"):
        assert response.content.strip(), f"{response.status_code} with an empty HTML page"
        return None
    if ctype.startswith("text/xml"):  # Open311's errors in XML: <errors><error><code/><description/>
        from xml.etree import ElementTree as ET

        assert (ET.fromstring(response.content).findtext("error/description") or "").strip(), response.content[:200]
        return None
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"{response.status_code} without a JSON body: {response.content[:200]!r}") from None
    if isinstance(body, list) and body and isinstance(body[0], dict):  # Open311's errors: [{"code", "description"}]
        body = {"detail": body[0].get("description")}
    detail = body.get("detail") if isinstance(body, dict) else None
    assert isinstance(detail, str) and detail.strip(), f"{response.status_code} without a readable detail: {body}"
    return None


def _where(exc: BaseException) -> str:
    """The innermost gridsvc frame of a traceback."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/gridsvc/" in f.filename]
    return f"at {frames[-1].filename.split('/gridsvc/', 1)[1]}:{frames[-1].lineno} {frames[-1].line}" if frames else ""


def _nothing_to_break(operation) -> bool:
    """True when an operation takes no parameter and no body: no request to it can violate its schema."""
    return not list(operation.iter_parameters()) and not list(operation.body)


def _fuzz_operation(operation, mode: GenerationMode, headers: dict, deadline: float,
                    statuses: Counter) -> list[str]:
    """Run one operation in one mode, counting its answers by status class in `statuses`; past the deadline
    only until it has MIN_PER_MODE answers. The failures as `curl` reproducers."""
    failures: list[str] = []

    @seed(SEED)
    @settings(max_examples=EXAMPLES, deadline=None, database=None, print_blob=False,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case) -> None:
        if time.monotonic() > deadline and statuses.total() >= MIN_PER_MODE:
            return
        curl = case.as_curl_command(headers={"Authorization": "Bearer $TOKEN"})
        try:
            response = case.call(headers=headers)
        except Exception as e:  # the app raised: a 500 in production
            failures.append(f"{operation.label} [{mode.value}] → 500 ({type(e).__name__}: {str(e)[:300]})\n"
                            f"    {curl}\n    {_where(e)}")
            raise
        statuses[response.status_code // 100] += 1
        try:
            case.validate_response(response, checks=[not_a_server_error, readable_4xx], headers=headers)
        except Exception as e:
            failures.append(f"{operation.label} [{mode.value}] → {response.status_code}: "
                            f"{str(e).strip()[:300]}\n    {curl}")
            raise

    try:
        run()
    except hypothesis.errors.Unsatisfiable:  # negative mode of an operation without parameters: nothing to break
        if not (mode == GenerationMode.NEGATIVE and _nothing_to_break(operation)):
            failures.append(f"{operation.label} [{mode.value}]: no request could be generated (Unsatisfiable)")
    except Exception as e:  # the first failure of this operation is recorded; go on with the next one
        if not failures:
            failures.append(f"{operation.label} [{mode.value}]: {type(e).__name__}: {str(e)[:500]}")
    return failures


def test_no_5xx_and_readable_4xx_over_the_whole_api(fuzz_app, fuzz_engine):
    headers = bearer(fuzz_engine, "fuzz-admin", "admin")
    from fastapi.testclient import TestClient

    from gridsvc.people.users import create_user

    with fuzz_engine.begin() as c:
        create_user(c, *LOGIN[:1], "planner", LOGIN[1])
    assert TestClient(fuzz_app, headers=headers).post("/uploads", files={"file": ("a.png", PNG)}).status_code == 201
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    steer_to_the_data(schema, data_facts(fuzz_engine))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40, "every router is in the OpenAPI"
    start = time.monotonic()
    failures, timings, reached = [], {}, {}
    for i, operation in enumerate(operations):
        share = (start + SECONDS - time.monotonic()) / (len(operations) - i)  # what is left, shared evenly
        t0 = time.monotonic()
        for mode in MODES:
            reached[operation.label, mode] = Counter()
            part = 0.5 if mode == GenerationMode.POSITIVE else 1.0  # positive until half the share, negative the rest
            failures += _fuzz_operation(operation, mode, headers, t0 + max(share, 0.5) * part,
                                        reached[operation.label, mode])
        timings[operation.label] = time.monotonic() - t0
    slowest = sorted(timings.items(), key=lambda kv: -kv[1])[:5]
    print(f"\nfuzzed {len(operations)} operations in {time.monotonic() - start:.1f} s; slowest: "
          + ", ".join(f"{k} {v:.1f} s" for k, v in slowest))
    total = sum(reached.values(), Counter())
    by_operation = {op.label: reached[op.label, MODES[0]] + reached[op.label, MODES[1]] for op in operations}
    print(f"responses: {dict(sorted((f'{k}xx', v) for k, v in total.items()))}; operations never answering 2xx: "
          + (", ".join(k for k, v in by_operation.items() if not v[2]) or "none"))
    assert not failures, "\n".join(failures)
    unanswered = [f"{op.label} [{mode.value}]: {reached[op.label, mode].total()} answer(s)" for op in operations
                  for mode in MODES if reached[op.label, mode].total() < MIN_PER_MODE
                  and not (mode == GenerationMode.NEGATIVE and _nothing_to_break(op))]
    assert not unanswered, ("operations the fuzzing did not really reach (fewer answers than GRIDSVC_FUZZ_MIN="
                            f"{MIN_PER_MODE}):\n" + "\n".join(unanswered))


@pytest.mark.parametrize(("method", "url", "kwargs"), [
    ("GET", "/exports/pack.zip?grid=", {}),  # an empty grid code meant "everything", then failed (IndexError)
    ("GET", "/exports/pack.zip?grid=%20", {}),
    ("GET", "/exports/boards.pdf?grid=%20", {}),
    ("POST", "/parties", {"json": {"kind": "unit", "name": "\x00"}}),  # NUL: psycopg.DataError
    ("GET", "/exports/layers/admin_units.kml?street=淮海路", {}),  # NaN h3 of the admin units: ValueError
    ("GET", "/exports/layers/markets.gpkg?street=汉中路", {}),  # an empty layer kept a "geom" column: FieldError
])
def test_what_fuzzing_found_stays_fixed(fuzz_app, fuzz_engine, method, url, kwargs):
    from fastapi.testclient import TestClient

    client = TestClient(fuzz_app, headers=bearer(fuzz_engine, "fuzz-admin", "admin"))
    r = client.request(method, url, **kwargs)
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        assert isinstance(r.json()["detail"], str)
