"""goAML 5 XML (``report.goaml.xml``): the FIU liaison officer's product for goAML systems.

Element names and order are goAML's (see docs/formats.md and :mod:`loaders.goaml`, whose
loader reads this file back): a ``report`` holds ``rentity_id``, ``submission_code``,
``report_code``, ``entity_reference``, ``submission_date``, ``currency_code_local``,
``reason``, ``action``, then either ``transaction`` elements or one ``activity``, then
``report_indicators``. Parties are goAML's ``t_person`` / ``t_entity`` / ``t_account``
shapes: as ``from_*`` / ``to_*`` under ``t_from`` / ``t_to`` in a transaction (the FIU is
nobody's reporting institution, so never ``*_my_client``), and as ``person`` / ``entity`` /
``account`` under ``activity/report_parties/report_party``.

How the graph maps:

- a transaction with both sides in the export (from SENT / RECEIVED, or the PAID edge that
  carries it) becomes a ``transaction``; goAML has one local currency per report, so there is
  one report per currency (``XXX``, ISO 4217's "no currency", where none is recorded);
- every other company, person and account of the export is a ``report_party`` of one more
  report with an ``activity`` (goAML's choice is transactions *or* an activity); a transaction
  lacking a side is told in the comments of the party it has;
- an account's holding company is its ``t_entity``, its holding persons its ``signatory``;
  a company's directors (persons) its ``director_id``; addresses, phones and e-mails nest;
- alert typologies are the ``report_indicators``; title, purpose and legal basis the
  ``reason``; notes and hit / no-hit markers the ``action``.

The report code defaults to ``AIF`` (goAML's *additional information file*, what an FIU
sends on its own initiative or in reply); resolved entities are not parties, their member
records are.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from lxml import etree

from app.exports.labels import Names
from app.exports.model import ExportMaterial, Files
from app.exports.text import joined, xml_text
from graph_models.records import Scalar, StoredProvenance
from graph_models.schema import Label, RelType
from queries.access import rel_id
from queries.models import NodeView, RelView

RENTITY_ID = "IFFGRAPH"
REPORT_CODE = "AIF"
NO_CURRENCY = "XXX"
_PARTY_LABELS = frozenset({Label.COMPANY, Label.PERSON, Label.ACCOUNT})

Element = etree._Element


def _add(parent: Element, tag: str, value: Scalar | None = None) -> Element | None:
    """Append ``<tag>value</tag>``; nothing when the value is missing (goAML omits, never
    writes empty elements)."""
    if value is None or value == "":
        return None
    child = etree.SubElement(parent, tag)
    child.text = xml_text(joined(value))
    return child


def _datetime(day: Scalar | None) -> str | None:
    """goAML's dateTime (``2024-03-01T00:00:00``) from an ISO date or timestamp."""
    if not isinstance(day, str) or len(day) < 10:
        return None
    return day[:19] if len(day) >= 19 and day[10] == "T" else f"{day[:10]}T00:00:00"


def _provenance(prov: StoredProvenance) -> str:
    parts = [f"agencies: {', '.join(prov.agencies)}"]
    if prov.sources:
        parts.append(f"sources: {'; '.join(prov.sources)}")
    if prov.record_ids:
        parts.append(f"records: {'; '.join(prov.record_ids)}")
    return ". ".join(parts)


@dataclass
class _Txn:
    key: str
    number: str
    date: str | None
    amount: float | None
    currency: str | None
    props: dict[str, Scalar]
    prov: StoredProvenance
    payer: str | None = None
    beneficiary: str | None = None


@dataclass
class _Links:
    """What the export says around each party: holders, directors, contacts."""

    holders: dict[str, list[str]] = field(default_factory=dict)
    directors: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    addresses: dict[str, list[str]] = field(default_factory=dict)
    phones: dict[str, list[str]] = field(default_factory=dict)
    emails: dict[str, list[str]] = field(default_factory=dict)
    comments: dict[str, list[str]] = field(default_factory=dict)


class _Writer:
    def __init__(self, material: ExportMaterial) -> None:
        self.m = material
        self.names = Names(material)
        self.links = _Links()
        for rel in material.relationships:
            self._link(rel)

    def _link(self, rel: RelView) -> None:
        table = {
            RelType.HOLDS: self.links.holders,
            RelType.REGISTERED_AT: self.links.addresses,
            RelType.HAS_PHONE: self.links.phones,
            RelType.HAS_EMAIL: self.links.emails,
        }
        if rel.type == RelType.HOLDS:
            self.links.holders.setdefault(rel.end, []).append(rel.start)
        elif rel.type in table:
            table[rel.type].setdefault(rel.start, []).append(rel.end)
        elif rel.type == RelType.DIRECTOR_OF:
            role = str(rel.properties.get("role") or "director")
            self.links.directors.setdefault(rel.end, []).append((rel.start, role))

    # --- parties ---------------------------------------------------------------------------
    def party(self, parent: Element, prefix: str, key: str) -> None:
        """``<prefix>person|entity|account>`` for ``key`` (prefix "from_", "to_" or "")."""
        node = self.names.node(key)
        if node is None:
            return
        if node.label == Label.ACCOUNT:
            self.account(etree.SubElement(parent, f"{prefix}account"), node)
        elif node.label == Label.PERSON:
            self.person(etree.SubElement(parent, f"{prefix}person"), node)
        else:
            self.entity(etree.SubElement(parent, f"{prefix}entity"), node)

    def person(self, el: Element, node: NodeView, role: str | None = None) -> None:
        p = node.properties
        first, _, last = self.names.label(node.key).rpartition(" ")
        _add(el, "first_name", first)
        _add(el, "last_name", last)
        _add(el, "birthdate", _datetime(p.get("birth_date")))
        if p.get("id_type") == "passport":
            _add(el, "passport_number", p.get("id_number"))
        else:
            _add(el, "id_number", p.get("id_number"))
        _add(el, "nationality1", p.get("nationality"))
        self._contacts(el, node.key)
        _add(el, "role", role)  # only inside director_id, where goAML adds the role

    def entity(self, el: Element, node: NodeView) -> None:
        p = node.properties
        _add(el, "name", self.names.label(node.key))
        _add(el, "incorporation_legal_form", p.get("legal_form"))
        _add(el, "incorporation_number", p.get("registration_number"))
        self._contacts(el, node.key)
        _add(el, "incorporation_country_code", p.get("jurisdiction"))
        for director, role in sorted(self.links.directors.get(node.key, [])):
            person = self.names.node(director)
            if person is not None and person.label == Label.PERSON:
                self.person(etree.SubElement(el, "director_id"), person, role)
        _add(el, "incorporation_date", _datetime(p.get("incorporation_date")))
        _add(el, "tax_number", p.get("tax_id"))

    def account(self, el: Element, node: NodeView) -> None:
        p = node.properties
        _add(el, "institution_name", p.get("institution"))
        _add(el, "account", p.get("account_number"))
        _add(el, "currency_code", p.get("currency"))
        _add(el, "iban", p.get("iban"))
        holders = [self.names.node(h) for h in sorted(self.links.holders.get(node.key, []))]
        companies = [h for h in holders if h is not None and h.label == Label.COMPANY]
        comments = list(self.links.comments.get(node.key, []))
        if companies:  # goAML gives an account one t_entity; further ones go to comments
            self.entity(etree.SubElement(el, "t_entity"), companies[0])
            comments += [f"also held by {self.names.label(c.key)}" for c in companies[1:]]
        for holder in holders:
            if holder is not None and holder.label == Label.PERSON:
                signatory = etree.SubElement(el, "signatory")
                self.person(etree.SubElement(signatory, "t_person"), holder)
        _add(el, "comments", "; ".join(comments))

    def _contacts(self, el: Element, key: str) -> None:
        phones = [
            str(n.properties.get("number", ""))
            for k in sorted(self.links.phones.get(key, []))
            if (n := self.names.node(k)) is not None
        ]
        phones = [number for number in phones if any(c.isdigit() for c in number)]
        if phones:
            holder = etree.SubElement(el, "phones")
            for number in phones:
                _add(etree.SubElement(holder, "phone"), "tph_number", number)
        addresses = [
            n for k in sorted(self.links.addresses.get(key, [])) if (n := self.names.node(k))
        ]
        if addresses:
            holder = etree.SubElement(el, "addresses")
            for node in addresses:
                a = node.properties
                address = etree.SubElement(holder, "address")
                _add(address, "address", a.get("street") or a.get("full"))
                _add(address, "city", a.get("city"))
                _add(address, "zip", a.get("postal_code"))
                _add(address, "country_code", a.get("country"))
        for k in sorted(self.links.emails.get(key, [])):
            mail = self.names.node(k)
            if mail is not None and "@" in str(mail.properties.get("address", "")):
                _add(el, "email", mail.properties.get("address"))

    def comment(self, key: str, text: str) -> None:
        self.links.comments.setdefault(key, []).append(text)

    # --- transactions ----------------------------------------------------------------------
    def transactions(self) -> list[_Txn]:
        found: dict[str, _Txn] = {}
        for node in self.m.nodes:
            if node.label == Label.TRANSACTION:
                p = node.properties
                amount = p.get("amount")
                found[node.key] = _Txn(
                    key=node.key,
                    number=str(p.get("transaction_number") or node.key),
                    date=_datetime(p.get("date")),
                    amount=float(amount) if isinstance(amount, int | float) else None,
                    currency=str(p["currency"]) if p.get("currency") else None,
                    props=dict(p),
                    prov=node.provenance,
                )
        for rel in self.m.relationships:
            if rel.type == RelType.SENT and rel.end in found:
                found[rel.end].payer = rel.start
            elif rel.type == RelType.RECEIVED and rel.start in found:
                found[rel.start].beneficiary = rel.end
        for rel in self.m.relationships:
            if rel.type == RelType.PAID:
                self._paid(rel, found)
        return [found[k] for k in sorted(found)]

    def _paid(self, rel: RelView, found: dict[str, _Txn]) -> None:
        key = str(rel.properties.get("transaction") or rel.key or rel_id(rel))
        p = rel.properties
        if key not in found:
            amount = p.get("amount")
            found[key] = _Txn(
                key=key,
                number=key.rpartition(":")[2] or key,
                date=_datetime(p.get("date")),
                amount=float(amount) if isinstance(amount, int | float) else None,
                currency=str(p["currency"]) if p.get("currency") else None,
                props={},
                prov=rel.provenance,
            )
        txn = found[key]
        txn.payer = txn.payer or rel.start
        txn.beneficiary = txn.beneficiary or rel.end

    def described(self, key: str) -> set[str]:
        """The parties a transaction side spells out: an account's holders, a company's
        directors (they need not be listed again as report parties)."""
        out = {key}
        for holder in self.links.holders.get(key, []):
            out |= {holder} | {d for d, _ in self.links.directors.get(holder, [])}
        out |= {d for d, _ in self.links.directors.get(key, [])}
        return out

    def is_party(self, key: str | None) -> bool:
        node = self.names.node(key) if key else None
        return node is not None and node.label in _PARTY_LABELS

    def transaction(self, parent: Element, txn: _Txn) -> None:
        el = etree.SubElement(parent, "transaction")
        _add(el, "transactionnumber", txn.number)
        _add(el, "internal_ref_number", txn.key)
        _add(el, "transaction_description", txn.props.get("description"))
        _add(el, "date_transaction", txn.date)
        _add(el, "transmode_code", txn.props.get("transmode"))
        _add(el, "amount_local", f"{txn.amount:.2f}")
        for side, key in (("from", txn.payer), ("to", txn.beneficiary)):
            holder = etree.SubElement(el, f"t_{side}")
            assert key is not None  # only complete transactions get here
            self.party(holder, f"{side}_", key)
            node = self.names.node(key)
            if node is not None and node.label == Label.ACCOUNT:
                _add(holder, f"{side}_country", node.properties.get("country"))
        _add(el, "comments", _provenance(txn.prov))

    # --- reports ---------------------------------------------------------------------------
    def header(self, report: Element, reference: str, currency: str) -> None:
        m = self.m
        _add(report, "rentity_id", RENTITY_ID)
        _add(report, "submission_code", "E")  # electronic
        _add(report, "report_code", REPORT_CODE)
        _add(report, "entity_reference", reference)
        _add(report, "submission_date", _datetime(m.generated_at))
        _add(report, "currency_code_local", currency)
        reason = [m.title, f"Purpose: {m.purpose}"]
        if m.legal_basis:
            reason.append(f"Legal basis: {m.legal_basis}")
        if m.case_id:
            reason.append(f"Case: {m.case_id}")
        _add(report, "reason", ". ".join(reason))
        action = [n.text for n in m.notes]
        action += [f"Withheld: {w.count} {w.kind} ({w.note})" for w in m.withheld]
        _add(report, "action", " | ".join(action))

    def indicators(self, report: Element) -> None:
        typologies = sorted({a.typology.value for a in self.m.alerts})
        if typologies:
            holder = etree.SubElement(report, "report_indicators")
            for typology in typologies:
                _add(holder, "indicator", typology)

    def build(self) -> Element:
        complete: dict[str, list[_Txn]] = {}
        in_transactions: set[str] = set()
        for txn in self.transactions():
            sides = self.is_party(txn.payer) and self.is_party(txn.beneficiary)
            if txn.amount is not None and sides:
                complete.setdefault(txn.currency or NO_CURRENCY, []).append(txn)
                in_transactions |= self.described(str(txn.payer)) | self.described(
                    str(txn.beneficiary)
                )
            else:
                for side, key in (("sent", txn.payer), ("received", txn.beneficiary)):
                    if self.is_party(key):
                        self.comment(
                            str(key),
                            f"{side} transaction {txn.number} of {txn.date or '?'}"
                            f" ({txn.amount} {txn.currency or ''}), other side not in this export",
                        )
        reports: list[Element] = []
        base = self.m.export_id or self.m.case_id or f"iffgraph-{self.m.generated_at}"
        for currency in sorted(complete, key=lambda c: (-len(complete[c]), c)):
            report = etree.Element("report")
            self.header(report, f"{base}-{len(reports) + 1}", currency)
            for txn in complete[currency]:
                self.transaction(report, txn)
            self.indicators(report)
            reports.append(report)
        others = [
            n.key for n in self.m.nodes if n.label in _PARTY_LABELS and n.key not in in_transactions
        ]
        if others or not reports:
            report = etree.Element("report")
            currencies = Counter(t.currency for ts in complete.values() for t in ts if t.currency)
            local = currencies.most_common(1)[0][0] if currencies else NO_CURRENCY
            self.header(report, f"{base}-{len(reports) + 1}", str(local))
            parties = etree.SubElement(etree.SubElement(report, "activity"), "report_parties")
            for key in others:
                self.report_party(parties, key)
            self.indicators(report)
            reports.append(report)
        if len(reports) == 1:
            return reports[0]
        root = etree.Element("reports")
        root.extend(reports)
        return root

    def report_party(self, parent: Element, key: str) -> None:
        party = etree.SubElement(parent, "report_party")
        node = self.names.node(key)
        assert node is not None  # callers pass keys of the export's nodes
        self.party(party, "", key)
        flagged = sorted({a.typology.value for a in self.m.alerts if key in a.entities})
        reason = "flagged: " + ", ".join(flagged) if flagged else "in the network of the subjects"
        if key in self.m.subjects:
            reason = f"subject; {reason}"
        _add(party, "reason", reason)
        comments = [_provenance(node.provenance)]
        if node.partial:
            comments.append("other agencies also hold this record (their part is withheld)")
        if node.label != Label.ACCOUNT:  # an account's comments are inside its t_account
            comments += self.links.comments.get(key, [])
        _add(party, "comments", ". ".join(comments))


def write_goaml(material: ExportMaterial) -> Files:
    root = _Writer(material).build()
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return {"report.goaml.xml": body}
