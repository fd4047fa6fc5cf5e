"""Answer bodies two services give alike: a venue's place (the registry's venue answers,
tracing's compliance list) and its region's names."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel

from shared.regions import RegionNames, regions


class RegionNamesOut(BaseModel):
    """A venue's region by level, as GB/T 2260 names them (``city`` is 市辖区 in Beijing)."""

    province: str
    city: str | None
    district: str | None

    @classmethod
    def of(cls, names: RegionNames) -> RegionNamesOut:
        return cls(province=names.province, city=names.city, district=names.district)

    @classmethod
    def of_code(cls, region_code: str) -> RegionNamesOut | None:
        names = regions().names(region_code)
        return None if names is None else cls.of(names)


class VenuePlaceOut(BaseModel):
    """The fields every venue answer starts with, in this order; a service's venue answer adds
    its own after them."""

    venue_id: UUID
    region_code: str
    # Added by issue 16: the region's names by level (null for a code not in the table).
    region_names: RegionNamesOut | None
    name: str
    address: str | None
    category: str
