"""FollowTheMoney entities as JSON lines (``entities.ftm.json``), as Aleph / OpenAleph load them.

One line per entity: ``{"id", "schema", "properties": {name: [text, …]}}``. Ids are stable:
``iffgraph-`` and the SHA-1 of our key (node key, relationship identity or alert id), so a
re-export of the same records updates the same entities in Aleph instead of adding copies.

The mapping follows FtM's own idea of the graph (``schema/*.yaml``: an interest such as
Ownership is an entity with an edge declaration; shared values are properties):

- Company, Person, resolved entities → ``Company`` / ``Person`` / ``LegalEntity``; addresses →
  ``Address`` (and ``addressEntity`` on the party); accounts → ``BankAccount``; phones,
  e-mails and countries become properties of the party they belong to;
- DIRECTOR_OF → ``Directorship``; SHAREHOLDER_OF and HOLDS (of an account) → ``Ownership``;
  SAME_AS and SHIPPED_TO → ``UnknownLink`` with a role;
- a transaction whose payer and beneficiary are known (directly, or as the holder of the
  paying / receiving account) → ``Payment``; otherwise, like declarations, reports, cash
  declarations and tax returns, an ``Event`` naming the parties ``involved``;
- alerts → ``Note`` on the entities they flag.

Provenance travels as ``publisher`` (the agencies) and, where the schema has it, ``recordId``.
The library itself is a development dependency (the tests read every line back through it),
so the writer builds the dictionaries directly; the schema and property names are FtM 4's.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from app.exports.labels import Names
from app.exports.model import ExportMaterial, Files
from app.exports.text import joined, xml_text
from graph_models.records import Scalar, StoredProvenance
from graph_models.schema import Label, RelType
from queries.access import rel_id
from queries.models import NodeView, RelView
from queries.neighbourhood import period_span

PREFIX = "iffgraph"
# Schemata with a recordId property (the intervals and analysables we emit).
_RECORD_ID = frozenset({"Payment", "Ownership", "Directorship", "UnknownLink", "Event"})
_PARTIES = frozenset({Label.COMPANY, Label.PERSON, Label.RESOLVED_ENTITY})
_EVENTS = frozenset(
    {Label.DECLARATION, Label.REPORT, Label.CASH_DECLARATION, Label.TAX_RETURN, Label.TRANSACTION}
)
_INVOLVING = frozenset(
    {
        RelType.DECLARED,
        RelType.CONSIGNED_TO,
        RelType.REPORTED_IN,
        RelType.CARRIED,
        RelType.OWNS_FUNDS,
        RelType.FILED,
    }
)


def ftm_id(key: str) -> str:
    """The FtM id of one of our keys (stable, and no key text in the id)."""
    return f"{PREFIX}-{hashlib.sha1(key.encode('utf-8')).hexdigest()}"  # noqa: S324 (an id)


def _text(value: Scalar | None) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return xml_text(joined(value)) or None  # Aleph indexes text: no control characters


class _Entities:
    """FtM entities under construction: id -> schema and property values (ordered, unique)."""

    def __init__(self) -> None:
        self.schema: dict[str, str] = {}
        self.props: dict[str, dict[str, list[str]]] = {}

    def make(self, entity_id: str, schema: str, prov: StoredProvenance | None = None) -> str:
        self.schema.setdefault(entity_id, schema)
        self.props.setdefault(entity_id, {})
        if prov is not None:
            self.add(entity_id, "publisher", *prov.agencies)
            if schema in _RECORD_ID:
                self.add(entity_id, "recordId", *prov.record_ids)
        return entity_id

    def add(self, entity_id: str, prop: str, *values: Scalar | None) -> None:
        if entity_id not in self.props:
            return
        bucket = self.props[entity_id].setdefault(prop, [])
        for value in values:
            text = _text(value)
            if text is not None and text not in bucket:
                bucket.append(text)

    def lines(self) -> bytes:
        out = []
        for entity_id, schema in self.schema.items():
            props = {k: v for k, v in self.props[entity_id].items() if v}
            line = {"id": entity_id, "schema": schema, "properties": props}
            out.append(json.dumps(line, ensure_ascii=False, sort_keys=True))
        return ("\n".join(out) + "\n").encode("utf-8") if out else b""


def _lower(value: Scalar | None) -> str | None:
    return value.lower() if isinstance(value, str) and value else None


def _party_schema(node: NodeView) -> str:
    if node.label == Label.COMPANY:
        return "Company"
    if node.label == Label.PERSON:
        return "Person"
    kind = node.properties.get("kind")
    return "Person" if kind == "person" else "Company" if kind == "company" else "LegalEntity"


class _Builder:
    def __init__(self, material: ExportMaterial) -> None:
        self.material = material
        self.names = Names(material)
        self.out = _Entities()
        self.holders: dict[str, list[str]] = {}
        for rel in material.relationships:
            if rel.type == RelType.HOLDS:
                self.holders.setdefault(rel.end, []).append(rel.start)

    # --- nodes -----------------------------------------------------------------------------
    def node(self, node: NodeView) -> None:
        p = node.properties
        eid = ftm_id(node.key)
        if node.label in _PARTIES:
            self.out.make(eid, _party_schema(node), node.provenance)
            self.out.add(eid, "name", self.names.label(node.key))
            if node.label == Label.PERSON:
                passport = p.get("id_type") == "passport"
                self.out.add(eid, "passportNumber" if passport else "idNumber", p.get("id_number"))
                self.out.add(eid, "birthDate", p.get("birth_date"))
                self.out.add(eid, "nationality", _lower(p.get("nationality")))
            else:
                self._company(eid, p)
        elif node.label == Label.ADDRESS:
            self.out.make(eid, "Address", node.provenance)
            self.out.add(eid, "full", p.get("full"))
            self.out.add(eid, "street", p.get("street"))
            self.out.add(eid, "city", p.get("city"))
            self.out.add(eid, "postalCode", p.get("postal_code"))
            self.out.add(eid, "country", _lower(p.get("country")))
        elif node.label == Label.ACCOUNT:
            self.out.make(eid, "BankAccount", node.provenance)
            self.out.add(eid, "accountNumber", p.get("account_number"))
            self.out.add(eid, "iban", p.get("iban"))
            self.out.add(eid, "bankName", p.get("institution"))
            self.out.add(eid, "currency", p.get("currency"))
            self.out.add(eid, "country", _lower(p.get("country")))
        elif node.label in _EVENTS and node.label != Label.TRANSACTION:
            self._event(node)

    def _company(self, eid: str, p: Mapping[str, Scalar]) -> None:
        self.out.add(eid, "registrationNumber", p.get("registration_number"))
        self.out.add(eid, "taxNumber", p.get("tax_id"))
        self.out.add(eid, "vatCode", p.get("vat_number"))
        self.out.add(eid, "legalForm", p.get("legal_form"))
        self.out.add(eid, "incorporationDate", p.get("incorporation_date"))
        self.out.add(eid, "dissolutionDate", p.get("dissolution_date"))
        self.out.add(eid, "jurisdiction", _lower(p.get("jurisdiction")))

    def _event(self, node: NodeView) -> str:
        p = node.properties
        eid = self.out.make(ftm_id(node.key), "Event", node.provenance)
        amount = p.get("amount", p.get("invoice_value", p.get("customs_value")))
        money = f"{_text(amount)} {p.get('currency') or ''}".strip() if amount is not None else ""
        if node.label == Label.DECLARATION:
            name = f"{p.get('flow', '')} declaration {p.get('number', '')}"
            summary = f"HS {p.get('hs_code', '?')}, {money}".rstrip(", ")
            self.out.add(eid, "date", p.get("date"))
        elif node.label == Label.REPORT:
            name = f"{p.get('report_code', 'report')} {p.get('report_id', '')}"
            summary = str(p.get("reason") or "")
            self.out.add(eid, "date", p.get("submission_date"))
        elif node.label == Label.CASH_DECLARATION:
            name = f"cash declaration {p.get('declaration_id', '')}"
            summary = f"{p.get('direction', '')} {money}".strip()
            self.out.add(eid, "date", p.get("date"))
        elif node.label == Label.TAX_RETURN:
            name = f"{p.get('tax_type', 'tax')} return {p.get('period', '')}"
            summary = ""
            span = period_span(str(p.get("period", "")))
            if span is not None:
                self.out.add(eid, "startDate", span[0])
                self.out.add(eid, "endDate", span[1])
        else:
            name = f"transaction {p.get('transaction_number', '')}"
            summary = money
            self.out.add(eid, "date", p.get("date"))
        self.out.add(eid, "name", name.strip())
        self.out.add(eid, "summary", summary)
        return eid

    # --- relationships ---------------------------------------------------------------------
    def rel(self, rel: RelView) -> None:
        start, end = ftm_id(rel.start), ftm_id(rel.end)
        if start not in self.out.schema:
            return  # its start is not an entity of this file (a phone, a country …)
        p = rel.properties
        rid = ftm_id(rel_id(rel))
        if rel.type == RelType.DIRECTOR_OF:
            self.out.make(rid, "Directorship", rel.provenance)
            self.out.add(rid, "director", start)
            self.out.add(rid, "organization", end)
            self.out.add(rid, "role", p.get("role") or "director")
            self.out.add(rid, "startDate", p.get("appointed"))
            self.out.add(rid, "endDate", p.get("resigned"))
        elif rel.type in (RelType.SHAREHOLDER_OF, RelType.HOLDS):
            self.out.make(rid, "Ownership", rel.provenance)
            self.out.add(rid, "owner", start)
            self.out.add(rid, "asset", end)
            self.out.add(rid, "percentage", p.get("percentage"))
            role = "shareholder" if rel.type == RelType.SHAREHOLDER_OF else "account holder"
            self.out.add(rid, "role", p.get("role") or role)
        elif rel.type in (RelType.SAME_AS, RelType.SHIPPED_TO):
            self.out.make(rid, "UnknownLink", rel.provenance)
            self.out.add(rid, "subject", start)
            self.out.add(rid, "object", end)
            if rel.type == RelType.SAME_AS:
                self.out.add(rid, "role", "same as (resolved entity)")
            else:
                self.out.add(rid, "role", "shipped goods to")
                self.out.add(rid, "date", p.get("date"))
                money = f"{_text(p.get('value')) or '?'} {p.get('currency') or ''}".strip()
                self.out.add(rid, "summary", f"HS {p.get('hs_code', '?')}, {money}")
        else:
            self._attribute(rel, start, end)

    def _attribute(self, rel: RelView, start: str, end: str) -> None:
        """Relationships that FtM keeps as properties of the entities they join."""
        other = self.names.node(rel.end)
        if other is None:
            return
        p = other.properties
        if rel.type == RelType.REGISTERED_AT:
            self.out.add(start, "addressEntity", end)
            self.out.add(start, "address", p.get("full"))
        elif rel.type == RelType.HAS_PHONE:
            self.out.add(start, "phone", p.get("number"))
        elif rel.type == RelType.HAS_EMAIL:
            self.out.add(start, "email", p.get("address"))
        elif rel.type == RelType.IN_COUNTRY:
            role = rel.properties.get("role")
            schema = self.out.schema[start]
            prop = "country"
            if role == "jurisdiction" and schema != "Person":
                prop = "jurisdiction"
            elif role == "nationality" and schema == "Person":
                prop = "nationality"
            self.out.add(start, prop, _lower(p.get("code")))
        elif rel.type in _INVOLVING and end in self.out.schema:
            if self.out.schema[start] == "BankAccount":
                self.out.add(end, "ibanMentioned", self._iban(start))
            else:
                self.out.add(end, "involved", start)

    # --- payments --------------------------------------------------------------------------
    def payments(self) -> None:
        sides: dict[str, dict[str, str]] = {}
        amounts: dict[str, RelView] = {}
        for rel in self.material.relationships:
            if rel.type == RelType.SENT:
                sides.setdefault(rel.end, {})["payer"] = rel.start
            elif rel.type == RelType.RECEIVED:
                sides.setdefault(rel.start, {})["beneficiary"] = rel.end
            elif rel.type == RelType.PAID:
                txn = str(rel.properties.get("transaction") or rel.key or rel_id(rel))
                found = sides.setdefault(txn, {})
                found.setdefault("payer", rel.start)
                found.setdefault("beneficiary", rel.end)
                amounts[txn] = rel
        for txn in sorted(set(sides) | {n.key for n in self.material.nodes if _is_txn(n)}):
            self._payment(txn, sides.get(txn, {}), amounts.get(txn))

    def _payment(self, txn: str, sides: dict[str, str], paid: RelView | None) -> None:
        node = self.names.node(txn)
        payer, payer_account = self._side(sides.get("payer"))
        beneficiary, beneficiary_account = self._side(sides.get("beneficiary"))
        if payer is None or beneficiary is None:
            if node is None and paid is not None:
                self._unknown_payment(paid)
            elif node is not None:
                eid = self._event(node)
                for party in (payer, beneficiary):
                    self.out.add(eid, "involved", party)
                for account in (payer_account, beneficiary_account):
                    if account is not None:
                        self.out.add(eid, "ibanMentioned", self._iban(account))
            return
        prov = node.provenance if node is not None else paid.provenance if paid else None
        eid = self.out.make(ftm_id(txn), "Payment", prov)
        props: Mapping[str, Scalar] = (
            node.properties if node is not None else paid.properties if paid else {}
        )
        self.out.add(eid, "payer", payer)
        self.out.add(eid, "beneficiary", beneficiary)
        self.out.add(eid, "payerAccount", payer_account)
        self.out.add(eid, "beneficiaryAccount", beneficiary_account)
        self.out.add(eid, "amount", props.get("amount"))
        self.out.add(eid, "currency", props.get("currency"))
        self.out.add(eid, "date", props.get("date"))
        self.out.add(eid, "transactionNumber", props.get("transaction_number"))
        self.out.add(eid, "summary", props.get("description"))

    def _unknown_payment(self, paid: RelView) -> None:
        """A payment between accounts whose holders the export does not hold: FtM's Payment
        needs both parties, so the flow is kept as a link between the two accounts."""
        if ftm_id(paid.start) not in self.out.schema or ftm_id(paid.end) not in self.out.schema:
            return
        rid = self.out.make(ftm_id(rel_id(paid)), "UnknownLink", paid.provenance)
        self.out.add(rid, "subject", ftm_id(paid.start))
        self.out.add(rid, "object", ftm_id(paid.end))
        self.out.add(rid, "role", "paid")
        self.out.add(rid, "date", paid.properties.get("date"))
        money = f"{_text(paid.properties.get('amount'))} {paid.properties.get('currency') or ''}"
        self.out.add(rid, "summary", money.strip())

    def _side(self, key: str | None) -> tuple[str | None, str | None]:
        """(party id, account id) of one side of a payment, as far as the export knows it."""
        if key is None or ftm_id(key) not in self.out.schema:
            return None, None
        if self.out.schema[ftm_id(key)] != "BankAccount":
            return ftm_id(key), None
        holders = sorted(h for h in self.holders.get(key, []) if ftm_id(h) in self.out.schema)
        return (ftm_id(holders[0]) if holders else None), ftm_id(key)

    def _iban(self, account_id: str) -> str | None:
        values = self.out.props.get(account_id, {}).get("iban", [])
        return values[0] if values else None

    # --- alerts ----------------------------------------------------------------------------
    def alerts(self) -> None:
        for alert in self.material.alerts:
            eid = self.out.make(ftm_id(alert.id), "Note")
            self.out.add(eid, "name", f"Alert: {alert.typology.value} (score {alert.score:g})")
            indicators = "; ".join(f"{i.name}={i.value}" for i in alert.indicators)
            self.out.add(eid, "description", f"{alert.summary} [{indicators}]")
            self.out.add(eid, "publisher", *alert.agencies)
            for key in alert.entities:
                if ftm_id(key) in self.out.schema:
                    self.out.add(eid, "entity", ftm_id(key))


def _is_txn(node: NodeView) -> bool:
    return node.label == Label.TRANSACTION


def write_ftm(material: ExportMaterial) -> Files:
    builder = _Builder(material)
    for node in material.nodes:
        builder.node(node)
    for rel in material.relationships:
        builder.rel(rel)
    builder.payments()
    builder.alerts()
    return {"entities.ftm.json": builder.out.lines()}
