"""Tests for gridsvc.exporters.walk_order.walking_order on synthetic streets near Nanjing."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point

from gridsvc.errors import InputError, MissingColumnsError
from gridsvc.exporters.walk_order import COLUMNS, walking_order

UTM50 = 32650
ORIGIN = (668_000.0, 3_547_000.0)  # UTM 50N metres, Nanjing (about 118.78 E, 32.04 N)
_TO_WGS = pyproj.Transformer.from_crs(UTM50, 4326, always_xy=True)


def _wgs(x: float, y: float) -> tuple[float, float]:
    """Local metres (east, north of ORIGIN) to WGS84 lng/lat."""
    return _TO_WGS.transform(ORIGIN[0] + x, ORIGIN[1] + y)


def _line(*xy) -> LineString:
    return LineString([_wgs(x, y) for x, y in xy])


def _streets() -> gpd.GeoDataFrame:
    """Two parallel east-west streets 100 m apart and a north-south cross street."""
    return gpd.GeoDataFrame(
        {"id": [10, 20, 30], "name": ["中山路", "北京路", "湖南路"]},
        geometry=[_line((0, 0), (200, 0)), _line((0, 100), (200, 100)), _line((100, -20), (100, 120))],
        crs=4326,
    )


def _units() -> gpd.GeoDataFrame:
    """Shops 12 m either side of each street (none near the crossings)."""
    rows = []
    uid = 1
    for street_y in (0, 100):
        for x in (20, 50, 80, 120, 150, 180):
            for off in (12, -12):
                rows.append((uid, x, street_y + off))
                uid += 1
    for y in (30, 50, 70):
        for off in (12, -12):
            rows.append((uid, 100 + off, y))
            uid += 1
    return gpd.GeoDataFrame({"id": [r[0] for r in rows], "name": [f"商户{r[0]}" for r in rows]},
                            geometry=[Point(_wgs(r[1], r[2])) for r in rows], crs=4326)


def _metric_xy(units: gpd.GeoDataFrame, ids) -> np.ndarray:
    pts = units.set_index("id").loc[list(ids)].geometry.to_crs(UTM50)
    return np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])


def _walk_length(units: gpd.GeoDataFrame, ids) -> float:
    xy = _metric_xy(units, ids)
    return float(np.hypot(*np.diff(xy, axis=0).T).sum())


def test_columns_and_permutation():
    units = _units()
    out = walking_order(units, _streets())
    assert list(out.columns) == COLUMNS
    assert list(out["seq"]) == list(range(1, len(units) + 1))
    assert sorted(out["unit_id"]) == sorted(units["id"])
    assert out["street_id"].notna().all()
    assert set(out["side"]) == {"left", "right"}


def test_each_street_is_one_side_up_then_the_other_back():
    out = walking_order(_units(), _streets())
    blocks = (out["street_id"] != out["street_id"].shift()).cumsum()
    assert blocks.nunique() == 3, "each street is walked in one go"
    for _, block in out.groupby(blocks):
        sides = block["side"].tolist()
        switch = [i for i in range(1, len(sides)) if sides[i] != sides[i - 1]]
        assert len(switch) == 1, f"one side then the other, got {sides}"
        first, second = block.iloc[: switch[0]], block.iloc[switch[0]:]
        assert first["side"].nunique() == 1 and second["side"].nunique() == 1
        up = np.diff(first["station_m"].to_numpy())
        back = np.diff(second["station_m"].to_numpy())
        assert (up > 0).all() or (up < 0).all()
        assert np.sign(back[0]) == -np.sign(up[0]) and (np.sign(back) == np.sign(back[0])).all(), \
            "back down the other side, in the opposite direction"


def test_starts_near_south_west_corner_and_chains_streets():
    units = _units()
    out = walking_order(units, _streets())
    first = out.iloc[0]
    assert first["street_id"] == 10 and first["station_m"] == pytest.approx(20.0, abs=0.5)
    assert first["side"] == "right"  # south side of an eastbound street: shops on the right hand
    assert out["leg_m"].iloc[0] == 0.0
    # back at the west end of 中山路, the west end of 北京路 (76 m) is nearer than 湖南路's (94 m)
    assert list(dict.fromkeys(out["street_id"])) == [10, 20, 30]


def test_shorter_than_random_orders():
    units = _units()
    out = walking_order(units, _streets())
    ours = _walk_length(units, out["unit_id"])
    assert out["leg_m"].sum() == pytest.approx(ours, abs=1.0)
    rng = np.random.default_rng(7)
    randoms = [_walk_length(units, rng.permutation(units["id"].to_numpy())) for _ in range(30)]
    assert ours < min(randoms)
    assert ours < 0.5 * float(np.mean(randoms))


def test_given_start_point():
    out = walking_order(_units(), _streets(), start=_wgs(200, 110))
    first = out.iloc[0]
    assert first["street_id"] == 20 and first["station_m"] == pytest.approx(180.0, abs=0.5)


def test_units_far_from_streets_go_last_by_nearest_neighbour():
    units = _units()
    far = gpd.GeoDataFrame({"id": [901, 902, 903], "name": ["远1", "远2", "远3"]},
                           geometry=[Point(_wgs(400, 0)), Point(_wgs(300, 0)), Point(_wgs(310, 10))], crs=4326)
    out = walking_order(pd.concat([units, far], ignore_index=True), _streets())
    tail = out.tail(3)
    assert tail["street_id"].isna().all() and tail["side"].isna().all() and tail["station_m"].isna().all()
    assert list(tail["unit_id"]) == [902, 903, 901]


def test_given_street_and_side_are_kept_and_centerline_column_is_used():
    units = _units()
    units["street_id"] = None
    units["side"] = None
    units.loc[0, ["street_id", "side"]] = [30, "LEFT"]
    streets = pd.DataFrame({"id": [10, 20, 30], "name": ["中山路", "北京路", "湖南路"],
                            "centerline": list(_streets().geometry)})
    out = walking_order(units, streets)
    row = out.set_index("unit_id").loc[1]
    assert row["street_id"] == 30 and row["side"] == "left" and row["street_name"] == "湖南路"


def test_split_street_rows_are_merged():
    streets = gpd.GeoDataFrame({"id": [10, 10, 20, 30], "name": ["中山路", None, "北京路", "湖南路"]},
                               geometry=[_line((0, 0), (100, 0)), _line((100, 0), (200, 0)),
                                         _line((0, 100), (200, 100)), _line((100, -20), (100, 120))], crs=4326)
    out = walking_order(_units(), streets)
    on_a = out[out["street_id"] == 10]
    assert len(on_a) == 12 and (on_a["street_name"] == "中山路").all()
    assert on_a["station_m"].max() == pytest.approx(180.0, abs=0.5)


def test_deterministic_and_independent_of_input_order():
    units = _units()
    a = walking_order(units, _streets())
    b = walking_order(units.sample(frac=1.0, random_state=3), _streets().iloc[::-1])
    pd.testing.assert_frame_equal(a, b)


def test_errors():
    units = _units()
    with pytest.raises(MissingColumnsError):
        walking_order(units.drop(columns="id"), _streets())
    with pytest.raises(InputError, match="duplicate"):
        walking_order(pd.concat([units, units.head(1)]), _streets())
    bad = units.assign(street_id=99)
    with pytest.raises(InputError, match="not among the streets"):
        walking_order(bad, _streets())
    with pytest.raises(InputError, match="side"):
        walking_order(units.assign(street_id=10, side="north"), _streets())


def test_empty_units():
    out = walking_order(_units().head(0), _streets())
    assert list(out.columns) == COLUMNS and len(out) == 0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-100, 300), st.floats(-100, 200)), min_size=1, max_size=25),
       st.randoms(use_true_random=False))
def test_output_is_a_permutation_of_the_input_ids(coords, rnd):
    ids = rnd.sample(range(1, 10_000), len(coords))
    units = gpd.GeoDataFrame({"id": ids}, geometry=[Point(_wgs(x, y)) for x, y in coords], crs=4326)
    out = walking_order(units, _streets())
    assert sorted(out["unit_id"]) == sorted(ids)
    assert list(out["seq"]) == list(range(1, len(ids) + 1))
    assert (out["leg_m"] >= 0).all()
