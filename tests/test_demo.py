"""`gridsvc demo` end to end: the shipped Helsinki extract, its grid, and a map a person can read."""

from __future__ import annotations

import pytest
from support import ARTIFACTS

from gridsvc.demo import default_extract, run_demo


@pytest.mark.browser
def test_demo_builds_grid_and_writes_an_offline_map(clean_db, tmp_path):
    from gridsvc.maps.browser import open_page

    result = run_demo(clean_db, None, tmp_path / "demo-map.html")
    assert default_extract().exists()
    assert result.ingest.counts["units"]["rows"] > 1000 and result.ingest.counts["streets"]["rows"] > 500
    assert result.grid.cells > 100
    repaired, skipped = result.ingest.fix_summary()["buildings"]  # the extract's broken footprints, counted
    assert repaired > 0 and skipped > 0 and result.ingest.import_id is not None

    def texts(page):
        return page.inner_text(".leaflet-control-attribution"), page.inner_text(".leaflet-control-layers")

    report = open_page(result.map_path, screenshot=ARTIFACTS / "demo-map.png", actions=texts)
    attribution, layer_control = report.action_result
    assert "© OpenStreetMap contributors" in attribution
    for label in ("网格 Grid cells", "街道 Streets", "小区 Compounds", "市场 Markets", "沿街单位 Frontage units"):
        assert label in layer_control
    assert report.console_errors == [] and report.page_errors == [] and report.blocked_requests == []
    assert report.interactive_count > 1000
