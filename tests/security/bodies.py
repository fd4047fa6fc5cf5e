"""What a caller may see in a 2xx body: the oracle of the access matrix (issue 17).

Every person of the world is a set of secrets: their person id, their full name, their identity
number (and its middle, which masking hides), and the check-in ids they were answered. A body
may name a person only when the caller may see that person: themself, their active dependents,
or whom the row's rule adds (the holder of a health code an inspector verifies, the inspectors
of an administrator's venue, everyone for the epidemiologist's and operator's tools). A full
name or identity number is never in a body, whoever asks: answers carry masked values only.
Venue B's id is seen only by its own staff. The oracle reads the world, never the service code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tests.security.world import CHILD_NAME, World

# Rules that let a caller see more than themself and their dependents.
Extra = Callable[[World, str], set[str] | None]  # None: every person (the staff tools)


@dataclass(frozen=True)
class Secret:
    owner: str  # a person id
    text: str
    what: str
    never: bool = False  # never in a body, not even the owner's


def everyone(world: World) -> dict[str, tuple[str, str]]:
    """person id -> (full name, identity number) of every person of the world."""
    people = {p.person_id: (p.name, p.id_number) for p in world.people.values()}
    people[world.spare_inspector.person_id] = (world.spare_inspector.name, world.spare_inspector.id_number)
    people[world.elder.person_id] = (world.elder.name, world.elder.id_number)
    people[world.child_id] = (CHILD_NAME, world.child_number)
    return people


def secrets(world: World) -> list[Secret]:
    found: list[Secret] = []
    for person_id, (name, number) in everyone(world).items():
        found.append(Secret(person_id, person_id, "person id"))
        found.append(Secret(person_id, name, "full name", never=True))
        found.append(Secret(person_id, number, "identity number", never=True))
        found.append(Secret(person_id, number[4:14], "the masked middle of an identity number", never=True))
    for caller, ids in world.checkins.items():
        owner = world.people[caller].person_id
        found.extend(Secret(owner, checkin_id, "a check-in (visit)") for checkin_id in ids)
    return found


def own_circle(world: World, caller: str) -> set[str]:
    """The caller and the dependents they act for (the citizen's request is still pending)."""
    if caller == "anonymous":
        return set()
    me = world.people[caller].person_id
    return {me, world.child_id} if caller == "guardian" else {me}


VENUE_B_STAFF = ("administrator_other", "inspector_other")


def leaks(world: World, caller: str, text: str, extra: Extra | None) -> list[str]:
    """What ``text``, a 2xx body ``caller`` received, says that the caller may not see."""
    widened = extra(world, caller) if extra is not None else set()
    allowed = None if widened is None else own_circle(world, caller) | widened
    found = [
        f"{s.what} of {s.owner}"
        for s in secrets(world)
        if s.text in text and (s.never or (allowed is not None and s.owner not in allowed))
    ]
    if world.venue_b in text and allowed is not None and caller not in VENUE_B_STAFF:
        found.append("venue B, which the caller does not staff")
    return found


# --- the rules of rows that widen what a caller sees -------------------------------------------


def everybody(world: World, caller: str) -> None:
    return None


def the_code_holder(world: World, caller: str) -> set[str]:
    return {world.child_id}


def the_signed_in_elder(world: World, caller: str) -> set[str]:
    return {world.elder.person_id}


def the_venue_inspectors(world: World, caller: str) -> set[str]:
    if caller == "venue_administrator":
        return {world.people["venue_inspector"].person_id, world.spare_inspector.person_id}
    if caller == "administrator_other":
        return {world.people["inspector_other"].person_id}
    return set()


def the_guardian_asking(world: World, caller: str) -> set[str]:
    return {world.people["guardian"].person_id} if caller == "citizen" else set()


def the_asked_citizen(world: World, caller: str) -> set[str]:
    return {world.people["citizen"].person_id} if caller == "guardian" else set()


def the_status_subject(world: World, caller: str) -> set[str]:
    return {world.people["citizen"].person_id}
