"""Source records and their comparison features, read through the store seam.

A :class:`Record` is one ``Company`` or ``Person`` node as resolution sees it: normalised name,
legal form, country, date, canonical identifiers, and the shared values it points at
(addresses, phones, e-mails, accounts) plus its associates (a company's officers, a person's
companies). Everything comes from ``iter_nodes`` / ``iter_relationships`` (the whole graph,
streamed) or ``get_nodes`` / ``expand`` (a few records, for explanations and judgements), so
both stores give the same records.

Shared values are read from their node keys, which ``loaders/keys.py`` builds from the
normalised value (``address:<country>:<text>``, ``phone:<digits>``, ``email:<address>``,
``account:<iban or institution:number>``): no extra read per address.

A person's accounts are those it holds and those it paid cash into or drew cash from (a
PAID between the person and an account: a CTR's conductor, a goAML party without an account
of its own). FIU records of one person often carry nothing but a name; the account the cash
went through is what ties them to the person's other records. A company's are only those it
holds: a company paying into an account is its holder's customer, not its holder.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field

from graph_models.records import Node, Relationship
from graph_models.schema import SCHEMA, Label, RelType
from graph_models.store.base import GraphStore
from resolution.identifiers import (
    Identifier,
    account_number,
    person_identifier,
    registration_identifier,
    tax_identifier,
)
from resolution.normalize import (
    address_tokens,
    company_name,
    email_norm,
    person_tokens,
    phone_e164,
)

PARTY_LABELS = (Label.COMPANY, Label.PERSON)
FEATURE_RELS = (
    RelType.REGISTERED_AT,
    RelType.HAS_PHONE,
    RelType.HAS_EMAIL,
    RelType.HOLDS,
    RelType.PAID,
    RelType.DIRECTOR_OF,
    RelType.SHAREHOLDER_OF,
)
COMPANY = "company"
PERSON = "person"
_OFFICER_RELS = (RelType.DIRECTOR_OF, RelType.SHAREHOLDER_OF)
_PERSON_PREFIX = f"{SCHEMA.nodes[Label.PERSON].prefix}:"
_ACCOUNT_PREFIX = f"{SCHEMA.nodes[Label.ACCOUNT].prefix}:"
# The agency whose record names an entity best: the register's legal name first.
NAME_PRIORITY = ("registry", "tax", "customs", "fiu", "external")

Progress = Callable[[str], None]


@dataclass(slots=True)
class Record:
    """One source record (a Company or Person node) with its comparison features."""

    key: str
    kind: str  # "company" or "person"
    name: str
    agencies: tuple[str, ...] = ()
    tokens: tuple[str, ...] = ()  # company: name core words; person: name words
    form: str | None = None  # company: canonical legal form
    country: str | None = None  # company: jurisdiction; person: nationality
    date: str | None = None  # company: incorporation date; person: birth date
    ids: tuple[Identifier, ...] = ()
    addresses: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    associates: tuple[str, ...] = ()
    fingerprint: str = ""

    @property
    def agency(self) -> str:
        """The agency whose record this is (the first that observed it)."""
        return self.agencies[0] if self.agencies else "external"

    def features(self) -> tuple[object, ...]:
        return (
            self.kind,
            self.name,
            self.agencies,
            self.tokens,
            self.form,
            self.country,
            self.date,
            self.ids,
            self.addresses,
            self.phones,
            self.emails,
            self.accounts,
            self.associates,
        )

    def seal(self, salt: str) -> None:
        """Fix the fingerprint: a digest of every feature and of the configuration, so a
        changed record (or a changed configuration) is seen as new by the next run."""
        text = repr((salt, self.features()))
        self.fingerprint = hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def company_record(
    key: str,
    *,
    name: str,
    agencies: Iterable[str] = (),
    tax_id: str | None = None,
    vat_number: str | None = None,
    registration_number: str | None = None,
    jurisdiction: str | None = None,
    legal_form: str | None = None,
    incorporation_date: str | None = None,
) -> Record:
    """A company record from its own properties (contacts and associates come later)."""
    parsed = company_name(name)
    form = parsed.form
    if form is None and legal_form:
        form = company_name(f"x {legal_form}").form
    ids: list[Identifier] = []
    for raw in (tax_id, vat_number):
        if raw:
            ident = tax_identifier(raw, jurisdiction)
            if ident is not None and ident not in ids:
                ids.append(ident)
    if registration_number:
        ident = registration_identifier(registration_number, jurisdiction)
        if ident is not None and ident not in ids:
            ids.append(ident)
    # A record without a jurisdiction (a tax return) is placed by its identifiers' country.
    country = jurisdiction or next((i.country for i in ids if i.country), None)
    return Record(
        key=key,
        kind=COMPANY,
        name=name,
        agencies=tuple(agencies),
        tokens=parsed.tokens,
        form=form,
        country=country.upper() if country else None,
        date=incorporation_date,
        ids=tuple(ids),
    )


def person_record(
    key: str,
    *,
    name: str,
    agencies: Iterable[str] = (),
    birth_date: str | None = None,
    nationality: str | None = None,
    id_number: str | None = None,
    id_type: str | None = None,
    extra_ids: Iterable[Identifier] = (),
) -> Record:
    """A person record from its own properties (contacts and associates come later)."""
    ids: list[Identifier] = []
    if id_number:
        ident = person_identifier(id_number, id_type, nationality)
        if ident is not None:
            ids.append(ident)
    ids.extend(i for i in extra_ids if i not in ids)
    return Record(
        key=key,
        kind=PERSON,
        name=name,
        agencies=tuple(agencies),
        tokens=person_tokens(name),
        country=nationality.upper() if nationality else None,
        date=birth_date,
        ids=tuple(ids),
    )


def record_from_node(node: Node) -> Record:
    """A record from a Company or Person node's own properties."""
    props = node.properties

    def text(name: str) -> str | None:
        value = props.get(name)
        return value if isinstance(value, str) and value.strip() else None

    agencies = node.provenance.agencies
    name = text("name") or ""
    if node.label == Label.COMPANY:
        return company_record(
            node.key,
            name=name,
            agencies=agencies,
            tax_id=text("tax_id"),
            vat_number=text("vat_number"),
            registration_number=text("registration_number"),
            jurisdiction=text("jurisdiction"),
            legal_form=text("legal_form"),
            incorporation_date=text("incorporation_date"),
        )
    return person_record(
        node.key,
        name=name,
        agencies=agencies,
        birth_date=text("birth_date"),
        nationality=text("nationality"),
        id_number=text("id_number"),
        id_type=text("id_type"),
    )


def associate_name(record: Record) -> str:
    """How an associate is compared: its name words in sorted order (order-free for persons
    written "LAST, First"), plus a birth year for persons when known."""
    words = " ".join(sorted(record.tokens))
    if record.kind == PERSON and record.date:
        return f"{words} {record.date[:4]}"
    return words


@dataclass
class RecordSet:
    """Records in key order, with their positions, as the pipeline works on them."""

    records: list[Record]
    index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.index:
            self.index = {r.key: i for i, r in enumerate(self.records)}

    def __len__(self) -> int:
        return len(self.records)

    def get(self, key: str) -> Record | None:
        i = self.index.get(key)
        return None if i is None else self.records[i]


class RecordBuilder:
    """Accumulates party nodes and the relationships that give them contacts and associates,
    then builds sealed records. One builder serves the streaming read of a whole graph and the
    targeted read of a few records, so both produce identical features."""

    def __init__(self, salt: str) -> None:
        self.salt = salt
        self._records: dict[str, Record] = {}
        self._officers: list[tuple[str, str]] = []  # (officer key, company key)
        # Account key -> number as compared: validating an IBAN costs more than the lookup,
        # and a regular depositor's account arrives once per transaction.
        self._accounts: dict[str, str] = {}

    def add_node(self, node: Node) -> None:
        if node.label in PARTY_LABELS:
            self._records[node.key] = record_from_node(node)

    def add_relationship(self, rel: Relationship) -> None:
        if rel.type in _OFFICER_RELS:
            self._officers.append((rel.start, rel.end))
            return
        if rel.type == RelType.PAID:
            self._add_cash(rel)
            return
        owner = self._records.get(rel.start)
        if owner is None:
            return
        # Contacts accumulate on the record (a handful each); build() sorts and dedupes.
        value = rel.end.partition(":")[2]
        if rel.type == RelType.REGISTERED_AT:
            _country, _, text = value.partition(":")
            words = " ".join(address_tokens(text))
            if words and words != "-":
                owner.addresses += (words,)
        elif rel.type == RelType.HAS_PHONE:
            number, _ = phone_e164(value, owner.country)
            if number:
                owner.phones += (number,)
        elif rel.type == RelType.HAS_EMAIL:
            owner.emails += (email_norm(value),)
        elif rel.type == RelType.HOLDS:
            owner.accounts += (self._account(rel.end),)

    def _add_cash(self, rel: Relationship) -> None:
        """A person paying into an account, or an account paying a person (cash in, cash
        out): the account joins the person's accounts."""
        if rel.start.startswith(_PERSON_PREFIX) and rel.end.startswith(_ACCOUNT_PREFIX):
            person, account = rel.start, rel.end
        elif rel.end.startswith(_PERSON_PREFIX) and rel.start.startswith(_ACCOUNT_PREFIX):
            person, account = rel.end, rel.start
        else:
            return
        owner = self._records.get(person)
        if owner is None:
            return
        number = self._account(account)
        # One PAID per transaction: a regular depositor has hundreds on one account.
        if number not in owner.accounts:
            owner.accounts += (number,)

    def _account(self, key: str) -> str:
        number = self._accounts.get(key)
        if number is None:
            number = self._accounts[key] = account_number(key.partition(":")[2])
        return number

    def build(self, keys: Collection[str] | None = None) -> list[Record]:
        """Sealed records (all, or those of ``keys``) in key order."""
        names: dict[str, str] = {}
        for officer, company in self._officers:
            a, b = self._records.get(officer), self._records.get(company)
            if a is None or b is None:
                continue
            for key, other in ((officer, a), (company, b)):
                if key not in names:
                    names[key] = associate_name(other)
            b.associates += (names[officer],)
            a.associates += (names[company],)
        self._officers.clear()
        chosen = sorted(self._records if keys is None else set(keys) & set(self._records))
        out = []
        for key in chosen:
            record = self._records[key]
            record.addresses = _uniq(record.addresses)
            record.phones = _uniq(record.phones)
            record.emails = _uniq(record.emails)
            record.accounts = _uniq(record.accounts)
            record.associates = _uniq(record.associates)
            record.seal(self.salt)
            out.append(record)
        return out


def _uniq(values: tuple[str, ...]) -> tuple[str, ...]:
    return values if len(values) < 2 else tuple(sorted(set(values)))


def read_all(store: GraphStore, salt: str, progress: Progress | None = None) -> RecordSet:
    """Every party record of the graph, streamed once (nodes, then feature relationships)."""
    builder = RecordBuilder(salt)
    for i, node in enumerate(store.iter_nodes(PARTY_LABELS), 1):
        builder.add_node(node)
        if progress is not None and i % 200_000 == 0:
            progress(f"read {i:,} party records")
    for rel in store.iter_relationships(FEATURE_RELS):
        builder.add_relationship(rel)
    return RecordSet(builder.build())


def read_some(store: GraphStore, keys: Collection[str], salt: str) -> RecordSet:
    """The records of ``keys`` with exactly the features ``read_all`` gives them."""
    builder = RecordBuilder(salt)
    nodes = store.get_nodes([k for k in keys if _is_party(k)])
    for node in nodes.values():
        builder.add_node(node)
    rels = store.expand(list(nodes), rel_types=FEATURE_RELS)
    # Associates are named by their own node: fetch the officers and companies at the far end
    # (of officer relationships only: a PAID's far end is never a feature).
    officers = [r for r in rels if r.type in _OFFICER_RELS]
    far = {r.start for r in officers} | {r.end for r in officers}
    for node in store.get_nodes([k for k in far - set(nodes) if _is_party(k)]).values():
        builder.add_node(node)
    for rel in rels:
        builder.add_relationship(rel)
    return RecordSet(builder.build(nodes))


def _is_party(key: str) -> bool:
    return key.startswith(("company:", "person:"))
