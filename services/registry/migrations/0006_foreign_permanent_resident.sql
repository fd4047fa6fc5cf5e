-- The foreign permanent resident ID card (外國人永久居留身份證) becomes a fifth document kind.
ALTER TABLE registry.people DROP CONSTRAINT people_id_kind_check;
ALTER TABLE registry.people ADD CONSTRAINT people_id_kind_check CHECK (
    id_kind IN ('mainland_id', 'hk_macao_permit', 'taiwan_permit', 'passport', 'foreign_permanent_resident')
);
