-- Issue 16: the address is part of a venue. Two branches of one name in one district differ by
-- their address, so the unique key becomes (region, name, address); a venue without an address
-- (API.md keeps it optional) counts as the empty address, so two of those still collide.
-- Existing rows are carried over as they are: they were unique on (region, name), so they are
-- unique on the wider key too.
ALTER TABLE registry.venues DROP CONSTRAINT venues_region_name;
CREATE UNIQUE INDEX venues_region_name_address ON registry.venues (region_code, name, (coalesce(address, '')));
ALTER TABLE registry.venues ADD CONSTRAINT venues_address_length CHECK (address IS NULL OR length(address) <= 200);
