"""Tracing migrations after the one that distributes (0005) change the distributed and reference
tables only through ``EXECUTE``: Citus sends an ``ALTER TABLE`` or ``CREATE INDEX`` of them to the
workers as the text of the whole query it came in, which for a migration file is every statement
of it, and the workers refuse that (docs/operations.md, "Move the tracing store ... to Citus").
CI has no Citus, so this rule is read from the files."""

from __future__ import annotations

import re

from services.tracing.app import MIGRATIONS
from shared.db import migration_files

DISTRIBUTES = 5
# A statement of its own (at a line's start, not inside an EXECUTE string) that changes one of
# the tables Citus holds on the workers.
BARE = re.compile(
    r"^\s*(ALTER\s+TABLE|CREATE\s+(UNIQUE\s+)?INDEX\b[^;]*?\bON)\s+(ONLY\s+)?"
    r"tracing\.(checkins|venues|persons)\b",
    re.IGNORECASE | re.MULTILINE,
)


def test_later_migrations_alter_citus_tables_only_through_execute() -> None:
    bare = [
        path.name
        for number, path in migration_files(MIGRATIONS)
        if number > DISTRIBUTES and BARE.search(path.read_text())
    ]
    assert bare == []


def test_the_rule_sees_a_bare_statement() -> None:
    assert BARE.search("-- x\nALTER TABLE tracing.venues ADD COLUMN a text;\n")
    assert BARE.search("CREATE INDEX v_r ON tracing.venues (region_code);")
    assert not BARE.search("DO $$ BEGIN\n  EXECUTE 'ALTER TABLE tracing.venues ADD a text';\nEND $$;")
    assert not BARE.search("CREATE INDEX e_c ON tracing.exposure_analyses (created_at);")
