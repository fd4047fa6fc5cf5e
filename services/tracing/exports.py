"""Tracing's answers as files: a query's contacts, shared venue-windows and contact edges as CSV
(with a BOM), the outbreak graph as GraphML.

GraphML (http://graphml.graphdrawing.org) is what Gephi and Cytoscape import:
a directed graph, person nodes keyed by person_id with their depth (0 for a
case), edges from the person who carried the exposure to the one who met them.
Built with ElementTree, so every value is escaped by the serializer.
"""

from __future__ import annotations

from xml.etree import ElementTree as ET

from services.tracing.models import ContactQueryResult
from services.tracing.models_outbreaks import ExposureAnalysis, OutbreakGraph
from shared.pages import csv_safe, csv_text

# The CSV itself (BOM, CRLF, formula-safe cells) is shared/pages.py's, as every download's.
__all__ = ["contacts_csv", "csv_safe", "edges_csv", "exposures_csv", "graphml"]
CONTACT_COLUMNS = (
    "person_id",
    "depth",
    "venue_id",
    "venue_name",
    "contact_checked_in_at",
    "case_checked_in_at",
    "overlap_minutes",
    "via_person_id",
)
GRAPHML_NS = "http://graphml.graphdrawing.org/xmlns"
EXPOSURE_COLUMNS = ("rank", "venue_id", "venue_name", "starts_at", "ends_at", "case_count", "person_id")
EDGE_COLUMNS = ("source", "target", "depth", "venue_id", "venue_name", "checked_in_at", "overlap_minutes")
# (id, element it describes, name, GraphML type)
_KEYS = (
    ("d_depth", "node", "depth", "int"),
    ("d_role", "node", "role", "string"),
    ("d_venue", "edge", "venue_id", "string"),
    ("d_venue_name", "edge", "venue_name", "string"),
    ("d_checked_in", "edge", "checked_in_at", "string"),
    ("d_overlap", "edge", "overlap_minutes", "double"),
    ("d_edge_depth", "edge", "depth", "int"),
)


def contacts_csv(result: ContactQueryResult) -> str:
    """A contact query's contacts, one row each, in the answer's order."""
    rows: list[list[object]] = [
        [
            c.person_id,
            c.depth,
            c.venue_id,
            csv_safe(c.venue_name or ""),
            c.contact_checked_in_at.isoformat(),
            c.case_checked_in_at.isoformat(),
            f"{c.overlap_minutes:.2f}",
            c.via_person_id,
        ]
        for c in result.contacts
    ]
    return csv_text(CONTACT_COLUMNS, rows)


def exposures_csv(analysis: ExposureAnalysis) -> str:
    """One row per case of each shared venue-window, in rank order."""
    rows: list[list[object]] = [
        [
            rank,
            e.venue_id,
            csv_safe(e.venue_name or ""),
            e.starts_at.isoformat(),
            e.ends_at.isoformat(),
            len(e.case_ids),
            case,
        ]
        for rank, e in enumerate(analysis.exposures, start=1)
        for case in e.case_ids
    ]
    return csv_text(EXPOSURE_COLUMNS, rows)


def edges_csv(graph: OutbreakGraph) -> str:
    """The contact graph as an edge list (Gephi's spreadsheet import reads it too)."""
    rows: list[list[object]] = [
        [
            e.source,
            e.target,
            e.depth,
            e.venue_id,
            csv_safe(e.venue_name or ""),
            e.checked_in_at.isoformat(),
            f"{e.overlap_minutes:.2f}",
        ]
        for e in graph.edges
    ]
    return csv_text(EDGE_COLUMNS, rows)


def graphml(graph: OutbreakGraph) -> bytes:
    root = ET.Element("graphml", {"xmlns": GRAPHML_NS})
    for key_id, kind, name, value_type in _KEYS:
        ET.SubElement(root, "key", {"id": key_id, "for": kind, "attr.name": name, "attr.type": value_type})
    body = ET.SubElement(root, "graph", {"id": str(graph.analysis_id), "edgedefault": "directed"})

    def data(parent: ET.Element, key: str, value: object) -> None:
        ET.SubElement(parent, "data", {"key": key}).text = str(value)

    for n in graph.nodes:
        node = ET.SubElement(body, "node", {"id": str(n.person_id)})
        data(node, "d_depth", n.depth)
        data(node, "d_role", "case" if n.depth == 0 else "contact")
    for i, e in enumerate(graph.edges):
        edge = ET.SubElement(body, "edge", {"id": f"e{i}", "source": str(e.source), "target": str(e.target)})
        data(edge, "d_venue", e.venue_id)
        data(edge, "d_venue_name", e.venue_name or "")
        data(edge, "d_checked_in", e.checked_in_at.isoformat())
        data(edge, "d_overlap", round(e.overlap_minutes, 2))
        data(edge, "d_edge_depth", e.depth)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document
