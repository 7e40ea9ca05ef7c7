"""Checklists: generated from each duty policy, the data lists, which apply where, and the inspection score."""

import pytest

from gridsvc.errors import InputError, NotFoundError
from gridsvc.ops.rules.checklists import checklists_for, load_checklists, policy_chain, policy_checklist
from gridsvc.zones.policies import list_policies, load_policy


@pytest.mark.parametrize("name", ["三包", "五包", "南京"])
def test_the_generated_policy_checklist_has_each_duty(name):
    policy = load_policy(name)
    checklist = policy_checklist(name)
    assert checklist.generated and checklist.policy == name and checklist.id == f"policy:{name}"
    assert [i.duty for i in checklist.items] == [d.code for d in policy.duties]
    for item, duty in zip(checklist.items, policy.duties, strict=True):
        assert duty.zh in item.text_zh and duty.description in item.text_en
        assert item.category is not None
    assert set(checklist.targets) == {"unit", "zone", "market", "compound"}


def test_sanbao_and_wubao_items():
    assert [i.text_zh for i in policy_checklist("三包").items] == ["环境卫生：责任落实", "秩序：责任落实", "绿化：责任落实"]
    wubao = policy_checklist("五包")
    assert [i.id for i in wubao.items] == ["sanitation", "order", "greenery", "facilities", "appearance"]
    # Failed duties open cases in the categories of categories.toml's [duty_categories].
    assert {i.id: i.category for i in wubao.items} == {
        "sanitation": "SJ0509", "order": "SJ0503", "greenery": "SJ0106", "facilities": "SJ0509", "appearance": "SJ0201"}


def test_a_policy_file_of_ones_own_gets_its_checklist(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('inherits = "三包"\n[[extra_duties]]\ncode = "snow"\nzh = "除雪"\nen = "Snow"\n'
                    'description = "Clear snow and ice."\n'
                    'description_zh = "清除积雪和冰。"\n', encoding="utf-8")
    checklist = policy_checklist(str(path))
    assert [i.id for i in checklist.items] == ["sanitation", "order", "greenery", "snow"]
    assert checklist.items[-1].category == "SJ0509"  # not listed: the default


def test_every_shipped_policy_generates():
    for name in list_policies():
        assert policy_checklist(name).items


def test_the_shirong_list_has_the_ten_disorders():
    shirong = load_checklists()["shirong-shiluan"]
    assert len(shirong.items) == 10 and sum(i.score for i in shirong.items) == 100
    texts = "".join(i.text_zh for i in shirong.items)
    for word in ("乱搭建", "乱摆卖", "乱张贴", "乱涂写", "乱堆放", "乱停放", "乱晾晒", "乱倒垃圾", "乱拉挂", "乱设广告"):
        assert word in texts
    assert all(i.category for i in shirong.items)


def test_the_market_list_samples_monthly_and_posts_on_the_1st_and_15th():
    market = load_checklists()["market"]
    assert market.targets == ("market",)
    food = {i.id: i for i in market.sections[0].items}
    for key, word in (("food.meat", "肉"), ("food.grain_oil", "粮油"), ("food.soy", "豆制品")):
        assert word in food[key].text_zh and food[key].frequency == "monthly"
    assert food["food.posted"].days_of_month == (1, 15) and "1日、15日" in food["food.posted"].text_zh


def test_the_city_list_is_ten_aspects_of_three_items():
    nj = load_checklists()["nanjing-frontage-10x30"]
    assert nj.policy == "南京" and len(nj.sections) == 10 and all(len(s.items) == 3 for s in nj.sections)
    assert sum(i.score for i in nj.items) == 100


@pytest.mark.parametrize(("kind", "policy", "ids"), [
    ("unit", "三包", ["policy:三包", "shirong-shiluan"]),
    ("unit", "五包", ["policy:五包", "shirong-shiluan"]),
    ("unit", "南京", ["policy:南京", "shirong-shiluan", "nanjing-frontage-10x30"]),
    ("market", "三包", ["policy:三包", "market"]),
    ("market", "南京", ["policy:南京", "market", "nanjing-frontage-10x30"]),
    ("compound", "三包", ["policy:三包", "shirong-shiluan"]),
    ("street", "南京", ["shirong-shiluan"]),
    ("point", "三包", ["shirong-shiluan"]),
])
def test_checklists_for(kind, policy, ids):
    assert [c.id for c in checklists_for(kind, policy)] == ids


def test_a_city_list_applies_to_policies_inheriting_from_its_policy(tmp_path):
    path = tmp_path / "南京鼓楼.toml"
    path.write_text('inherits = "南京"\n', encoding="utf-8")
    assert policy_chain(str(path)) == ["南京鼓楼", "南京", "五包", "三包"]
    assert [c.id for c in checklists_for("unit", str(path))] == [
        "policy:南京鼓楼", "shirong-shiluan", "nanjing-frontage-10x30"]


def test_checklists_for_refuses_unknown_kinds_and_policies():
    with pytest.raises(InputError, match="unit, zone, market, compound, street, point"):
        checklists_for("stall", "三包")
    with pytest.raises(NotFoundError, match="北京"):
        checklists_for("unit", "北京")


def test_the_inspection_score():
    market = load_checklists()["market"]  # ten items of 10 points
    assert market.score({i.id: "pass" for i in market.items}) == 100.0
    assert market.score({"food.meat": "fail", "food.soy": "pass"}) == 50.0
    everything = {i.id: "pass" for i in market.items} | {"food.posted": "fail", "food.lab": "na"}
    assert market.score(everything) == round(100 * 80 / 90, 2) == 88.89
    assert market.score({"food.meat": "na"}) is None
    unscored = policy_checklist("三包")  # one each
    assert unscored.score({"sanitation": "pass", "order": "fail", "greenery": "pass"}) == 66.67
    with pytest.raises(InputError, match="no item 'cleanliness'"):
        unscored.score({"cleanliness": "pass"})
    with pytest.raises(InputError, match="pass, fail or na"):
        unscored.score({"order": "ok"})
