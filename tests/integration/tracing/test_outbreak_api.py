"""The outbreak endpoints over HTTP: exposure analyses (body, bounds, who may ask)."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree

import networkx

from services.tracing.app import create_app
from services.tracing.config import Settings
from shared.events import CHECKINS_TOPIC
from shared.settings import InfraSettings
from tests.integration.tracing.kafka_tools import send
from tests.integration.tracing.test_api import Issue, Serve, bearer, fields, window
from tests.integration.tracing.timeline import base_time, checkin, checkout, minutes
from tests.waiting import eventually

__all__ = ["bearer"]  # the fixture, shared with test_api.py
ANALYSES = "/api/tracing/v1/exposure-analyses"


async def test_exposure_analysis_over_http(infra: InfraSettings, serve: Serve, bearer: Issue) -> None:
    t0 = base_time()
    a, b, c, stranger, second, cafe, shop, bar = (uuid.uuid4() for _ in range(8))
    epi_id = uuid.uuid4()
    epi = bearer(epi_id, ["epidemiologist"])
    events = [
        checkin(a, cafe, t0),
        checkout(a, cafe, t0 + minutes(30)),
        checkin(b, cafe, t0 + minutes(40)),  # 10 minutes after a left: shared with a 15-minute gap
        checkin(stranger, cafe, t0 + minutes(20)),  # meets a, then b, at the cafe
        checkin(stranger, bar, t0 + minutes(60)),
        checkin(second, bar, t0 + minutes(70)),  # meets the stranger: depth 2 for a and b
        checkin(a, shop, t0 + minutes(100)),
        checkin(b, shop, t0 + minutes(110)),
        checkin(c, shop, t0 + minutes(120)),
    ]
    body: dict[str, Any] = {
        "person_ids": [str(a), str(b), str(c)],
        **window(t0, t0 + minutes(240)),
        "gap_minutes": 15,
        "dwell_minutes": 30,
    }
    async with serve(create_app(Settings(infra=infra))) as client:
        for venue in (cafe, shop, bar):
            await send(
                infra, CHECKINS_TOPIC, [e for e in events if e.data.venue_id == venue], key=venue.bytes
            )

        async def stored() -> bool:
            answer = await client.post(ANALYSES, json=body, headers=epi)
            return len(answer.json()["exposures"]) == 2

        await eventually(stored, timeout_s=30, what="both shared venue-windows")
        created = await client.post(ANALYSES, json=body, headers=epi)
        shown = await client.get(f"{ANALYSES}/{created.json()['analysis_id']}", headers=epi)
        citizen = await client.post(ANALYSES, json=body, headers=bearer(uuid.uuid4(), []))
        anonymous = await client.post(ANALYSES, json=body)
        one = await client.post(ANALYSES, json={**body, "person_ids": [str(a)]}, headers=epi)
        twice = await client.post(ANALYSES, json={**body, "person_ids": [str(a), str(a)]}, headers=epi)
        too_many = [str(uuid.uuid4()) for _ in range(501)]
        crowd = await client.post(ANALYSES, json={**body, "person_ids": too_many}, headers=epi)
        gap = await client.post(ANALYSES, json={**body, "gap_minutes": -1}, headers=epi)
        unknown = await client.get(f"{ANALYSES}/{uuid.uuid4()}", headers=epi)
        url = f"{ANALYSES}/{created.json()['analysis_id']}"
        graph = await client.get(f"{url}/graph", headers=epi)
        graphml = await client.get(f"{url}/graph.graphml", headers=epi)
        edges_csv = await client.get(f"{url}/graph.csv", headers=epi)
        exposures_csv = await client.get(f"{url}.csv", headers=epi)
        citizen_export = await client.get(f"{url}/graph.graphml", headers=bearer(uuid.uuid4(), []))
        audit = await client.get(
            "/api/tracing/v1/audit",
            params=window(t0, datetime.now(UTC) + minutes(1)),
            headers=bearer(uuid.uuid4(), ["operator"]),
        )

    assert created.status_code == 201, created.text
    answer = created.json()
    assert shown.json() == answer
    assert answer["person_ids"] == [str(a), str(b), str(c)]
    assert datetime.fromisoformat(answer["from"]) == datetime.fromisoformat(body["from"])
    assert [
        (e["venue_id"], e["case_count"], e["person_ids"], e["starts_at"], e["ends_at"])
        for e in answer["exposures"]
    ] == [
        (str(shop), 3, sorted([str(a), str(b), str(c)]), *_times(t0, 100, 150)),
        (str(cafe), 2, sorted([str(a), str(b)]), *_times(t0, 0, 70)),
    ]
    timeline = {t["person_id"]: [v["venue_id"] for v in t["visits"]] for t in answer["timelines"]}
    assert timeline == {str(a): [str(cafe), str(shop)], str(b): [str(cafe), str(shop)], str(c): [str(shop)]}
    assert citizen.status_code == 403
    assert anonymous.status_code == 401
    assert fields(one) == ["person_ids"]
    assert fields(twice) == ["person_ids"]
    assert fields(crowd) == ["person_ids"]
    assert fields(gap) == ["gap_minutes"]
    assert unknown.status_code == 404

    def name(person: str) -> str:
        return {str(a): "a", str(b): "b", str(c): "c", str(stranger): "s", str(second): "2"}[person]

    # a, b and c met each other at the shop; the stranger met a and b at the cafe and then
    # the second person at the bar (depth 2 for a and b; c met the stranger nowhere).
    expected_edges = {
        ("a", "b", 1),
        ("a", "c", 1),
        ("a", "s", 1),
        ("b", "a", 1),
        ("b", "c", 1),
        ("b", "s", 1),
        ("c", "a", 1),
        ("c", "b", 1),
        ("s", "2", 2),
    }
    expected_nodes = {("a", 0), ("b", 0), ("c", 0), ("s", 1), ("2", 2)}
    assert graph.status_code == 200, graph.text
    nodes = {(name(n["person_id"]), n["depth"]) for n in graph.json()["nodes"]}
    edges = [(name(e["source"]), name(e["target"]), e["depth"]) for e in graph.json()["edges"]]
    assert nodes == expected_nodes
    assert sorted(edges) == sorted(expected_edges)  # one edge a pair

    assert graphml.status_code == 200
    assert graphml.headers["content-type"].startswith("application/graphml+xml")
    root = ElementTree.fromstring(graphml.content)  # a real XML parser
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    assert root.tag == "{http://graphml.graphdrawing.org/xmlns}graphml"
    (body,) = root.findall("g:graph", ns)
    assert body.get("edgedefault") == "directed"
    keys = {k.get("id"): k.get("attr.name") for k in root.findall("g:key", ns)}
    xml_nodes = {
        (name(n.get("id")), int(n.find("g:data[@key='d_depth']", ns).text))  # type: ignore[arg-type, union-attr]
        for n in body.findall("g:node", ns)
    }
    xml_edges = {
        (name(e.get("source")), name(e.get("target")), int(e.find("g:data[@key='d_edge_depth']", ns).text))  # type: ignore[arg-type, union-attr]
        for e in body.findall("g:edge", ns)
    }
    assert keys["d_depth"] == "depth"
    assert xml_nodes == expected_nodes
    assert xml_edges == expected_edges
    # As a graph tool reads it: networkx's GraphML reader (typed attributes, a directed graph).
    read = networkx.read_graphml(io.BytesIO(graphml.content))
    assert read.is_directed()
    assert {(name(n), d["depth"]) for n, d in read.nodes(data=True)} == expected_nodes
    assert {(name(u), name(v), d["depth"]) for u, v, d in read.edges(data=True)} == expected_edges
    assert all(isinstance(d["overlap_minutes"], float) for _, _, d in read.edges(data=True))

    assert edges_csv.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(edges_csv.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "source",
        "target",
        "depth",
        "venue_id",
        "venue_name",
        "checked_in_at",
        "overlap_minutes",
    ]
    assert {(name(r[0]), name(r[1]), int(r[2])) for r in rows[1:]} == expected_edges
    rows = list(csv.reader(io.StringIO(exposures_csv.content.decode("utf-8-sig"))))
    assert rows[0] == ["rank", "venue_id", "venue_name", "starts_at", "ends_at", "case_count", "person_id"]
    assert sorted((r[0], r[1], r[5], name(r[6])) for r in rows[1:]) == [
        ("1", str(shop), "3", "a"), ("1", str(shop), "3", "b"), ("1", str(shop), "3", "c"),
        ("2", str(cafe), "2", "a"), ("2", str(cafe), "2", "b"),
    ]  # fmt: skip
    assert citizen_export.status_code == 403
    # Every read of the cases' movements is audited: the analysis, the view, the exports.
    trail = sorted(
        (e["action"], e["actor_id"], e["count"])
        for e in audit.json()["entries"]
        if e["query_id"] == answer["analysis_id"]
    )
    assert trail == [
        ("exposure_analysis", str(epi_id), 2),
        ("exposure_analysis_view", str(epi_id), 2),
        ("outbreak_export", str(epi_id), 2),
        ("outbreak_graph", str(epi_id), 2),
        ("outbreak_graph", str(epi_id), 2),
        ("outbreak_graph", str(epi_id), 2),
    ]


def _times(t0: datetime, start: int, end: int) -> tuple[str, str]:
    return (
        (t0 + minutes(start)).isoformat().replace("+00:00", "Z"),
        (t0 + minutes(end)).isoformat().replace("+00:00", "Z"),
    )
