"""Gathering an export's material through the query layer, so the compartments hold.

For each subject (an entity key asked for, or one of the case's entities) the material takes
the visible neighbourhood (:func:`queries.neighbourhood.neighbourhood`, at most two hops), the
timeline (:func:`queries.timeline.timeline`) and the alerts flagging the subject or its
records (:func:`queries.profile.entity_alerts`, rule 3: only alerts whose every compartment
the scope holds). Everything the queries withheld stays as hit / no-hit markers.

A case adds its alerts (as open to the caller as any alert), its notes (members share them)
and its disseminations: a disseminated node is read with the caller's scope widened by exactly
the compartments its owner released, for that node only; a relationship between two released
nodes only in the compartments both were released in (as ``GET /cases/{id}/disseminated``).
Its other relationships are not released, so they are not exported.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from app.cases import CaseView, readable
from app.exports.model import Disseminated, ExportHeader, ExportMaterial, Note
from graph_models.errors import NotFoundError
from graph_models.schema import Label, RelType
from graph_models.store.base import GraphStore
from queries.access import Scope, Tally, rel_id
from queries.alerts import Alert, alert_from_node
from queries.models import EventKind, NodeView, RelView, TimelineEvent, Withheld
from queries.neighbourhood import neighbourhood
from queries.profile import entity_alerts
from queries.timeline import timeline

MAX_HOPS = 2
MAX_SUBJECTS = 50
NODE_LIMIT = 500  # per subject, as the neighbourhood route's default
_KIND_ORDER = {kind: i for i, kind in enumerate(EventKind)}
# Hit / no-hit kinds as the profile queries name them; traversals name a node's label.
_KINDS = {label.value: "source records" for label in Label} | {Label.ALERT.value: "alerts"}


class _Collected:
    def __init__(self) -> None:
        self.nodes: dict[str, NodeView] = {}
        self.rels: dict[str, RelView] = {}
        self.alerts: dict[str, Alert] = {}
        self.events: dict[tuple[str, str, str, str], TimelineEvent] = {}
        self.withheld: dict[tuple[str, str], Withheld] = {}
        self.subjects: list[str] = []
        self.notes: list[Note] = []
        self.disseminated: list[Disseminated] = []

    def node(self, view: NodeView) -> None:
        if view.label == Label.ALERT:
            return  # alerts are gathered as alerts, by the rules for alerts
        self.nodes.setdefault(view.key, view)

    def rel(self, view: RelView) -> None:
        if view.type != RelType.FLAGS:  # an alert's flags are its ``entities``
            self.rels.setdefault(rel_id(view), view)

    def alert(self, alert: Alert) -> None:
        self.alerts.setdefault(alert.id, alert)

    def markers(self, found: Iterable[Withheld]) -> None:
        """Merge one query's markers: its kinds in one vocabulary (a traversal counts hidden
        nodes by label, the profile queries as "source records" and "alerts"), summed within
        the answer (distinct elements), then the largest count across answers, because the
        queries meet the same hidden records again and adding them up would overstate."""
        answer: dict[tuple[str, str], Withheld] = {}
        for w in found:
            kind = _KINDS.get(w.kind, w.kind)
            known = answer.get((w.compartment, kind))
            count = w.count + (known.count if known else 0)
            answer[(w.compartment, kind)] = w.model_copy(update={"kind": kind, "count": count})
        for key, w in answer.items():
            known = self.withheld.get(key)
            if known is None or known.count < w.count:
                self.withheld[key] = w


def gather(
    store: GraphStore,
    header: ExportHeader,
    *,
    scope: Scope,
    keys: Sequence[str] = (),
    hops: int = 1,
    case: CaseView | None = None,
) -> ExportMaterial:
    """The material of an export about ``keys`` and / or ``case``, as ``scope`` may see it.

    Raises NotFoundError for a key asked for that does not exist (a case's entity that has
    left the graph since is noted instead), ValueError for more than two hops or too many
    subjects.
    """
    if not 0 <= hops <= MAX_HOPS:
        raise ValueError(f"an export reaches at most {MAX_HOPS} hops from its subjects")
    subjects = list(dict.fromkeys([*keys, *(e.key for e in case.entities)] if case else keys))
    if len(subjects) > MAX_SUBJECTS:
        raise ValueError(f"an export takes at most {MAX_SUBJECTS} subjects")
    found = _Collected()
    released = {d.key for d in case.disseminations} if case else set()
    for key in subjects:
        _subject(store, key, found, scope=scope, hops=hops, asked=key in keys, released=released)
    _subject_alerts(store, found, scope=scope)
    if case is not None:
        _case(store, case, found, scope=scope)
    return ExportMaterial(
        **header.model_dump(),
        subjects=found.subjects,
        nodes=[found.nodes[k] for k in sorted(found.nodes)],
        relationships=[found.rels[k] for k in sorted(found.rels)],
        alerts=sorted(found.alerts.values(), key=lambda a: (-a.score, a.id)),
        events=sorted(
            found.events.values(),
            key=lambda e: (e.date, _KIND_ORDER[e.kind], e.party, e.record),
        ),
        withheld=[found.withheld[k] for k in sorted(found.withheld)],
        disseminated=found.disseminated,
        notes=found.notes,
    )


def _subject(
    store: GraphStore,
    key: str,
    found: _Collected,
    *,
    scope: Scope,
    hops: int,
    asked: bool,
    released: set[str],
) -> None:
    node = store.get_node(key)
    if node is None:
        if asked:
            raise NotFoundError(f"no node with key {key!r}")
        found.notes.append(Note(text=f"case entity {key} is no longer in the graph"))
        return
    if key in released and not readable(store, node, scope):
        return  # known to the caller only through its dissemination (see _case)
    around = neighbourhood(store, key, scope=scope, hops=hops, limit=NODE_LIMIT)
    found.markers(around.withheld)
    if not around.nodes:
        return  # hidden: the markers say who holds it
    found.subjects.append(key)
    for view in around.nodes:
        if view.label == Label.ALERT:
            found.alert(alert_from_node(view))  # the traversal only returns open alerts
        found.node(view)
    for rel in around.relationships:
        found.rel(rel)
    events = timeline(store, key, scope=scope)
    found.markers(events.withheld)
    for event in events.events:
        found.events.setdefault((event.date, event.kind, event.party, event.record), event)


def _subject_alerts(store: GraphStore, found: _Collected, *, scope: Scope) -> None:
    """Alerts on the subjects and on their records (a resolved entity's members)."""
    keys = set(found.subjects)
    keys |= {r.start for r in found.rels.values() if r.type == RelType.SAME_AS and r.end in keys}
    if not keys:
        return
    tally = Tally(scope)
    for alert in entity_alerts(store, sorted(keys), scope=scope, tally=tally):
        found.alert(alert)
    found.markers(tally.markers())


def _case(store: GraphStore, case: CaseView, found: _Collected, *, scope: Scope) -> None:
    found.markers(case.withheld)
    found.notes += [Note(text=n.text, by=n.by, at=n.at) for n in case.notes]
    released: dict[str, set[str]] = {}
    for d in case.disseminations:
        released.setdefault(d.key, set()).update(d.compartments)
    nodes = store.get_nodes({a.alert_id for a in case.alerts} | set(released))
    for alert in case.alerts:
        node = nodes.get(alert.alert_id)
        if node is not None and node.label == Label.ALERT and scope.sees_all(node.provenance):
            found.alert(alert_from_node(node))
    for d in case.disseminations:
        node = nodes.get(d.key)
        widened = Scope.of(*scope.compartments, *d.compartments)
        if node is None or not widened.reads(node):
            continue  # gone from the graph since, or released in other compartments
        if node.label == Label.ALERT:
            found.alert(alert_from_node(node))  # reads() of an alert is rule 3's sees_all
        else:
            found.nodes[d.key] = widened.node_view(node)  # the widened view replaces ours
            if d.key not in found.subjects:
                found.subjects.append(d.key)
        found.disseminated.append(
            Disseminated(key=d.key, compartments=d.compartments, legal_basis=d.legal_basis, by=d.by)
        )
    on = [k for k in released if k in found.nodes]
    for rel in store.expand(on) if on else []:
        if rel.start in released and rel.end in released:
            both = released[rel.start] & released[rel.end]
            widened = Scope.of(*scope.compartments, *both)
            if widened.reads_rel(rel):
                found.rels[rel_id(rel)] = widened.rel_view(rel)
