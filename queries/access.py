"""Compartments: what an investigator's scope lets the queries return.

Every investigator query takes a :class:`Scope`, the set of agency compartments the caller may
read (``customs``, ``fiu``, ``tax``, ``registry``, ``external``). The caller (the API, from the
user's role) decides the scope; registry and external data are typically open to everyone, FIU
data only to the FIU. The queries enforce it, so no caller can forget to.

**The rule.**

1. *Source facts.* A node or relationship is **visible** when its ``provenance.compartments``
   intersects the scope. An element with no compartment at all is invisible (fail closed). A
   relationship is returned only when it and both its end nodes are visible.
2. *What a visible element says about other compartments is cut away*: its provenance is
   redacted to the scope (agencies, compartments and sources of the scope only; record ids only
   from files a visible source delivered), and when another compartment also holds the element
   its ``first_seen`` / ``last_seen`` are dropped (they may be another agency's record dates)
   and the element is marked ``partial``. Properties are kept: parties are keyed per agency,
   so they are one agency's record, and shared values (address, account, phone, e-mail) are
   keyed by the normalised value every agency holding them has seen (see the report note on
   descriptive properties of shared values).
3. *Derived facts* rest on several records at once and are only as open as all of them:
   an ``Alert`` is visible only when **every** compartment it carries is in the scope (its
   summary, score and evidence are computed from all of them). A ``ResolvedEntity`` exists for
   the caller when at least one of its ``SAME_AS`` members is visible, and its name is shown
   only when the scope covers every compartment of the entity node; otherwise it takes the
   name of a visible member. A ``SAME_AS`` link is as visible as its member record.
4. *Hit / no-hit.* Where a hidden element matters (an entity's FIU records, an alert resting
   on FIU reports, a sharer of an address held only by tax), the answer carries a
   :class:`~queries.models.Withheld` marker per hidden compartment with a count and whom to
   ask, never content: no key, name, date or amount of the hidden element.

Known limits, by design: the hub cap counts every relationship of a node (the stores count
them natively), so whether a node was capped can depend on relationships the caller cannot
see; and the date filter acts only on dates the caller can see.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable

from pydantic import BaseModel, ConfigDict, Field, field_validator

from graph_models.records import Agency, Node, Relationship, StoredProvenance
from graph_models.schema import SCHEMA, Label, RelType
from graph_models.store.base import GraphStore, far_ends
from graph_models.store.rows import trusted
from queries.models import NodeView, RelView, Withheld

# Whom to ask for what a compartment holds (the wording of a hit / no-hit marker).
HOLDERS: dict[str, str] = {
    "customs": "held by Customs — ask the customs liaison officer",
    "fiu": "held by the FIU — ask the FIU liaison officer",
    "tax": "held by the tax administration — ask the tax liaison officer",
    "registry": "held by the company registry — ask the registry",
    "external": "held as external data — ask the data steward",
}


class Scope(BaseModel):
    """The compartments a caller may read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    compartments: frozenset[str] = Field(description="agency compartments the caller may read")

    @field_validator("compartments")
    @classmethod
    def _known(cls, value: frozenset[str]) -> frozenset[str]:
        known = {a.value for a in Agency}
        unknown = sorted(value - known)
        if unknown:
            raise ValueError(f"unknown compartments {unknown}; known: {sorted(known)}")
        return value

    @classmethod
    def of(cls, *compartments: str) -> Scope:
        return cls(compartments=frozenset(compartments))

    @classmethod
    def everything(cls) -> Scope:
        return cls(compartments=frozenset(a.value for a in Agency))

    def narrow(self, agencies: Collection[str] | None) -> Scope:
        """This scope limited to ``agencies`` (an agency filter never widens a scope)."""
        if agencies is None:
            return self
        return Scope(compartments=self.compartments & frozenset(agencies))

    # --- source facts ----------------------------------------------------------------------
    def sees(self, prov: StoredProvenance) -> bool:
        """Rule 1: visible when the element's compartments meet the scope."""
        return not self.compartments.isdisjoint(prov.compartments)

    def sees_all(self, prov: StoredProvenance) -> bool:
        """Rule 3: a derived fact is open only when all its compartments are in the scope."""
        return bool(prov.compartments) and self.compartments.issuperset(prov.compartments)

    def hidden(self, prov: StoredProvenance) -> list[str]:
        """The element's compartments outside the scope."""
        return sorted(set(prov.compartments) - self.compartments)

    def redact(self, prov: StoredProvenance) -> StoredProvenance:
        """Rule 2: the provenance with every trace of out-of-scope compartments removed."""
        if self.sees_all(prov):
            return prov
        sources = [s for s in prov.sources if s.partition("|")[0] in self.compartments]
        # Sources are agency|file|load_id and record ids file|record (stores replace a "|" in
        # a file name), so a record id is kept when only agencies of the scope sent its file.
        files: dict[str, set[str]] = defaultdict(set)
        for source in prov.sources:
            agency, _, rest = source.partition("|")
            files[rest.rpartition("|")[0]].add(agency)
        records = [
            r
            for r in prov.record_ids
            if (owners := files.get(r.partition("|")[0])) and owners <= self.compartments
        ]
        # The dates are dropped (another compartment's record dates), as the rule says.
        return trusted(
            StoredProvenance,
            {
                "agencies": [a for a in prov.agencies if a in self.compartments],
                "compartments": [c for c in prov.compartments if c in self.compartments],
                "sources": sources,
                "record_ids": records,
                "first_seen": None,
                "last_seen": None,
            },
        )

    def reads(self, node: Node) -> bool:
        """Whether a node met at the end of a readable relationship may be returned.

        Source nodes follow rule 1, alerts rule 3. A resolved entity is only ever reached
        through a ``SAME_AS`` from a member or a ``FLAGS`` from an alert, whose own visibility
        is checked at the other end, so here it is readable (its name is cut by ``node_view``).
        """
        if node.label == Label.ALERT:
            return self.sees_all(node.provenance)
        if node.label == Label.RESOLVED_ENTITY:
            return True
        return self.sees(node.provenance)

    def reads_rel(self, rel: Relationship) -> bool:
        """Whether a relationship may be returned (callers check both end nodes too)."""
        if rel.type == RelType.SAME_AS:
            return True  # as visible as its member record, which is checked as an end node
        return self.sees(rel.provenance)

    def node_view(self, node: Node) -> NodeView:
        """A readable node as the caller may see it (call only when :meth:`reads` holds)."""
        props = node.properties
        whole = self.sees_all(node.provenance)
        if node.label == Label.RESOLVED_ENTITY and not whole:
            # The entity's name may come from a member the caller cannot read (rule 3).
            props = {k: v for k, v in props.items() if k != "name"}
        # Built from an already valid node: no validation again (a neighbourhood answer makes
        # hundreds of these per request).
        return trusted(
            NodeView,
            {
                "label": node.label,
                "key": node.key,
                "properties": props,
                "provenance": node.provenance if whole else self.redact(node.provenance),
                "partial": not whole,
            },
        )

    def rel_view(self, rel: Relationship) -> RelView:
        whole = self.sees_all(rel.provenance)
        return trusted(
            RelView,
            {
                "type": rel.type,
                "start": rel.start,
                "end": rel.end,
                "key": rel.key,
                "properties": rel.properties,
                "provenance": rel.provenance if whole else self.redact(rel.provenance),
                "partial": not whole,
            },
        )

    def agencies_of(self, prov: StoredProvenance) -> list[str]:
        return [a for a in prov.agencies if a in self.compartments]


class Tally:
    """Counts hidden elements per compartment for hit / no-hit markers.

    An element is counted once per (compartment, kind) however often a query meets it, so
    expanding the same node twice does not inflate a count.
    """

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self._seen: dict[tuple[str, str], set[str]] = defaultdict(set)

    def add(self, kind: str, identity: str, prov: StoredProvenance) -> None:
        """Count an element the caller may not read under each of its hidden compartments."""
        hidden = self.scope.hidden(prov) or ["unknown"]
        for compartment in hidden:
            self._seen[(compartment, kind)].add(identity)

    def merge(self, other: Tally) -> None:
        for kind_key, ids in other._seen.items():
            self._seen[kind_key] |= ids

    def markers(self) -> list[Withheld]:
        return [
            Withheld(
                compartment=compartment,
                kind=kind,
                count=len(ids),
                note=HOLDERS.get(compartment, "held outside your scope"),
            )
            for (compartment, kind), ids in sorted(self._seen.items())
        ]


def rel_id(rel: Relationship) -> str:
    """A relationship's identity as one string (``type:start>end#key``, as in alert evidence)."""
    return f"{rel.type.value}:{rel.start}>{rel.end}#{rel.key}"


# --- resolved entities (rule 3) ------------------------------------------------------------
class Members(BaseModel):
    """A key lifted to what it stands for: a resolved entity and its records, or one record."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(description="the entity key, or the record key when not resolved")
    label: Label
    name: str | None
    resolved: bool
    records: list[Node] = Field(description="visible source records, ordered by key")


def lift(
    store: GraphStore, key: str, *, scope: Scope, tally: Tally, resolve: bool = True
) -> Members | None:
    """What ``key`` stands for, as the scope may see it; None when it is all hidden.

    A source record with a ``SAME_AS`` link is lifted to its resolved entity when ``resolve``;
    a resolved entity brings its visible members. Hidden members are counted in ``tally``.
    Raises NotFoundError when ``key`` does not exist.
    """
    node = store.require_node(key)
    entity: Node | None = node if node.label == Label.RESOLVED_ENTITY else None
    if entity is None:
        if not scope.reads(node):
            tally.add("source records", node.key, node.provenance)
            return None
        if resolve:
            links = store.expand_with_ends([key], rel_types=[RelType.SAME_AS], direction="out")
            if links.relationships:
                entity = far_ends(store, [key], links).get(links.relationships[0].end)
        if entity is None:
            return Members(
                key=key,
                label=node.label,
                name=_name(node),
                resolved=False,
                records=[node],
            )
    records = entity_members(store, entity.key, scope=scope, tally=tally)
    if not records:
        return None
    return Members(
        key=entity.key,
        label=entity.label,
        name=entity_name(entity, records, scope=scope),
        resolved=True,
        records=records,
    )


def entity_members(store: GraphStore, entity: str, *, scope: Scope, tally: Tally) -> list[Node]:
    """The visible SAME_AS members of a resolved entity (hidden ones go to ``tally``)."""
    links = store.expand_with_ends([entity], rel_types=[RelType.SAME_AS], direction="in")
    ends = far_ends(store, [entity], links)
    nodes = {k: ends[k] for k in {r.start for r in links.relationships} if k in ends}
    out = []
    for k in sorted(nodes):
        if scope.sees(nodes[k].provenance):
            out.append(nodes[k])
        else:
            tally.add("source records", k, nodes[k].provenance)
    return out


def entity_name(entity: Node, visible_members: Iterable[Node], *, scope: Scope) -> str | None:
    """The entity's own name when the scope covers all of it, else a visible member's."""
    if scope.sees_all(entity.provenance) and entity.properties.get("name"):
        return str(entity.properties["name"])
    names = sorted(n for m in visible_members if (n := _name(m)))
    return names[0] if names else None


def resolved_entities(store: GraphStore, keys: Collection[str]) -> dict[str, str]:
    """The resolved entity of each record in ``keys`` that has one (record -> entity)."""
    parties = [k for k in keys if SCHEMA.label_of_key(k) != Label.RESOLVED_ENTITY]
    if not parties:
        return {}
    links = store.expand(parties, rel_types=[RelType.SAME_AS], direction="out")
    out: dict[str, str] = {}
    for link in links:  # ordered by identity, so the first entity of a record wins everywhere
        out.setdefault(link.start, link.end)
    return out


def _name(node: Node) -> str | None:
    for prop in ("name", "full", "account_number", "number", "address", "code", "hs_code"):
        value = node.properties.get(prop)
        if isinstance(value, str) and value:
            return value
    return None


def display_name(node: Node) -> str | None:
    """A short human label for any node (its name, address text, number ...)."""
    return _name(node)
