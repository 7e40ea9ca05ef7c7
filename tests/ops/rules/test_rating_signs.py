"""红/黄/黑 boards as shown have one home (ratings.toml [signs], read by gridsvc.ops.rules.ratings): the checklist PDF,
the exports, the offline map and the public page read them, and the public page never loads reportlab."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gridsvc.errors import InputError
from gridsvc.exporters.offline_map import rating_colours
from gridsvc.ops.rules.files import ops_dir
from gridsvc.ops.rules.ratings import RATING_CODES, load_ratings, parse_ratings, rating_label
from gridsvc.zones.public_units import rating_info

REPO = Path(__file__).resolve().parents[3]


def test_every_stored_rating_and_no_rating_have_a_sign():
    ratings = load_ratings()
    assert tuple(ratings.rated_signs()) == RATING_CODES
    assert [s.label for s in ratings.signs.values()] == ["红牌", "黄牌", "黑牌", "未评"]
    assert ratings.unrated.zh == "未评级"
    assert [rating_label(v) for v in ("red", "Yellow", "黑", "黑牌", None, "", "未评")] == [
        "红牌", "黄牌", "黑牌", "黑牌", "未评", "未评", "未评"]
    with pytest.raises(InputError, match="red/yellow/black"):
        rating_label("purple")
    assert rating_colours() == {s.label: s.map for s in ratings.rated_signs().values()}


def test_the_public_page_shows_the_sign_of_ratings_toml():
    for code, sign in load_ratings().signs.items():
        info = rating_info(None if code == load_ratings().otherwise else code)
        assert (info["label"], info["en"], info["meaning_zh"]) == (sign.zh, sign.en, sign.meaning_zh)


def test_a_sign_missing_for_a_board_is_named(tmp_path):
    text = (ops_dir() / "ratings.toml").read_text(encoding="utf-8")
    broken = tmp_path / "ratings.toml"
    broken.write_text(text.replace("[signs.yellow]", "[signs.amber]"), encoding="utf-8")
    with pytest.raises(InputError) as err:
        parse_ratings(broken)
    assert "signs" in str(err.value) and "yellow" in str(err.value) and "amber" in str(err.value)


def test_the_public_page_does_not_import_reportlab():
    code = ("import sys\n"
            "import gridsvc.api.public_page, gridsvc.api.routers.public, gridsvc.zones.public_units\n"
            "from gridsvc.zones.public_units import rating_info\n"
            "rating_info('red')\n"
            "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'reportlab')\n"
            "assert not loaded, loaded\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
