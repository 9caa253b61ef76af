"""Shared attributes: who else has this entity's address, phone, e-mail, account or director.

One hop out from the entity's records to the shared value (Address, Phone, Email, Account;
shared values are keyed by their normalised value, so every agency's mention of the same
value is the same node), one hop back to the other records linked to it. For directors, one
hop in to the directors of the entity's records, lifted to the director's resolved entity so
that the registry's and the FIU's record of the same person count as one director, then one
hop out to the other companies they direct.

Sharers are lifted to their resolved entity (two records of one sharer are one sharer, and
the entity's own other records are not sharers). Per shared value at most ``cap`` sharers
are listed, ordered by key; ``total`` counts them all and ``more`` those beyond the cap, so
a formation agent's address with 5,000 companies answers with ``cap`` of them and the count.
Sharers the caller's scope cannot see are not counted in ``total``: they are counted per
compartment in ``withheld`` (kind "sharers").

Cost: three or four ``expand`` calls; the hop back is O(degree of each shared value), which
stays bounded because shared values are one-hop pivots, not traversed further.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

from graph_models.records import Node, Relationship
from graph_models.schema import RelType
from graph_models.store.base import GraphStore
from queries.access import (
    Members,
    Scope,
    Tally,
    display_name,
    entity_name,
    lift,
    rel_id,
    resolved_entities,
)
from queries.models import Attribute, SharedAttributes, SharedValue, Sharer

VALUE_LINKS: dict[Attribute, RelType] = {
    Attribute.ADDRESS: RelType.REGISTERED_AT,
    Attribute.PHONE: RelType.HAS_PHONE,
    Attribute.EMAIL: RelType.HAS_EMAIL,
    Attribute.ACCOUNT: RelType.HOLDS,
}
_BY_LINK = {rel_type: attribute for attribute, rel_type in VALUE_LINKS.items()}


def shared_attributes(
    store: GraphStore,
    key: str,
    *,
    scope: Scope,
    attributes: Collection[Attribute] | None = None,
    cap: int = 20,
    resolve: bool = True,
) -> SharedAttributes:
    """The other entities sharing an address, phone, e-mail, account or director with ``key``.

    Raises NotFoundError when ``key`` does not exist.
    """
    wanted = set(attributes) if attributes is not None else set(Attribute)
    tally = Tally(scope)
    members = lift(store, key, scope=scope, tally=tally, resolve=resolve)
    if members is None:
        return SharedAttributes(key=key, shared=[], withheld=tally.markers())
    reader = _Reader(store, scope, tally)
    own = {m.key for m in members.records}
    out: list[SharedValue] = []
    link_types = [VALUE_LINKS[a] for a in sorted(wanted) if a in VALUE_LINKS]
    if link_types:
        out.extend(_values(reader, members, own, link_types, cap))
    if Attribute.DIRECTOR in wanted:
        out.extend(_directors(reader, members, own, cap))
    out.sort(key=lambda v: (v.attribute.value, v.value))
    return SharedAttributes(key=members.key, shared=out, withheld=tally.markers())


class _Reader:
    """Readable relationships and their far ends, hidden ones counted as sharers."""

    def __init__(self, store: GraphStore, scope: Scope, tally: Tally) -> None:
        self.store = store
        self.scope = scope
        self.tally = tally

    def hop(
        self,
        keys: Collection[str],
        rel_types: list[RelType],
        direction: str,
        *,
        kind: str,
    ) -> list[tuple[Relationship, Node]]:
        """Readable (relationship, far node) pairs one hop from ``keys``."""
        if not keys:
            return []
        rels = self.store.expand(
            keys,
            rel_types=rel_types,
            direction="out" if direction == "out" else "in",
        )
        far = [r.end if direction == "out" else r.start for r in rels]
        nodes = self.store.get_nodes(set(far))
        out = []
        for rel, other in zip(rels, far, strict=True):
            node = nodes.get(other)
            if node is None:
                continue
            if not self.scope.reads_rel(rel) or not self.scope.reads(node):
                hidden = rel.provenance if not self.scope.reads_rel(rel) else node.provenance
                self.tally.add(kind, f"{other}|{rel_id(rel)}", hidden)
                continue
            out.append((rel, node))
        return out


def _values(
    reader: _Reader,
    members: Members,
    own: set[str],
    link_types: list[RelType],
    cap: int,
) -> list[SharedValue]:
    values: dict[str, tuple[Attribute, Node]] = {}
    for rel, node in reader.hop(own, link_types, "out", kind="shared values"):
        values.setdefault(node.key, (_BY_LINK[rel.type], node))
    back = reader.hop(list(values), link_types, "in", kind="sharers")
    by_value: dict[str, list[tuple[Relationship, Node]]] = defaultdict(list)
    for rel, node in back:
        attribute, _ = values[rel.end]
        if VALUE_LINKS[attribute] == rel.type and node.key not in own:
            by_value[rel.end].append((rel, node))
    out = []
    for value_key in sorted(values):
        attribute, value = values[value_key]
        sharers = _sharers(reader, members, by_value[value_key])
        if sharers:
            out.append(_shared(attribute, value_key, display_name(value), sharers, cap))
    return out


def _directors(reader: _Reader, members: Members, own: set[str], cap: int) -> list[SharedValue]:
    directors = reader.hop(own, [RelType.DIRECTOR_OF], "in", kind="shared values")
    # A director is a real person: lift each director record to its resolved entity, so the
    # companies any of its records direct are found.
    lifted = resolved_entities(reader.store, [n.key for _, n in directors])
    groups: dict[str, dict[str, Node]] = defaultdict(dict)
    for _, node in directors:
        groups[lifted.get(node.key, node.key)][node.key] = node
    entity_keys = [g for g in groups if g not in {n.key for _, n in directors}]
    if entity_keys:
        for rel, node in reader.hop(entity_keys, [RelType.SAME_AS], "in", kind="shared values"):
            groups[rel.end][node.key] = node
    out = []
    for director_key in sorted(groups):
        records = groups[director_key]
        companies = reader.hop(list(records), [RelType.DIRECTOR_OF], "out", kind="sharers")
        sharers = _sharers(reader, members, [(r, n) for r, n in companies if n.key not in own])
        if sharers:
            name = sorted(n for r in records.values() if (n := display_name(r)))
            out.append(
                _shared(Attribute.DIRECTOR, director_key, name[0] if name else None, sharers, cap)
            )
    return out


def _sharers(
    reader: _Reader, members: Members, links: list[tuple[Relationship, Node]]
) -> list[Sharer]:
    """The sharers behind ``links``, lifted to their resolved entities, without ``members``."""
    lifted = resolved_entities(reader.store, [n.key for _, n in links])
    groups: dict[str, list[Node]] = defaultdict(list)
    for _, node in links:
        owner = lifted.get(node.key, node.key)
        if owner != members.key and all(node.key != n.key for n in groups[owner]):
            groups[owner].append(node)
    entities = reader.store.get_nodes([k for k in groups if k not in {n.key for _, n in links}])
    out = []
    for group_key in sorted(groups):
        records = sorted(groups[group_key], key=lambda n: n.key)
        entity = entities.get(group_key)
        agencies = {a for r in records for a in reader.scope.agencies_of(r.provenance)}
        out.append(
            Sharer(
                key=group_key,
                label=entity.label if entity else records[0].label,
                name=(
                    entity_name(entity, records, scope=reader.scope)
                    if entity
                    else display_name(records[0])
                ),
                agencies=sorted(agencies),
                via=[r.key for r in records],
            )
        )
    return out


def _shared(
    attribute: Attribute, value: str, display: str | None, sharers: list[Sharer], cap: int
) -> SharedValue:
    return SharedValue(
        attribute=attribute,
        value=value,
        display=display,
        sharers=sharers[:cap],
        total=len(sharers),
        more=max(0, len(sharers) - cap),
    )
