"""Tests for 门前三包/五包 policies: shipped files, inheritance, depth rules, errors."""

import re

import pandas as pd
import pytest

from gridsvc.errors import InputError, NotFoundError
from gridsvc.zones.policies import CENTRELINE, EXCLUDED, KERB, list_policies, load_policy, parse_policy


def test_sanbao_has_the_three_duties():
    p = load_policy("三包")
    assert [(d.code, d.zh) for d in p.duties] == [("sanitation", "环境卫生"), ("order", "秩序"), ("greenery", "绿化")]
    assert all(d.en and d.description for d in p.duties)
    assert (p.max_depth_m, p.default_frontage_m, p.max_distance_m, p.market_strip_m) == (15.0, 6.0, 30.0, 10.0)
    assert p.inherits is None
    assert {"primary", "secondary", "tertiary"} <= p.kerb_classes
    assert {"residential", "living_street", "service"} <= p.centreline_classes


def test_wubao_adds_facilities_and_appearance():
    p = load_policy("五包")
    assert [d.zh for d in p.duties] == ["环境卫生", "秩序", "绿化", "设施", "市容"]
    assert p.inherits == "三包"
    assert p.max_depth_m == load_policy("三包").max_depth_m


def test_city_override_inherits_and_changes_values():
    nj, wb = load_policy("南京"), load_policy("五包")
    assert nj.inherits == "五包"
    assert nj.duties == wb.duties  # inherited unchanged
    assert nj.max_depth_m == 10.0 != wb.max_depth_m  # changed
    assert nj.default_frontage_m == wb.default_frontage_m  # inherited
    assert "unclassified" in nj.kerb_classes and "unclassified" in wb.centreline_classes


def test_list_policies_and_unknown_policy_lists_them():
    names = list_policies()
    assert {"三包", "五包", "南京"} <= set(names)
    with pytest.raises(NotFoundError) as err:
        load_policy("北京")
    assert "北京" in str(err.value) and all(n in str(err.value) for n in ("三包", "五包", "南京"))


def test_policy_by_path(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('inherits = "三包"\n[limits]\nmax_distance_m = 50\n', encoding="utf-8")
    p = load_policy(path)
    assert (p.name, p.inherits, p.max_distance_m, len(p.duties)) == ("mine", "三包", 50.0, 3)


@pytest.mark.parametrize(("text", "key"), [
    ('inherits = "三包"\n[limits]\nmax_depth_m = "deep"\n', "limits.max_depth_m"),
    ('inherits = "三包"\n[limits]\nmax_depht_m = 3\n', "limits.max_depht_m"),
    ('inherits = "三包"\n[depth]\nkerb_classes = ["residential"]\n', "depth"),
    ('inherits = "三包"\nduties = 3\n', "duties"),
    ('inherits = "nowhere"\n', "inherits"),
    ("[limits]\nmax_depth_m = 15\n", "limits.default_frontage_m"),
    ("[limits]\nmax_depth_m = 15\ndefault_frontage_m = 6\nmax_distance_m = 30\nmarket_strip_m = 10\n"
     "max_gap_fill_m = 10\n", "duties"),
    ('inherits = "三包"\ncolour = "red"\n', "colour"),
    ("inherits = [", "TOML"),
])
def test_malformed_policy_names_file_and_key(tmp_path, text, key):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        parse_policy(path)
    assert str(path) in str(err.value) and key in str(err.value)


def test_inheritance_cycle_is_an_input_error(tmp_path, monkeypatch):
    (tmp_path / "cities").mkdir()
    (tmp_path / "a.toml").write_text('inherits = "b"\n', encoding="utf-8")
    (tmp_path / "b.toml").write_text('inherits = "a"\n', encoding="utf-8")
    monkeypatch.setattr("gridsvc.zones.policies.policies_dir", lambda: tmp_path)
    with pytest.raises(InputError, match="cycle"):
        load_policy("a")


def test_depth_rules_by_class_with_sidewalk_override():
    p = load_policy("三包")
    cls = pd.Series(["primary", "residential", "residential", "primary", "tertiary", "motorway", "footway", None])
    sidewalk = pd.Series([None, None, "both", "no", "separate", "both", None, "none"])
    assert list(p.depth_rules(cls, sidewalk)) == [KERB, CENTRELINE, KERB, CENTRELINE, KERB, EXCLUDED, KERB,
                                                  CENTRELINE]
    assert list(p.depth_rules(cls)) == [KERB, CENTRELINE, CENTRELINE, KERB, KERB, EXCLUDED, KERB, KERB]


@pytest.mark.parametrize("name", ["三包", "五包", "南京"])
def test_every_duty_has_a_chinese_text_for_chinese_outputs(name):
    for d in load_policy(name).duties:
        assert re.search(r"[\u4e00-\u9fff]", d.description_zh) and not re.search(r"[A-Za-z]", d.description_zh), d
        assert d.description and re.search(r"[A-Za-z]", d.description)  # English stays for bilingual pages
    assert all(set(d) == {"code", "zh", "en", "description_zh", "description"} for d in load_policy(name).duty_list())


def test_duty_without_chinese_text_is_refused_naming_the_key(tmp_path):
    path = tmp_path / "english_only.toml"
    path.write_text('inherits = "三包"\n[[duties]]\ncode = "x"\nzh = "整洁"\nen = "Tidy"\ndescription = "Keep it tidy."\n',
                    encoding="utf-8")
    with pytest.raises(InputError) as err:
        parse_policy(path)
    assert "duties[0]" in str(err.value) and "description_zh" in str(err.value) and str(path) in str(err.value)
