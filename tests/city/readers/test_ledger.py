"""Tests for reading shop ledgers from CSV and XLSX."""

import numpy as np
import openpyxl
import pyproj
import pytest
from support import raises_exactly, write_csv, write_xlsx

from gridsvc.city.readers.ledger import CANONICAL, normalize_header, read_ledger
from gridsvc.errors import (
    InputError,
    MissingColumnsError,
    OutsideChinaError,
    SwappedCoordinatesError,
    UnknownCRSError,
    UnreadableFileError,
)
from gridsvc.geo.crs import parse_crs, points_from_wgs84

GEOD = pyproj.Geod(ellps="WGS84")
# Known WGS84 positions in Taiyuan.
WGS_LNG = np.array([112.55, 112.5712, 112.5301])
WGS_LAT = np.array([37.85, 37.8706, 37.8123])
HEADER = ["序号", "商户名称", "详细地址", "负责人", "联系电话", "经度（°）", "纬度（°）", "业态"]


def shop_rows(crs: str) -> list[list]:
    """Header plus three shops with coordinates converted from WGS_LNG/WGS_LAT into crs."""
    x, y = points_from_wgs84(WGS_LNG, WGS_LAT, parse_crs(crs))
    return [
        HEADER,
        ["A001", "老王刀削面", "迎泽大街1号", "王建国", 13812345678, x[0], y[0], "餐饮"],
        ["A002", "晋韵超市", "柳巷2号", "李丽", "0351-4045678", x[1], y[1], "零售"],
        ["A003", "小张修车", "  南内环街3号 ", "张三", "", x[2], y[2], None],
    ]


def metres_off(gdf) -> np.ndarray:
    """Distance of each point from the known WGS84 positions."""
    return np.asarray(GEOD.inv(gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy(), WGS_LNG, WGS_LAT)[2])


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_xlsx_with_chinese_headers_comes_back_within_a_metre(tmp_path, crs):
    path = write_xlsx(tmp_path / f"台账_{crs}.xlsx", shop_rows(crs))
    gdf, notes = read_ledger(path, crs=crs)
    assert gdf.crs.to_epsg() == 4326
    assert list(gdf.columns) == [*CANONICAL, "geometry"]
    assert metres_off(gdf).max() < 1.0
    np.testing.assert_allclose(gdf["lng"], WGS_LNG, atol=1e-7)
    np.testing.assert_allclose(gdf["lat"], WGS_LAT, atol=1e-7)
    assert list(gdf["name"]) == ["老王刀削面", "晋韵超市", "小张修车"]
    assert gdf["address"].iloc[2] == "南内环街3号"  # stripped
    assert list(gdf["source_id"]) == ["A001", "A002", "A003"]
    assert list(gdf["category"][:2]) == ["餐饮", "零售"] and gdf["category"].isna().iloc[2]
    assert any("3 shops read" in n for n in notes)


def test_phone_numbers_stay_strings(tmp_path):
    gdf, _ = read_ledger(write_xlsx(tmp_path / "a.xlsx", shop_rows("wgs84")))
    assert gdf["phone"].iloc[0] == "13812345678"  # numeric cell, no 1.38e10
    assert gdf["phone"].iloc[1] == "0351-4045678"  # leading zero kept
    assert gdf["phone"].isna().iloc[2]
    rows = [
        ["name", "phone", "lng", "lat"],
        ["a", "03514045678", 112.55, 37.85],
        ["b", "1.38E+10", 112.56, 37.86],
    ]
    gdf, notes = read_ledger(write_csv(tmp_path / "b.csv", rows))
    assert list(gdf["phone"]) == ["03514045678", "1.38E+10"]
    assert any("row 3" in n and "scientific notation" in n for n in notes)


def test_gbk_csv_with_full_width_unit_headers(tmp_path):
    x, y = points_from_wgs84(WGS_LNG, WGS_LAT, parse_crs("gcj02"))
    rows = [
        ["店名", "地址", "联系人", "手机号", "经度(°)", "纬度（°）", "类型"],
        *[
            [f"商户{i}", f"府东街{i}号", "赵", f"0351-00{i}", f"{x[i]:.9f}", f"{y[i]:.9f}", "服务"]
            for i in range(3)
        ],
    ]
    path = write_csv(tmp_path / "gbk.csv", rows, encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # really not UTF-8
    gdf, notes = read_ledger(path, crs="GCJ-02")
    assert list(gdf["name"]) == ["商户0", "商户1", "商户2"]
    assert list(gdf["phone"]) == ["0351-000", "0351-001", "0351-002"]
    assert list(gdf["source_id"]) == ["row-2", "row-3", "row-4"]
    assert metres_off(gdf).max() < 1.0
    assert any("GB18030" in n for n in notes)


def test_utf8_bom_csv_header_is_clean(tmp_path):
    rows = [["名称", "经度", "纬度"], ["甲", 112.55, 37.85]]
    gdf, _ = read_ledger(write_csv(tmp_path / "bom.csv", rows, encoding="utf-8-sig"))
    assert gdf["name"].iloc[0] == "甲" and gdf.geometry.x.iloc[0] == pytest.approx(112.55)


def test_gauss_kruger_ledger(tmp_path):
    x, y = points_from_wgs84(WGS_LNG, WGS_LAT, parse_crs(4547))
    rows = [["单位名称", "X", "Y"], *[[f"单位{i}", x[i], y[i]] for i in range(3)]]
    gdf, _ = read_ledger(write_xlsx(tmp_path / "gk.xlsx", rows), crs="EPSG:4547")
    assert metres_off(gdf).max() < 1.0


def test_columns_override_and_title_rows(tmp_path):
    rows = [
        ["迎泽区商户台账（2024年）"],
        [],
        ["Shop", "E", "N", "备注"],
        ["甲", 112.55, 37.85, "x"],
        [None, None, None, None],
        ["乙", 112.56, "abc", "y"],
    ]
    path = write_xlsx(tmp_path / "title.xlsx", rows)
    err = raises_exactly(InputError, path, columns={"name": "Shop", "lng": "E", "lat": "N"})
    assert str(err) == "title.xlsx: row 6: column 'N' has 'abc', which is not a number"


def test_sheet_selection(tmp_path):
    path = tmp_path / "two.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["nothing here"])
    shops = book.create_sheet("商户")
    for row in shop_rows("wgs84"):
        shops.append(row)
    book.save(path)
    gdf, notes = read_ledger(path, sheet="商户")
    assert len(gdf) == 3 and any("商户" in n for n in notes)
    err = raises_exactly(UnreadableFileError, path, sheet="missing")
    assert "two.xlsx" in str(err) and "商户" in str(err)


def test_missing_columns_lists_missing_and_found(tmp_path):
    path = write_csv(tmp_path / "m.csv", [["名称", "地址", "lon"], ["甲", "街", 112.55]])
    err = raises_exactly(MissingColumnsError, path)
    assert str(err).startswith("m.csv: missing required column(s) lat")
    assert "headers found: 名称, 地址, lon" in str(err)
    err = raises_exactly(MissingColumnsError, path, columns={"lat": "纬"})
    assert "'纬'" in str(err) and "名称, 地址, lon" in str(err)


def test_non_numeric_coordinate_names_row_and_header(tmp_path):
    rows = shop_rows("wgs84")
    rows[2][5] = "112.5x"
    err = raises_exactly(InputError, write_xlsx(tmp_path / "bad.xlsx", rows))
    assert str(err) == "bad.xlsx: row 3: column '经度（°）' has '112.5x', which is not a number"


def test_empty_coordinate_names_row_and_header(tmp_path):
    rows = [["名称", "经度", "纬度"], ["甲", 112.55, 37.85], ["乙", 112.56, ""], ["丙", 112.57, " "]]
    err = raises_exactly(InputError, write_csv(tmp_path / "e.csv", rows))
    assert err.where == "row 3, row 4" and "'纬度' is empty" in str(err)


def test_empty_name_is_an_input_error(tmp_path):
    rows = [["名称", "经度", "纬度"], ["甲", 112.55, 37.85], ["", 112.56, 37.86]]
    err = raises_exactly(InputError, write_csv(tmp_path / "n.csv", rows))
    assert err.where == "row 3" and "名称" in str(err)


def test_swapped_coordinates_in_ledger(tmp_path):
    rows = [["名称", "经度", "纬度"], ["甲", 112.55, 37.85], ["乙", 37.86, 112.56]]
    err = raises_exactly(SwappedCoordinatesError, write_csv(tmp_path / "s.csv", rows), crs="bd09")
    assert str(err) == "s.csv: row 3: looks like latitude/longitude are swapped (got lng=37.86, lat=112.56)"


def test_outside_china_with_chinese_crs(tmp_path):
    rows = [["名称", "经度", "纬度"], ["甲", 112.55, 37.85], ["Café", 2.35, 48.86]]
    path = write_csv(tmp_path / "o.csv", rows)
    err = raises_exactly(OutsideChinaError, path, crs="gcj02")
    assert err.where == "row 3" and str(err).startswith("o.csv: row 3: ")
    gdf, _ = read_ledger(path, crs="wgs84")  # WGS84 makes no claim about China
    assert len(gdf) == 2


def test_unknown_crs(tmp_path):
    path = write_csv(tmp_path / "c.csv", [["名称", "经度", "纬度"], ["甲", 112.55, 37.85]])
    raises_exactly(UnknownCRSError, path, crs="baidu-mercator")


def test_unreadable_files(tmp_path):
    err = raises_exactly(UnreadableFileError, tmp_path / "missing.csv")
    assert "missing.csv" in str(err)
    bad = tmp_path / "broken.xlsx"
    bad.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    err = raises_exactly(UnreadableFileError, bad)
    assert str(err).startswith("broken.xlsx: not a readable .xlsx workbook")
    other = tmp_path / "shops.json"
    other.write_text('{"a": 1}')
    err = raises_exactly(UnreadableFileError, other)
    assert "shops.json" in str(err) and ".json" in str(err)
    legacy = tmp_path / "old.xls"
    legacy.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    err = raises_exactly(UnreadableFileError, legacy)
    assert "old.xls" in str(err) and ".xlsx" in str(err)


def test_xlsx_saved_with_csv_extension_is_still_read(tmp_path):
    path = write_xlsx(tmp_path / "really_xlsx.csv", shop_rows("wgs84"))
    gdf, _ = read_ledger(path)
    assert len(gdf) == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "file is empty"),
        (b"\xef\xbb\xbf\n\n", "file is empty"),
        ("名称,经度,纬度\n\n".encode(), "no data rows"),
    ],
)
def test_empty_files_are_input_errors(tmp_path, content, message):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    err = raises_exactly(InputError, path)
    assert str(err).startswith("empty.csv: ") and message in str(err)


def test_empty_xlsx_is_input_error(tmp_path):
    err = raises_exactly(InputError, write_xlsx(tmp_path / "empty.xlsx", []))
    assert "empty.xlsx" in str(err) and "empty" in err.what


@pytest.mark.parametrize(
    ("header", "key"),
    [
        (" 经度（°） ", "经度"),
        ("Longitude (deg)", "longitude"),
        ("*名称", "名称"),
        ("手机 号", "手机号"),
        ("ID", "id"),
    ],
)
def test_normalize_header(header, key):
    assert normalize_header(header) == key


def test_csv_title_row_quotes_and_blank_lines_keep_spreadsheet_row_numbers(tmp_path):
    text = (
        "小店区商户台账\n"
        "名称,地址,电话,手机,经度,纬度\n"
        '甲,"坞城路1号,底商",0351-1111111,13900000000,112.55,37.85\n'
        "\n"
        "乙,坞城路2号,,,112.56,oops\n"
    )
    path = tmp_path / "title.csv"
    path.write_text(text, encoding="utf-8")
    err = raises_exactly(InputError, path)
    assert err.where == "row 5" and "'纬度'" in str(err)  # title = row 1, header = row 2, blank row 4
    path.write_text(text.replace("oops", "37.86"), encoding="utf-8")
    gdf, notes = read_ledger(path)
    assert gdf["address"].iloc[0] == "坞城路1号,底商"
    assert list(gdf["source_id"]) == ["row-3", "row-5"]
    assert gdf["phone"].iloc[0] == "0351-1111111"  # first of the two phone-like columns
    assert any("header taken from row 2" in n for n in notes)
    assert any("'电话' and '手机'" in n for n in notes)


def test_survey_xy_with_x_as_northing_is_reported_as_swapped(tmp_path):
    east, north = points_from_wgs84(WGS_LNG, WGS_LAT, parse_crs(4547))
    rows = [["名称", "X", "Y"], *[[f"点{i}", north[i], east[i]] for i in range(3)]]  # surveyors' X = northing
    err = raises_exactly(SwappedCoordinatesError, write_csv(tmp_path / "survey.csv", rows), crs=4547)
    assert err.where == "row 2, row 3, row 4" and "easting/northing are swapped" in str(err)
