"""Inspections without a database: the inspector kinds file, every item answered exactly once, the derived score with
known figures, the category a failed item opens a case in, and the checklist lookup by id."""

from __future__ import annotations

import pytest

from gridsvc.errors import InputError, NotFoundError
from gridsvc.ops.inspections import core
from gridsvc.ops.rules.checklists import Checklist, Item, Section, get_checklist
from gridsvc.ops.rules.files import forget

# A hand-made checklist with uneven scores: 10 + 20 + 30 + 40 = 100 points.
SCORED = Checklist(id="t", zh="测试", en="test", targets=("unit",), sections=(
    Section(id="a", zh="甲", en="A", items=(Item(id="a1", text_zh="一", text_en="one", score=10, category="SJ0102"),
                                           Item(id="a2", text_zh="二", text_en="two", score=20))),
    Section(id="b", zh="乙", en="B", items=(Item(id="b1", text_zh="三", text_en="three", score=30),
                                           Item(id="b2", text_zh="四", text_en="four", score=40))),
))


def _answers(checklist, **results):
    return core.answers(checklist, [{"item": k, "result": v} for k, v in results.items()])


def test_score_is_passed_points_over_points_not_na():
    done = _answers(SCORED, a1="pass", a2="fail", b1="na", b2="pass")
    figures = core.score(SCORED, done)
    # passed 10 + 40 of 10 + 20 + 40 checked (b1 n.a.)
    assert figures == {"score": 50, "max_score": 70, "percent": round(100 * 50 / 70, 2), "items_total": 4,
                       "items_failed": 1, "passed": False}


def test_all_passed_and_all_na():
    assert core.score(SCORED, _answers(SCORED, a1="pass", a2="pass", b1="pass", b2="na")) == {
        "score": 60, "max_score": 60, "percent": 100.0, "items_total": 4, "items_failed": 0, "passed": True}
    assert core.score(SCORED, _answers(SCORED, a1="na", a2="na", b1="na", b2="na")) == {
        "score": None, "max_score": None, "percent": None, "items_total": 4, "items_failed": 0, "passed": True}


def test_a_checklist_without_scores_counts_items():
    checklist = get_checklist("policy:三包")  # generated: sanitation, order, greenery, no scores
    figures = core.score(checklist, _answers(checklist, sanitation="pass", order="fail", greenery="pass"))
    assert figures == {"score": None, "max_score": None, "percent": 66.67, "items_total": 3, "items_failed": 1,
                       "passed": False}


def test_every_item_exactly_once_one_error_naming_all():
    with pytest.raises(InputError) as err:
        core.answers(SCORED, [{"item": "a1", "result": "pass"}, {"item": "a1", "result": "fail"},
                              {"item": "zz", "result": "pass"}, {"item": "b1", "result": "maybe"},
                              {"item": "a2", "result": "pass", "open_case": True}])
    text = str(err.value)
    assert text.startswith("results: ")
    assert "results[3] (item 'b1'): result must be pass, fail or na, got 'maybe'" in text
    assert "results[4] (item 'a2'): open_case is for a failed item, this one is pass" in text
    assert "has no item 'zz'" in text
    assert "item 'a1' answered more than once" in text
    assert "item 'b2' not answered" in text


def test_answers_come_back_in_the_checklists_order():
    done = _answers(SCORED, b2="pass", a1="fail", b1="na", a2="pass")
    assert [a.item.id for a in done] == ["a1", "a2", "b1", "b2"]


def test_case_category_of_an_item():
    assert core.item_category(SCORED.item("a1")) == "SJ0102"
    assert core.item_category(SCORED.item("a2"), "SJ0101") == "SJ0101"
    with pytest.raises(InputError, match="item 'a2' names no case category"):
        core.item_category(SCORED.item("a2"))
    with pytest.raises(InputError, match="unknown case category 'XX9999'"):
        core.item_category(SCORED.item("a1"), "XX9999")
    duty = get_checklist("policy:三包").item("sanitation")  # a generated duty item: categories.toml's duty category
    assert core.item_category(duty) == "SJ0509"


def test_checklists_by_id():
    assert get_checklist("policy:五包").generated and len(get_checklist("policy:五包").items) == 5
    assert get_checklist("market").targets == ("market",)
    with pytest.raises(NotFoundError) as err:
        get_checklist("policy:月球")
    assert "checklists: policy:三包" in str(err.value) and "shirong-shiluan" in str(err.value)


def test_inspector_kinds_are_data_with_labels():
    kinds = core.load_inspector_kinds()
    assert tuple(kinds) == core.INSPECTOR_KINDS
    assert kinds["compound_head"].zh == "楼院长" and kinds["chengguan"].zh == "城管队员"
    with pytest.raises(InputError, match="unknown inspector kind 'boss'; kinds: grid_officer"):
        core.known_inspector_kind("boss")


@pytest.mark.parametrize(("old", "new", "says"), [
    ('code = "leader"', 'code = "grid_officer"', "kinds[5] (code 'grid_officer'): duplicate code"),
    ('code = "leader"', 'code = "mayor"', "unknown kind 'mayor'"),
    ('zh = "志愿者"', 'zhh = "志愿者"', "kinds[3] (code 'volunteer').zh: Field required"),
])
def test_a_broken_kinds_file_is_named(geodata, old, new, says):
    path = geodata / "ops" / "inspector_kinds.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    forget()
    with pytest.raises(InputError) as err:
        core.load_inspector_kinds()
    assert "inspector_kinds.toml" in str(err.value) and says in str(err.value)
