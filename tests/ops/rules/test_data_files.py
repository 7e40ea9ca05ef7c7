"""Every geodata/ops file loads and passes its cross-checks; a broken copy fails naming the file and the entry."""

from pathlib import Path

import pytest

from gridsvc.errors import InputError
from gridsvc.ops.rules.categories import load_categories, load_departments
from gridsvc.ops.rules.checklists import load_checklists
from gridsvc.ops.rules.escalation import load_escalation
from gridsvc.ops.rules.files import forget
from gridsvc.ops.rules.limits import STAGES, URGENCIES, load_time_limits
from gridsvc.ops.rules.loader import load_rules
from gridsvc.ops.rules.ratings import load_ratings


def edit(path: Path, old: str, new: str) -> None:
    """Replace the first `old` (which must be there) by `new` in a file."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_every_file_loads_and_cross_checks():
    rules = load_rules()
    assert {"sanitation", "greening", "market", "enforcement", "housing", "traffic_police", "subdistrict"} <= set(
        rules.departments)
    assert set(rules.checklists) == {"shirong-shiluan", "market", "nanjing-frontage-10x30"}
    assert [lv.code for lv in rules.escalation.levels] == ["grid", "community", "subdistrict", "department_leader"]
    assert [b.code for b in rules.ratings.boards] == ["black", "red", "yellow"]


def test_the_classification():
    cats = load_categories()
    majors = {(c.kind, c.zh) for c in cats.majors}
    assert {("component", z) for z in ("公用设施", "道路交通", "市容环境", "园林绿化", "房屋土地", "其他设施")} <= majors
    assert {("event", z) for z in ("市容环境", "宣传广告", "施工管理", "突发事件", "街面秩序", "市场监管", "房屋土地")} <= majors
    by_zh = {c.zh: c for c in cats.minors}
    for name in ("暴露垃圾", "乱堆物堆料", "店外经营", "占道经营", "乱张贴（非法小广告）", "乱晾晒", "违法建设",
                 "门前三包责任不落实", "雨水井盖"):
        assert name in by_zh, name
    assert 40 <= len(cats.minors) <= 100
    departments = load_departments()
    for c in cats.by_code.values():
        assert c.department in departments and c.urgency in URGENCIES and c.code.startswith(c.major)
    cover = cats.get("BJ0103")
    assert (cover.kind, cover.kind_zh, cover.major_zh, cover.department) == ("component", "部件", "公用设施", "water")
    assert {p.zh: p.urgency for p in cover.problems} == {"缺失": "urgent", "破损": "urgent", "移位": "normal"}
    assert cats.get("SJ0509").department == "subdistrict"        # its own department
    assert cats.get("SJ0502").department == "enforcement"        # the major class's
    assert cats.get("SJ0401").urgency == "urgent"                 # 突发事件 are urgent by default
    with pytest.raises(InputError, match="XX0101"):
        cats.get("XX0101")


def test_every_category_has_every_limit():
    limits, cats = load_time_limits(), load_categories()
    for c in cats.minors:
        for urgency in URGENCIES:
            case = limits.for_case(c.code, urgency)
            assert all(case.get(stage) is not None for stage in STAGES)
    assert str(limits.for_case("SJ0102", "normal").handle) == "1 working_day"    # 暴露垃圾
    assert str(limits.for_case("BJ0101", "urgent").handle) == "2 hours"          # 井盖缺失
    assert str(limits.for_case("SJ0701", "normal").handle) == "15 working_days"  # 违法建设
    urgent, normal = limits.for_case("SJ0503", "urgent"), limits.for_case("SJ0503", "normal")
    assert (str(urgent.register), str(urgent.dispatch)) == ("10 minutes", "10 minutes")
    assert (str(normal.register), str(normal.dispatch)) == ("30 minutes", "30 minutes")
    assert normal.sources == {"register": "default", "dispatch": "default", "handle": "SJ0503", "verify": "default"}
    assert limits.for_case("SJ0502", "normal").sources["handle"] == "SJ05"  # from its major class


# (file, old text, new text, what the message must name)
BROKEN = [
    ("bulletins.toml", 'denominator = "due"\ndecimals = 1\ntarget = { op = ">=", value = 90 }',
     'denominator = "cases"\ndecimals = 1\ntarget = { op = ">=", value = 90 }',
     ["bulletins.toml", "indicators.close_rate.denominator", "'cases' is not a count"]),
    ("bulletins.toml", '[counts.rectified]', '[counts.fixed]', ["bulletins.toml", "counts", "missing rectified",
                                                               "unknown fixed"]),
    ("bulletins.toml", '{ key = "close_rate", order = "desc" }', '{ key = "close_rate", order = "down" }',
     ["bulletins.toml", "ranking.keys[0].order"]),
    ("bulletins.toml", 'grid = 2\n', 'grids = 2\n', ["bulletins.toml", "last_places.grids", "unknown level"]),
    ("departments.toml", 'code = "market"', 'code = "sanitation"',
     ["departments.toml", "departments[5] (code 'sanitation')", "duplicate"]),
    ("categories.toml", 'zh = "暴露垃圾"\nen = "Exposed rubbish"',
     'zh = "暴露垃圾"\nen = "Exposed rubbish"\ndepartment = "nowhere"',
     ["categories.toml", "code 'SJ0102'", "unknown department 'nowhere'"]),
    ("categories.toml", 'code = "SJ0103"', 'code = "SJ0102"',
     ["categories.toml", "code 'SJ0102'", "duplicate category code"]),
    ("categories.toml", 'code = "SJ0103"', 'code = "SJ0203"',
     ["categories.toml", "code 'SJ0203'", "major's code"]),
    ("categories.toml", 'urgency = "urgent"\nsource = "事件大类 04"', 'urgency = "soon"\nsource = "事件大类 04"',
     ["categories.toml", "major[9] (code 'SJ04').urgency", "soon"]),
    ("categories.toml", 'source = "GB/T 30428.2 部件大类 01"', 'sauce = "GB/T 30428.2 部件大类 01"',
     ["categories.toml", "major[0] (code 'BJ01').sauce", "unknown key"]),
    ("categories.toml", 'order = "SJ0503"', 'order = "SJ0599"',
     ["categories.toml", "duty_categories.order", "SJ0599"]),
    ("time_limits.toml", 'category = "SJ0104"', 'category = "SJ0199"',
     ["time_limits.toml", "(category 'SJ0199')", "unknown category"]),
    ("time_limits.toml", 'category = "SJ0104"', 'category = "SJ0102"',
     ["time_limits.toml", "(category 'SJ0102')", "already has an entry"]),
    ("time_limits.toml", 'handle = "15 working_days"', 'handle = "15 fortnights"',
     ["time_limits.toml", "(category 'SJ0701').handle", "15 fortnights"]),
    ("time_limits.toml", 'verify = "2 working_hours"', 'verify = "2 working_hours"\nhandle = "1 working_day"',
     ["time_limits.toml", "default.normal.handle", "per category"]),
    ("time_limits.toml", 'periods = [["08:30", "12:00"], ["14:00", "18:00"]]', 'periods = [["08:30", "12:00"], ["11:00", "18:00"]]',
     ["time_limits.toml", "working_day.periods", "period 2"]),
    ("escalation.toml", 'after = "1 working_day"', 'after = "2 working_hours"',
     ["escalation.toml", "levels[2] (code 'subdistrict').after", "longer than"]),
    ("escalation.toml", 'urgent.after = "4 hours"', 'urgent.after = "1 working_day"',
     ["escalation.toml", "levels[2] (code 'subdistrict').urgent.after", "mixes calendar and working"]),
    ("escalation.toml", 'code = "community"', 'code = "street"',
     ["escalation.toml", "levels[1] (code 'street').code"]),
    ("ratings.toml", 'any = ["score_fell", "more_failures"]', 'any = ["score_fell", "more_failure"]',
     ["ratings.toml", "boards[2] (code 'yellow')", "unknown condition 'more_failure'"]),
    ("ratings.toml", 'metric = "cases_escalated"', 'metric = "cases_escalted"',
     ["ratings.toml", "conditions.escalated.metric", "cases_escalted"]),
    ("ratings.toml", 'op = ">="\nvalue = { week = 2, month = 3 }', 'op = ">="\nvalue = { week = 2 }',
     ["ratings.toml", "conditions.repeated_failures.value", "month"]),
    ("ratings.toml", "pledge_signed = 2", "",
     ["ratings.toml", "credit.points", "pledge_signed"]),
    ("ratings.toml", "min_points = 115", "min_points = 135",
     ["ratings.toml", "stars"]),
    ("checklists/shirong.toml", 'category = "SJ0102"', 'category = "SJ9999"',
     ["shirong.toml", "(id '10')", "unknown category 'SJ9999'"]),
    ("checklists/shirong.toml", 'id = "6"', 'id = "5"',
     ["shirong.toml", "(id '5')", "duplicate item id"]),
    ("checklists/market.toml", 'targets = ["market"]', 'targets = ["market", "stall"]',
     ["market.toml", "targets", "stall"]),
    ("checklists/market.toml", "days_of_month = [1, 15]", "days_of_month = [1, 32]",
     ["market.toml", "(id 'food.posted')", "1–31"]),
    ("checklists/market.toml", 'score = 10\ncategory = "SJ0601"', 'category = "SJ0601"',
     ["market.toml", "every item a score, or none"]),
    ("notices.toml", 'escalation = "问题督办单"', 'escalation = ""',
     ["notices.toml", "titles.escalation"]),
    ("notices.toml", "[titles]", "[titles]\nwarning = \"警告\"",
     ["notices.toml", "titles.warning"]),
]


@pytest.mark.parametrize(("file", "old", "new", "named"), BROKEN, ids=[f"{b[0]}:{b[3][-1]}" for b in BROKEN])
def test_a_broken_file_is_named_with_its_entry(geodata, file, old, new, named):
    edit(geodata / "ops" / file, old, new)
    with pytest.raises(InputError) as err:
        load_rules()
    message = str(err.value)
    assert str(geodata / "ops") in message and Path(file).name in message, message
    for part in named:
        assert part in message, f"{part!r} not in {message!r}"


def test_a_missing_major_class_limit_names_the_category(geodata):
    # Without the BJ05 (房屋土地) entry its minor class BJ0501 has no 处置 limit.
    path = geodata / "ops" / "time_limits.toml"
    text = path.read_text(encoding="utf-8")
    start = text.index('[[limit]]\ncategory = "BJ05"')
    path.write_text(text[:start] + text[text.index("[[limit]]", start + 5):], encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_time_limits()
    assert "time_limits.toml" in str(err.value) and "category 'BJ0501'" in str(err.value)
    assert "BJ05" in str(err.value) and "处置" in str(err.value)


def test_a_city_checklist_needs_its_policy(geodata):
    (geodata / "ops" / "checklists" / "cities" / "南京.toml").rename(geodata / "ops" / "checklists" / "cities" / "北京.toml")
    with pytest.raises(InputError) as err:
        load_checklists()
    assert "北京.toml" in str(err.value) and "unknown policy '北京'" in str(err.value)


def test_checklist_ids_are_unique_across_files(geodata):
    edit(geodata / "ops" / "checklists" / "market.toml", 'id = "market"', 'id = "shirong-shiluan"')
    with pytest.raises(InputError, match="shirong.toml: id 'shirong-shiluan': checklist id already used by .*market.toml"):
        load_checklists()


def test_a_missing_or_invalid_file(geodata):
    (geodata / "ops" / "escalation.toml").unlink()
    with pytest.raises(InputError, match="escalation.toml: file not found"):
        load_escalation()
    (geodata / "ops" / "ratings.toml").write_text("periods = [", encoding="utf-8")
    with pytest.raises(InputError, match="ratings.toml: not valid TOML"):
        load_ratings()


def test_an_edited_file_is_read_again(geodata):
    assert str(load_time_limits().for_case("SJ0102", "normal").handle) == "1 working_day"
    edit(geodata / "ops" / "time_limits.toml", 'handle = "1 working_day"   # the published figure',
         'handle = "2 working_days"   # the published figure')
    forget()  # else within STAMP_SECONDS of the last look
    assert str(load_time_limits().for_case("SJ0102", "normal").handle) == "2 working_days"
