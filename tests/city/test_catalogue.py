"""The tag catalogue: which tagged objects are duty holders, and how an unnamed unit is labelled."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point
from support import NANJING, shared_file

from gridsvc.city.catalogue import load_catalogue, parse_catalogue
from gridsvc.errors import InputError
from gridsvc.exporters.unit_boards import unit_names
from gridsvc.geo import osm_tags
from gridsvc.settings import get_settings

CAT = load_catalogue()


def _tagged(rows: list[dict]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=[Point(118.78 + i * 1e-4, 32.04) for i in range(len(rows))],
                            crs=4326)


def test_atms_vending_machines_and_lockers_are_not_units_but_their_bank_is():
    gdf = _tagged([{"amenity": "atm", "name": None, "operator": "中国银行"},
                   {"amenity": "atm", "name": "工商银行ATM"},
                   {"amenity": "vending_machine", "name": None},
                   {"amenity": "parcel_locker", "name": "丰巢快递柜"},
                   {"shop": "vending_machine", "name": None},
                   {"amenity": "bank", "name": "中国银行新街口支行"},
                   {"shop": "convenience", "name": None}])
    tags = osm_tags.tag_table(gdf)
    units = osm_tags.classify(tags, gdf.geom_type, CAT)["units"]
    assert units.tolist() == [False, False, False, False, False, True, True]


@pytest.mark.shared
def test_real_extract_has_no_atm_or_vending_machine_units():
    from gridsvc.city.ingest import read_source

    units = read_source(shared_file(NANJING))[0]["units"]
    assert len(units) > 150
    assert not units["category"].isin([f"{k}={v}" for k, v in CAT.unit_not_holders]).any()
    assert (units["category"] == "amenity=bank").sum() >= 10  # the banks stay


@pytest.mark.parametrize(("name", "category", "label"), [
    (None, "shop=convenience", "未命名 便利店"),
    ("", "amenity=bank", "未命名 银行网点"),
    ("  ", "office=government", "未命名 机关"),
    (None, "shop=some_new_kind", "未命名 商店"),  # by its key
    (None, "craft=carpenter", "未命名 单位"),
    (None, "餐饮", "未命名 餐饮"),  # a ledger's own category
    (None, None, "未命名 单位"),
    ("老王面馆", "amenity=restaurant", "老王面馆"),
])
def test_unnamed_units_are_labelled_in_chinese_by_their_kind(name, category, label):
    assert CAT.unit_label(name, category) == label


def test_every_kind_label_is_chinese_and_every_unit_amenity_has_one():
    assert all(not any("a" <= ch.lower() <= "z" for ch in v) or v == "KTV" for v in CAT.kind_labels.values())
    missing = [a for a in CAT.unit_amenities if f"amenity={a}" not in CAT.kind_labels]
    assert not missing, missing


def test_boards_checklists_and_packs_read_the_kind_not_the_tag():
    units = gpd.GeoDataFrame({"id": [101, 102, 103], "name": [None, "老王面馆", None],
                              "category": ["shop=convenience", "amenity=restaurant", None]},
                             geometry=[Point(0, 0)] * 3, crs=4326)
    names = unit_names(units).tolist()
    assert names == ["未命名 便利店", "老王面馆", "未命名 单位"]
    assert not any("=" in n or "Unnamed" in n for n in names)


def test_a_malformed_not_holder_names_the_key(tmp_path):
    text = (get_settings().geodata_dir / "catalogue.toml").read_text(encoding="utf-8")
    bad = tmp_path / "catalogue.toml"
    bad.write_text(text.replace('"amenity=atm",', '"atm",', 1), encoding="utf-8")
    with pytest.raises(InputError) as err:
        parse_catalogue(bad)
    assert "units.not_holders" in str(err.value) and "'atm'" in str(err.value) and str(bad) in str(err.value)
