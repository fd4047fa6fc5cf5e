"""docs/redis.md lists every Redis key the code builds, and each key carries the hash tag it names."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from redis.crc import key_slot

from services.checkin.cache import CheckinCache
from shared.colours import WarmMarker, colour_key
from shared.ratelimit import RateLimiter, Window

ROOT = Path(__file__).parents[2]


def documented() -> dict[str, str]:
    """The documented key patterns by their literal prefix (up to the first ``{`` or ``<``)."""
    rows = re.findall(r"^\| `([^`]+)` \|", (ROOT / "docs" / "redis.md").read_text(), re.MULTILINE)
    return {re.split(r"[{<]", row, maxsplit=1)[0]: row for row in rows}


def built_by_code() -> set[str]:
    """Key prefixes read off the code: each service's KeySpace parts, each RateLimiter's name,
    and the colour cache's two keys."""
    found = {colour_key("", uuid.UUID(int=0)).split("{")[0], WarmMarker("").key}
    for path in [*ROOT.glob("services/**/*.py"), *ROOT.glob("shared/*.py")]:
        if "bench" in path.parts:
            continue
        source = path.read_text()
        for service in re.findall(r'KeySpace\([^,]+,\s*"([^"]+)"\)', source):
            found |= {f"{service}:{part}:" for part in re.findall(r'self\._keys\(\s*"([^"]+)"', source)}
        found |= {
            f"rl:{name}:" for name in re.findall(r'RateLimiter\(\s*[\w.]+,\s*[\w.]+,\s*"([^"]+)"', source)
        }
    return found


def test_every_key_in_the_code_is_documented_and_nothing_else() -> None:
    assert built_by_code() == set(documented())


def test_keys_touched_together_share_a_slot() -> None:
    cache = CheckinCache(None, "vc:")  # type: ignore[arg-type]  # builds names, sends nothing
    caller, person, venue = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    # The claim, the take-over and the release each touch the one idem key, in the caller's slot.
    assert "{" + str(caller) + "}" in cache._idem(caller, "k")
    assert cache._visits(person).endswith("{" + str(person) + "}")
    # One entry set per venue and hour, each its own tag.
    first, next_hour = cache._entered(venue, 7200.0), cache._entered(venue, 10_800.0)
    assert first.endswith("{" + f"{venue}:2" + "}")
    assert next_hour.endswith("{" + f"{venue}:3" + "}")
    # A subject's rate-limit windows share its tag, so check's MGET and reset's DEL stay in a slot.
    limiter = RateLimiter(None, "vc:", "checkin", [Window(30, 600), Window(300, 86_400)])  # type: ignore[arg-type]
    minute, day = (
        limiter.key(str(person), w, 1_800_000_000.0) for w in (Window(30, 600), Window(300, 86_400))
    )
    assert key_slot(minute.encode()) == key_slot(day.encode()) == key_slot(colour_key("vc:", person).encode())
    for key in (cache._idem(caller, "k"), cache._visits(person), first, minute, colour_key("vc:", person)):
        assert documented().keys() & {key.removeprefix("vc:").split("{")[0]}, key
