"""What the registry's routes and jobs use, built once per process by the lifespan.

``Services`` holds the store, the outbox with the publisher it sends through, and the rule
objects; ``services`` is the one FastAPI dependency that hands it to a route.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request

from services.registry.assisted import AssistedRegistrations
from services.registry.config import Settings
from services.registry.family import FamilyService
from services.registry.handovers import HandoverService
from services.registry.identity import FormatOnlyVerifier
from services.registry.passwords import Passwords
from services.registry.service import PeopleService
from services.registry.sessions import Sessions
from services.registry.store import Store
from services.registry.venues import VenueService
from shared.auth import AccessTokens
from shared.events import REGISTRY_TOPIC
from shared.jobs import Job
from shared.kafka import Publisher
from shared.outbox import Outbox
from shared.ratelimit import RateLimiter, Window
from shared.runtime import Runtime


@dataclass(frozen=True)
class Services:
    # The connections (pool, Redis, broker, keys) the service was built on; tests and readyz read them.
    runtime: Runtime
    store: Store
    # Every registry event (people, roles, family links, venues) to venuecode.registry.v1,
    # sent through the outbox (written with its change, relayed if a publish failed).
    registry_events: Publisher
    outbox: Outbox
    people: PeopleService
    family: FamilyService
    venues: VenueService
    # Inspectors registering elders and children on the spot (issue 16).
    assisted: AssistedRegistrations
    # Refresh tokens: 30-day sign-ins, rotated on every use (issue 16).
    sessions: Sessions
    # Venues handed to another administrator, or reassigned by an operator (issue 16).
    handovers: HandoverService
    # Sets the session cookies Secure (HTTPS only) in production.
    secure_cookies: bool


def build_services(runtime: Runtime, settings: Settings, tokens: AccessTokens) -> Services:
    store = Store(runtime.pool)
    registry_events = Publisher(runtime.router, settings.infra.kafka, REGISTRY_TOPIC)
    outbox = Outbox("registry", store.outbox, [registry_events])
    verifier = FormatOnlyVerifier()
    login_failures = RateLimiter(
        runtime.redis,
        runtime.redis_prefix,
        "registry-login-failures",
        [Window(settings.login_failures_allowed, settings.login_failure_window_s)],
    )
    people = PeopleService(
        store=store,
        vault=runtime.vault,
        verifier=verifier,
        passwords=Passwords(),
        outbox=outbox,
        login_failures=login_failures,
        tokens=tokens,
    )
    family = FamilyService(
        store=store, vault=runtime.vault, verifier=verifier, outbox=outbox, timezone=settings.timezone
    )
    venues = VenueService(store, outbox, runtime.signer, settings.infra.public_base_url)
    assisted = AssistedRegistrations(
        store=store, vault=runtime.vault, verifier=verifier, outbox=outbox, timezone=settings.timezone
    )
    sessions = Sessions(store, timedelta(days=settings.session_days))
    handovers = HandoverService(store, outbox)
    return Services(
        runtime,
        store,
        registry_events,
        outbox,
        people,
        family,
        venues,
        assisted,
        sessions,
        handovers,
        bool(settings.infra.is_production),
    )


def periodic_jobs(services: Services, settings: Settings) -> list[Job]:
    """The registry's rounds, each once per platform (``shared.jobs``): the outbox's relay and
    prune, and the prune of ended sign-ins (refresh tokens)."""
    prune = Job("registry.sessions", settings.session_prune_interval_s, services.sessions.forget_ended)
    return [*services.outbox.jobs(settings.outbox_relay_interval_s), prune]


async def services(request: Request) -> Services:  # async: no thread hop (shared/auth.py)
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(services)]
