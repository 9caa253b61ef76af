"""Search: find parties by name (fuzzy) or by any identifier, across agencies.

**By name.** Names are normalised like ``loaders.keys.norm_text`` (accents stripped, case
folded, punctuation to spaces) and the legal form is stripped ("ACME TRADING LTD", "Acme
Trading Limited" and "acme trading" all become ``acme trading``), then compared with
``rapidfuzz``'s ``token_sort_ratio`` (0-100; word order does not matter).

Candidates come from a **token index** (:class:`NameIndex`): normalised name word -> records,
built lazily from ``iter_nodes([Company, Person, ResolvedEntity])`` and cached per store. A
query word finds the index words within one or two edits of it (``rapidfuzz`` over the
vocabulary, which is far smaller than the records: "akme" finds "acme"), and the records
holding those words are the candidates; only they are scored. The trade-off:

- building the index scans every party once (about 0.2 ms a party on the embedded store:
  pydantic parsing of each node dominates), paid on the first search and after a change;
  every later search costs a scan of the vocabulary (C speed) and the scoring of its
  candidates, not a scan of all parties (well under 10 ms at scale 1);
- freshness: the seam has no change counter, so the cache is trusted for ``max_age_s``
  (default 300 s) before its party counts are compared with the store's (``node_counts``,
  read from an index or Neo4j's count store), and :func:`invalidate_name_index` drops it
  at once (call it after a load or a resolution run). A stale index can only miss new or
  renamed records: candidates are re-read from the store and re-scored on their stored name,
  so a deleted record or an out-of-date name is never returned. A cheap revision counter on
  the store seam would let every search check freshness;
- very common words ("trading", "international") have long posting lists; a word held by
  more than ``common_word`` records does not generate candidates when the query has a rarer
  word, so "acme trading" is answered from "acme" (it still counts in the score).

**By identifier.** Tax id, VAT and registration numbers, IBAN and account numbers, passport
and id numbers, phones and e-mails are normalised (``loaders.keys``: spaces, dots, dashes and
slashes dropped, upper case; phones to digits and ``+``; e-mails lower case) and looked up
three ways: by node key where keys carry the normalised value (``company:<agency>:tax:<id>``,
``person:<agency>:id:<id>``, ``account:<IBAN>``, ``phone:<digits>``, ``email:<addr>``), by
the indexed properties (``find_nodes``, as typed and normalised), and in the index's
normalised identifiers of parties (which catches a register that stored "GB 123 456"). A
shared value found (an account, a phone) brings the parties linked to it as hits too.

**Results** are ranked by score, grouped to their resolved entity when one exists, and carry
the agencies of each hit. Records the caller's scope cannot see are not shown but counted in
``withheld`` (hit / no-hit: "held by the FIU — ask the liaison officer").
"""

from __future__ import annotations

import re
import threading
import time
import weakref
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from graph_models.records import Agency, Node
from graph_models.schema import SCHEMA, Label, RelType
from graph_models.store.base import ExpandRequest, GraphStore
from loaders.keys import norm_id, norm_text
from queries.access import Scope, Tally, display_name, entity_members, entity_name
from queries.batched import read_ahead
from queries.models import RecordHit, SearchHit, SearchMode, SearchResult

INDEXED_LABELS = (Label.COMPANY, Label.PERSON, Label.RESOLVED_ENTITY)
PARTY_IDENTIFIERS: dict[Label, tuple[str, ...]] = {
    Label.COMPANY: ("tax_id", "vat_number", "registration_number"),
    Label.PERSON: ("id_number",),
}
VALUE_IDENTIFIERS: dict[Label, tuple[str, ...]] = {
    Label.ACCOUNT: ("iban", "account_number"),
    Label.PHONE: ("number",),
    Label.EMAIL: ("address",),
}
# Parties linked to a shared value found by identifier, and the relationship that links them.
_VALUE_HOLDERS = {
    Label.ACCOUNT: RelType.HOLDS,
    Label.PHONE: RelType.HAS_PHONE,
    Label.EMAIL: RelType.HAS_EMAIL,
}
LINKED_SCORE = 90.0  # a party holding the account / phone found ranks below the value itself

# Legal forms, as normalised word sequences, stripped from the end of a name (longest first,
# so "gmbh co kg" goes whole), and the few written first in their home country ("OOO Romashka",
# "PT Maju"). A name that is nothing but a legal form keeps it.
LEGAL_FORMS: tuple[str, ...] = (
    "ltd", "limited", "co ltd", "co limited", "company limited", "company ltd", "pvt ltd",
    "private limited", "pte ltd", "pty ltd", "plc", "public limited company", "llc", "l l c",
    "limited liability company", "llp", "lp", "inc", "incorporated", "corp", "corporation", "co",
    "company", "gmbh", "g m b h", "gmbh co kg", "gmbh und co kg", "ug", "ag", "kg", "ohg", "ev",
    "sa", "s a", "sarl", "s a r l", "sas", "srl", "s r l", "spa", "s p a", "sl", "ltda", "bv",
    "b v", "nv", "n v", "sp z o o", "sp zoo", "ab", "oy", "oyj", "aps", "as", "a s", "asa", "dac",
    "fze", "fzco", "fz llc", "jsc", "kk", "ooo", "ao", "zao", "oao", "pao", "sro", "s r o", "doo",
    "d o o", "kft", "bhd", "sdn bhd", "pt", "tbk",
)  # fmt: skip
# Trailing forms by their last word, longest first, so stripping tests only the few forms that
# can match (this runs once per party when the index is built).
_FORMS_BY_LAST: dict[str, list[tuple[str, ...]]] = {}
for _form in sorted((tuple(f.split()) for f in LEGAL_FORMS), key=len, reverse=True):
    _FORMS_BY_LAST.setdefault(_form[-1], []).append(_form)
_LEADING_FORMS: tuple[tuple[str, ...], ...] = (("ooo",), ("ao",), ("zao",), ("oao",), ("pt",))
_STOP_WORDS = frozenset({"the", "and", "of", "und", "et"})
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_DIGITS = re.compile(r"\d")
_LETTERS = re.compile(r"[^\W\d_]")


@lru_cache(maxsize=1 << 16)
def core_name(name: str) -> str:
    """A name's normalised core: ``norm_text``, legal form and stop words removed."""
    words = norm_text(name).split()
    stripped = True
    while stripped and words:
        stripped = False
        for form in _FORMS_BY_LAST.get(words[-1], ()):
            n = len(form)
            if len(words) > n and tuple(words[-n:]) == form:
                words = words[:-n]
                stripped = True
                break
    for form in _LEADING_FORMS:
        n = len(form)
        if len(words) > n and tuple(words[:n]) == form:
            words = words[n:]
    core = [w for w in words if w not in _STOP_WORDS] or words
    return " ".join(core)


# --- the index ------------------------------------------------------------------------------
@dataclass
class NameIndex:
    """Normalised name words and identifiers of every party, for candidate generation."""

    keys: list[str] = field(default_factory=list)
    cores: list[str] = field(default_factory=list)
    postings: dict[str, tuple[int, ...]] = field(default_factory=dict)
    identifiers: dict[str, tuple[tuple[int, str], ...]] = field(default_factory=dict)
    vocabulary: list[str] = field(default_factory=list)
    signature: tuple[tuple[str, int], ...] = ()
    checked_at: float = 0.0

    @classmethod
    def build(cls, store: GraphStore) -> NameIndex:
        """Scan the parties once. Cost: O(parties), memory O(parties + distinct words)."""
        index = cls(signature=_signature(store), checked_at=time.monotonic())
        postings: dict[str, list[int]] = defaultdict(list)
        identifiers: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for node in store.iter_nodes(INDEXED_LABELS):
            position = len(index.keys)
            core = core_name(str(node.properties.get("name", "")))
            index.keys.append(node.key)
            index.cores.append(core)
            for word in set(core.split()):
                postings[word].append(position)
            for prop in PARTY_IDENTIFIERS.get(node.label, ()):
                value = node.properties.get(prop)
                if isinstance(value, str) and (normal := norm_id(value)):
                    identifiers[normal].append((position, prop))
        # Tuples, not lists: the cyclic collector stops tracking a tuple of plain values, so
        # a full collection does not walk the index's tens of thousands of entries (it did,
        # for a sixth of the API's CPU time).
        index.postings = {word: tuple(at) for word, at in postings.items()}
        index.identifiers = {value: tuple(at) for value, at in identifiers.items()}
        index.vocabulary = sorted(postings)
        return index


_CACHE: weakref.WeakKeyDictionary[GraphStore, NameIndex] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _signature(store: GraphStore) -> tuple[tuple[str, int], ...]:
    # node_counts, not counts(): the full tally scanned the whole graph (4 s at scale 10)
    # while every search of the process waited on the cache lock.
    counts = store.node_counts(INDEXED_LABELS)
    return tuple((label.value, counts.get(label.value, 0)) for label in INDEXED_LABELS)


def name_index(store: GraphStore, *, max_age_s: float = 300.0) -> NameIndex:
    """The store's cached index: rebuilt when the party counts changed (checked at most every
    ``max_age_s`` seconds; 0 checks on every call)."""
    with _LOCK:
        index = _CACHE.get(store)
        now = time.monotonic()
        if index is not None and now - index.checked_at < max_age_s:
            return index
        if index is not None and index.signature == _signature(store):
            index.checked_at = now
            return index
        index = NameIndex.build(store)
        _CACHE[store] = index
        return index


def invalidate_name_index(store: GraphStore) -> None:
    """Drop the store's cached index (after a load, a resolution run or a clear)."""
    with _LOCK:
        _CACHE.pop(store, None)


# --- search ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Match:
    key: str
    score: float
    matched_on: str
    matched_value: str


def search(
    store: GraphStore,
    query: str,
    *,
    scope: Scope,
    mode: SearchMode = SearchMode.AUTO,
    limit: int = 20,
    min_score: float = 85.0,
    common_word: int = 5_000,
    max_age_s: float = 300.0,
) -> SearchResult:
    """Ranked parties matching ``query`` by name and / or identifier.

    Parameters
    ----------
    mode
        ``name``, ``identifier``, or ``auto``: identifier look-ups when the query has three
        digits or an ``@``, name matching when it has letters and no ``@``; both when both.
    min_score
        Name hits scoring below this (``token_sort_ratio`` of the normalised cores) are
        dropped; identifier hits score 100 (90 for a party linked to a value found). At the
        default 85 one typo in a two-word name passes ("akme trading" / "acme trading": 92)
        and two in it do not ("apex trading": 83).
    common_word, max_age_s
        See the module docstring.
    """
    text = query.strip()
    tally = Tally(scope)
    matches: dict[str, _Match] = {}
    index: NameIndex | None = None
    if mode in (SearchMode.AUTO, SearchMode.IDENTIFIER) and (
        mode == SearchMode.IDENTIFIER or "@" in text or len(_DIGITS.findall(text)) >= 3
    ):
        index = name_index(store, max_age_s=max_age_s)
        for match in _identifier_matches(store, index, text, scope=scope, tally=tally):
            _keep_best(matches, match)
    if mode in (SearchMode.AUTO, SearchMode.NAME) and (
        mode == SearchMode.NAME or ("@" not in text and _LETTERS.search(text))
    ):
        index = index or name_index(store, max_age_s=max_age_s)
        for match in _name_matches(index, text, min_score=min_score, common_word=common_word):
            _keep_best(matches, match)
    hits = _hits(store, matches, text, scope=scope, tally=tally, min_score=min_score)
    return SearchResult(
        query=query,
        mode=mode,
        hits=hits[:limit],
        total=len(hits),
        withheld=tally.markers(),
    )


def _keep_best(matches: dict[str, _Match], match: _Match) -> None:
    held = matches.get(match.key)
    if held is None or (match.score, match.matched_on) > (held.score, held.matched_on):
        matches[match.key] = match


def _name_matches(
    index: NameIndex, query: str, *, min_score: float, common_word: int
) -> list[_Match]:
    core = core_name(query)
    words = core.split()
    if not words:
        return []
    expanded = {w: _similar_words(index, w) for w in set(words)}
    sizes = {w: sum(len(index.postings[v]) for v in similar) for w, similar in expanded.items()}
    rare = [w for w in expanded if sizes[w] <= common_word]
    # Common words still count in the score; they only stop generating candidates when a
    # rarer word can (otherwise every "... trading" would be scored for "acme trading").
    generators = rare or sorted(expanded, key=lambda w: sizes[w])[:1]
    candidates: set[int] = set()
    for word in generators:
        for similar in expanded[word]:
            candidates.update(index.postings[similar])
    positions = list(candidates)
    # Scored in one call (rapidfuzz's loop, in C): one call per candidate was a tenth of the
    # API's time.
    scored = process.extract(
        core,
        [index.cores[p] for p in positions],
        scorer=fuzz.token_sort_ratio,
        score_cutoff=min_score,
        limit=None,
    )
    return [
        _Match(index.keys[positions[i]], score, "name", index.cores[positions[i]])
        for _, score, i in scored
    ]


def _similar_words(index: NameIndex, word: str) -> list[str]:
    """Index words within the edit budget of ``word``: none for up to 3 letters, one up to 7,
    two beyond (a typo per short word, two in a long one)."""
    budget = 0 if len(word) <= 3 else 1 if len(word) <= 7 else 2
    if budget == 0:
        return [word] if word in index.postings else []
    found = process.extract(
        word,
        index.vocabulary,
        scorer=Levenshtein.distance,
        score_cutoff=budget,
        limit=None,
    )
    return sorted(str(choice) for choice, _, _ in found)


def _identifier_matches(
    store: GraphStore, index: NameIndex, text: str, *, scope: Scope, tally: Tally
) -> list[_Match]:
    out: list[_Match] = []
    normal = norm_id(text)
    if not normal:
        return out
    candidates: dict[str, str] = {}
    if _EMAIL.match(text):
        candidates[SCHEMA.make_key(Label.EMAIL, text.lower())] = "email"
    else:
        for agency in Agency:
            candidates[SCHEMA.make_key(Label.COMPANY, agency.value, "tax", normal)] = "tax_id"
            candidates[SCHEMA.make_key(Label.PERSON, agency.value, "id", normal)] = "id_number"
        candidates[SCHEMA.make_key(Label.ACCOUNT, normal)] = "iban"
        for phone in _phone_variants(text):
            candidates[SCHEMA.make_key(Label.PHONE, phone)] = "phone"
    for key in sorted(store.get_nodes(list(candidates))):
        out.append(_Match(key, 100.0, candidates[key], text))
    values = {text, normal, text.lower(), text.upper()}
    for label, props in (*PARTY_IDENTIFIERS.items(), *VALUE_IDENTIFIERS.items()):
        for prop in props:
            for value in sorted(values):
                for node in store.find_nodes(label, prop, value):
                    out.append(_Match(node.key, 100.0, prop, value))
    for position, prop in index.identifiers.get(normal, []):
        out.append(_Match(index.keys[position], 100.0, prop, text))
    values_found = [m for m in out if SCHEMA.label_of_key(m.key) in _VALUE_HOLDERS]
    out.extend(_holders(store, values_found, scope=scope, tally=tally))
    return out


def _phone_variants(text: str) -> list[str]:
    """Phone keys the query may be stored under (digits and ``+``; ``00`` is ``+``; a
    national trunk ``(0)`` after the country code is dropped)."""
    compact = re.sub(r"\(0\)", "", text)
    digits = re.sub(r"[^0-9+]", "", compact)
    if not _DIGITS.search(digits):
        return []
    variants = {digits, re.sub(r"[^0-9+]", "", text)}
    if digits.startswith("00"):
        variants.add("+" + digits[2:])
    if digits.startswith("+"):
        variants.add("00" + digits[1:])
    return sorted(v for v in variants if v)


def _holders(
    store: GraphStore, values: list[_Match], *, scope: Scope, tally: Tally
) -> list[_Match]:
    """Parties linked to the shared values found (holders of an account, owners of a phone);
    a link the scope cannot read is counted, not followed."""
    by_key = {m.key: m for m in values}
    if not by_key:
        return []
    rel_types = sorted({_VALUE_HOLDERS[SCHEMA.label_of_key(k)] for k in by_key})
    out = []
    for rel in store.expand(list(by_key), rel_types=rel_types, direction="in"):
        if not scope.reads_rel(rel):
            tally.add("search hits", rel.start, rel.provenance)
            continue
        found = by_key[rel.end]
        out.append(_Match(rel.start, LINKED_SCORE, f"linked to {rel.end}", found.matched_value))
    return out


def _hits(
    store: GraphStore,
    matches: dict[str, _Match],
    query: str,
    *,
    scope: Scope,
    tally: Tally,
    min_score: float,
) -> list[SearchHit]:
    """Re-read the matched records, keep what the scope sees, group them by entity, rank."""
    # The records and their resolution links in one go (one Neo4j round trip); the links of
    # the records kept are cut from those of all the matches.
    parties = [k for k in matches if SCHEMA.label_of_key(k) != Label.RESOLVED_ENTITY]
    store = read_ahead(store, list(matches), [ExpandRequest.of(parties, [RelType.SAME_AS], "out")])
    nodes = store.get_nodes(list(matches))
    core = core_name(query)
    records: list[tuple[Node, _Match]] = []
    entities: list[tuple[Node, _Match]] = []
    for key in sorted(nodes):
        node, match = nodes[key], matches[key]
        if match.matched_on == "name":
            # Score the stored name, not the index's copy, which may be stale.
            fresh = core_name(str(node.properties.get("name", "")))
            match = _Match(key, fuzz.token_sort_ratio(core, fresh), "name", fresh)
            if match.score < min_score:
                continue
        if node.label == Label.RESOLVED_ENTITY:
            entities.append((node, match))
        elif scope.sees(node.provenance):
            records.append((node, match))
        else:
            tally.add("search hits", key, node.provenance)
    links = store.expand([n.key for n, _ in records], rel_types=[RelType.SAME_AS], direction="out")
    entity_of: dict[str, str] = {}
    for link in links:
        entity_of.setdefault(link.start, link.end)
    groups: dict[str, list[tuple[Node, _Match]]] = defaultdict(list)
    for node, match in records:
        groups[entity_of.get(node.key, node.key)].append((node, match))
    entity_nodes = store.get_nodes(
        [k for k in groups if k not in nodes] + [n.key for n, _ in entities]
    )
    for entity, match in entities:
        # A name match on the entity itself counts only when the scope may read that name.
        if match.matched_on == "name" and not scope.sees_all(entity.provenance):
            continue
        visible = entity_members(store, entity.key, scope=scope, tally=tally)
        if visible:
            groups.setdefault(entity.key, [])
            groups[entity.key].append((entity, match))
    hits = [
        hit
        for key, group in groups.items()
        if (hit := _hit(key, group, entity_nodes.get(key), scope)) is not None
    ]
    hits.sort(key=lambda h: (-h.score, h.key))
    return hits


def _hit(
    key: str, group: list[tuple[Node, _Match]], entity: Node | None, scope: Scope
) -> SearchHit | None:
    records = [
        RecordHit(
            key=node.key,
            label=node.label,
            name=display_name(node) if node.label != Label.RESOLVED_ENTITY else None,
            agencies=scope.agencies_of(node.provenance),
            score=round(match.score, 2),
            matched_on=match.matched_on,
            matched_value=match.matched_value,
        )
        for node, match in sorted(group, key=lambda nm: (-nm[1].score, nm[0].key))
    ]
    parties = [n for n, _ in group if n.label != Label.RESOLVED_ENTITY]
    label: Label
    if entity is not None and entity.label == Label.RESOLVED_ENTITY:
        name = entity_name(entity, parties, scope=scope)
        label, resolved = Label.RESOLVED_ENTITY, True
    else:
        name, label, resolved = display_name(group[0][0]), group[0][0].label, False
    if name is None and not parties:
        return None
    return SearchHit(
        key=key,
        label=label,
        name=name,
        score=max(r.score for r in records),
        agencies=sorted({a for r in records for a in r.agencies}),
        resolved=resolved,
        records=records,
    )
