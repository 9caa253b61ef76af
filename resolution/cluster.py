"""Clustering: resolved entities are the connected components of positive links.

Positive links are analysts' positive judgements, identifier-rule links and model auto-links
(plus, in an incremental run, the clusters already resolved, which are kept). A stored
negative judgement is never bridged. **The rule:** links are added strongest first, in the
order judgement, kept cluster, ``rule:identifier``, ``model``, and within one method by score
(highest first), then by record order; a link that would put two records with a negative
judgement between them into one component is dropped. So when a chain of links would join
two records an analyst said are different, the weakest links that would close the chain are
the ones cut, and the result does not depend on the order links were found in.

A cluster's id is derived from its smallest member key, so re-running on the same input gives
the same ids (a cluster keeps its id as long as its smallest member stays).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from graph_models.schema import SCHEMA, Label

JUDGEMENT = "judgement"
KEPT = "kept"
RULE = "rule:identifier"
MODEL = "model"
_METHOD_RANK = {JUDGEMENT: 0, KEPT: 1, RULE: 2, MODEL: 3}


@dataclass(frozen=True, slots=True)
class Link:
    """A positive link between records ``left`` and ``right`` (positions)."""

    left: int
    right: int
    score: float
    method: str


def link_order(link: Link) -> tuple[int, float, int, int]:
    lo, hi = sorted((link.left, link.right))
    return (_METHOD_RANK.get(link.method, 9), -link.score, lo, hi)


class ConstrainedUnion:
    """Union-find that refuses to join components holding a negative pair."""

    def __init__(self, n: int, negatives: Iterable[tuple[int, int]] = ()) -> None:
        self.parent = list(range(n))
        self.size = [1] * n
        self.forbidden: dict[int, set[int]] = {}
        for a, b in negatives:
            if a != b:
                self.forbidden.setdefault(a, set()).add(b)
                self.forbidden.setdefault(b, set()).add(a)

    def find(self, x: int) -> int:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: int, b: int) -> bool:
        """Join the components of a and b; False (and nothing joined) when that would put a
        negative pair together. Already together counts as joined."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        fa, fb = self.forbidden.get(ra, set()), self.forbidden.get(rb, set())
        small, other = (fa, rb) if len(fa) <= len(fb) else (fb, ra)
        if any(self.find(x) == other for x in small):
            return False
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
            fa, fb = fb, fa
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]
        if fb:
            self.forbidden[ra] = fa | fb
            self.forbidden.pop(rb, None)
        return True


@dataclass
class Clustering:
    """Components (lists of positions, each sorted, ordered by first member) and the links
    each one was built from."""

    groups: list[list[int]]
    group_of: list[int]
    accepted: list[Link]
    refused: list[Link]


def cluster(n: int, links: Iterable[Link], negatives: Iterable[tuple[int, int]] = ()) -> Clustering:
    """Components of ``n`` records under positive ``links``, never joining a negative pair."""
    union = ConstrainedUnion(n, negatives)
    accepted: list[Link] = []
    refused: list[Link] = []
    for link in sorted(links, key=link_order):
        (accepted if union.union(link.left, link.right) else refused).append(link)
    roots: dict[int, list[int]] = {}
    for i in range(n):
        roots.setdefault(union.find(i), []).append(i)
    groups = sorted(roots.values(), key=lambda g: g[0])
    group_of = [0] * n
    for g, members in enumerate(groups):
        for i in members:
            group_of[i] = g
    return Clustering(groups, group_of, accepted, refused)


def entity_key(member_keys: Sequence[str]) -> str:
    """The ResolvedEntity key of a cluster: a digest of its smallest member key."""
    digest = hashlib.blake2b(min(member_keys).encode(), digest_size=8).hexdigest()
    return SCHEMA.make_key(Label.RESOLVED_ENTITY, digest)
