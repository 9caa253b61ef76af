"""Pictures for the case brief, computed here and drawn by the template as inline SVG.

The network is laid out with networkx's spring layout (Fruchterman-Reingold) under a fixed
seed, so the same export draws the same picture. A big neighbourhood would be an unreadable
hairball: the picture keeps the subjects and the best-connected nodes up to ``max_nodes`` and
says how many it left out (the evidence list still names every node). The timeline is a strip
with one mark per event, placed by date, and a tick per year.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import networkx as nx

from app.exports.labels import Names
from app.exports.model import ExportMaterial

COLOURS = {
    "Company": "#1f77b4",
    "Person": "#d62728",
    "ResolvedEntity": "#9467bd",
    "Account": "#2ca02c",
    "Address": "#8c564b",
    "Phone": "#7f7f7f",
    "Email": "#7f7f7f",
    "Country": "#bcbd22",
    "Declaration": "#17becf",
    "Transaction": "#ff7f0e",
    "Report": "#e377c2",
    "CashDeclaration": "#ff9896",
    "TaxReturn": "#c49c94",
}
OTHER = "#aaaaaa"
_LABEL_CHARS = 28


@dataclass(frozen=True)
class Dot:
    key: str
    x: float
    y: float
    label: str
    kind: str
    colour: str
    subject: bool


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    kind: str


@dataclass
class Network:
    width: int
    height: int
    dots: list[Dot] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    left_out: int = 0


@dataclass(frozen=True)
class Mark:
    x: float
    date: str
    kind: str
    summary: str


@dataclass
class Strip:
    width: int
    marks: list[Mark] = field(default_factory=list)
    ticks: list[tuple[float, str]] = field(default_factory=list)


def _short(text: str) -> str:
    return text if len(text) <= _LABEL_CHARS else text[: _LABEL_CHARS - 1] + "…"


def network(
    material: ExportMaterial, *, width: int = 960, height: int = 600, max_nodes: int = 120
) -> Network:
    names = Names(material)
    graph: nx.Graph = nx.Graph()
    graph.add_nodes_from(n.key for n in material.nodes)
    graph.add_edges_from(
        (r.start, r.end)
        for r in material.relationships
        if r.start in graph and r.end in graph and r.start != r.end
    )
    subjects = set(material.subjects)
    if graph.number_of_nodes() > max_nodes:
        ranked = sorted(graph.nodes, key=lambda k: (k not in subjects, -graph.degree(k), k))
        graph = graph.subgraph(ranked[:max_nodes]).copy()
    out = Network(width=width, height=height, left_out=len(material.nodes) - len(graph))
    if len(graph) == 0:
        return out
    positions = nx.spring_layout(graph, seed=7) if len(graph) > 1 else {next(iter(graph)): (0, 0)}
    margin = 40.0
    xs = [float(p[0]) for p in positions.values()]
    ys = [float(p[1]) for p in positions.values()]
    # Stretch the layout's bounding box over the canvas (labels need room on the right).
    x0, x_span = min(xs), (max(xs) - min(xs)) or 1.0
    y0, y_span = min(ys), (max(ys) - min(ys)) or 1.0

    def place(key: str) -> tuple[float, float]:
        x, y = positions[key]
        return (
            round(margin + (float(x) - x0) / x_span * (width - 4 * margin), 1),
            round(margin + (float(y) - y0) / y_span * (height - 2 * margin), 1),
        )

    for start, end in sorted(graph.edges):
        (x1, y1), (x2, y2) = place(start), place(end)
        out.lines.append(Line(x1, y1, x2, y2, names.kind(start)))
    for key in sorted(graph.nodes):
        x, y = place(key)
        kind = names.kind(key)
        colour = COLOURS.get(kind, OTHER)
        out.dots.append(Dot(key, x, y, _short(names.label(key)), kind, colour, key in subjects))
    return out


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def strip(material: ExportMaterial, *, width: int = 960) -> Strip:
    dated = [(d, e) for e in material.events if (d := _day(e.date)) is not None]
    days = sorted(d for d, _ in dated)
    out = Strip(width=width)
    if not days:
        return out
    first, last = days[0], days[-1]
    span = max((last - first).days, 1)
    margin = 20.0

    def x_of(day: date) -> float:
        return round(margin + (day - first).days / span * (width - 2 * margin), 1)

    for day, event in dated:
        out.marks.append(Mark(x_of(day), event.date, event.kind.value, event.summary))
    for year in range(first.year + 1, last.year + 1):
        out.ticks.append((x_of(date(year, 1, 1)), str(year)))
    return out
