"""The one address placer (gridsvc/ops/addresses.py) on the Nanjing 新街口 fixture: each method with its confidence
from addresses.toml, normalisation, ambiguity, the unit code, and what cannot be placed."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from support import load_nanjing

from gridsvc.errors import InputError
from gridsvc.ops.addresses import (
    Gazetteer,
    Placed,
    load_addresses,
    metres,
    norm,
    place_address,
    place_unit_code,
)


@pytest.fixture(scope="module")
def city(engine):
    load_nanjing(engine)
    with engine.connect() as c:
        return engine, Gazetteer.load(c)


def _place(city, address: str) -> Placed | str:
    engine, gazetteer = city
    with engine.connect() as c:
        return gazetteer.place(c, address)


def _unit(engine, where: str, **params) -> tuple[float, float]:
    with engine.connect() as c:
        return c.execute(text(f"SELECT avg(ST_X(geom)), avg(ST_Y(geom)) FROM units WHERE {where}"), params).one()


def test_norm_folds_full_width_and_drops_spaces():
    assert norm("管家桥８５号") == "管家桥85号"
    assert norm(" 中山 南路　７９ 号 ") == "中山南路79号"
    assert norm("ＷＡＧＡＳ") == "WAGAS" and norm(None) == ""


@pytest.mark.parametrize("address, method, matched", [
    ("中山南路79号", "unit_address", "中央商场"),
    ("南京市秦淮区 中山南路７９号 门口", "unit_address", "中央商场"),  # spaces and full-width digits
    ("金陵中学东门", "feature_name", "金陵中学"),
    ("香铺营集贸市场门口", "feature_name", "香铺营集贸市场"),
    ("汉中路与中山路交叉口", "crossing", "汉中路 × 中山路"),
    ("中山东路302号", "near_number", "中山东路302号"),
    ("玄武区珠江路", "street", "珠江路"),
    ("王府街12号", "street_variant", "王府大街"),
])
def test_each_method_with_its_confidence(city, address, method, matched):
    placed = _place(city, address)
    assert isinstance(placed, Placed), placed
    assert placed.method == method and matched in placed.matched
    assert placed.confidence == getattr(load_addresses().confidence, method)
    assert placed.ambiguous is None
    assert 118.7 < placed.lng < 118.9 and 31.9 < placed.lat < 32.1


def test_unit_address_is_the_unit_or_the_mean_of_the_units_there(city):
    engine, _ = city
    placed = _place(city, "中山南路79号")
    assert metres((placed.lng, placed.lat), _unit(engine, "name = '中央商场'")) < 0.01
    placed = _place(city, "管家桥85号")  # a bank, a supermarket and an office block at one address
    assert placed.method == "unit_address" and "more" in placed.matched
    assert metres((placed.lng, placed.lat), _unit(engine, "address = '管家桥85号'")) < 0.01


def test_near_number_prefers_the_same_side(city):
    placed = _place(city, "中山南路81号")  # no unit at 81: 79 (odd, same side) rather than an even number
    assert placed.method == "near_number" and "No. 79" in placed.matched


def test_an_ambiguous_name_is_not_used(city):
    reason = _place(city, "星巴克门口")  # two 星巴克 ~1.5 km apart, more than ambiguous_within_m
    assert isinstance(reason, str) and "ambiguous" in reason and "星巴克" in reason
    placed = _place(city, "珠江路星巴克")  # the street places it, carrying the ambiguity
    assert placed.method == "street" and "星巴克" in placed.ambiguous
    assert "ambiguous" in placed.as_dict()


def test_settings_are_data(city):
    engine, _ = city
    rules = load_addresses().model_copy(update={"min_feature_name_chars": 4})
    with engine.connect() as c:
        assert "no street" in place_address(c, "星巴克门口", rules)  # 星巴克 is now too short to be a name
        wide = load_addresses().model_copy(update={"ambiguous_within_m": 5000.0})
        assert place_address(c, "星巴克门口", wide).method == "feature_name"


def test_what_cannot_be_placed_says_why(city):
    assert "no street, unit, compound or market" in _place(city, "南京市火星路1号")
    assert _place(city, "  ") == "no coordinates and no address"


def test_place_unit_code(city):
    engine, _ = city
    with engine.connect() as c:
        code = c.execute(text("SELECT public_code FROM units WHERE name = '中央商场'")).scalar_one()
        placed = place_unit_code(c, code)
        assert placed.method == "unit_code" and placed.name == "中山南路79"
        assert metres((placed.lng, placed.lat), _unit(engine, "name = '中央商场'")) < 0.01
        with pytest.raises(InputError, match="no unit with the public code"):
            place_unit_code(c, "nope")


def test_a_broken_file_is_named(geodata):
    path = geodata / "ops" / "addresses.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("street = 0.5", "street = 1.5"), encoding="utf-8")
    with pytest.raises(InputError, match=r"addresses\.toml: confidence\.street"):
        load_addresses()
