"""i2 Analyst's Notebook import files: ``anb-entities.csv`` and ``anb-links.csv``.

Analyst's Notebook imports a chart from delimited text through an *import specification*
that maps columns to entity type, identity, label and attributes (entities) and to the two
end identities, link type, date and label (links). The columns here are named for that
mapping, so one saved specification imports every iffgraph export: entity identities are our
node keys (stable across exports, so a re-import merges onto the same chart items) and link
identities our relationship identities. Entity types are the i2 standard icon types where
one fits (Person, Organisation, Account, Address, Telephone, Email Address …).
"""

from __future__ import annotations

from collections.abc import Mapping

from app.exports.labels import Names, records, sources
from app.exports.model import ExportMaterial, Files
from app.exports.sheets import Cell, Table, to_csv
from app.exports.text import joined
from graph_models.records import Scalar
from graph_models.schema import Label
from queries.access import rel_id
from queries.models import NodeView

ENTITY_TYPES: dict[Label, str] = {
    Label.COMPANY: "Organisation",
    Label.PERSON: "Person",
    Label.ACCOUNT: "Account",
    Label.ADDRESS: "Address",
    Label.PHONE: "Telephone",
    Label.EMAIL: "Email Address",
    Label.COUNTRY: "Location",
    Label.COMMODITY: "Commodity",
    Label.DECLARATION: "Customs Declaration",
    Label.REPORT: "Financial Intelligence Report",
    Label.TRANSACTION: "Transaction",
    Label.CASH_DECLARATION: "Cash Declaration",
    Label.TAX_RETURN: "Tax Return",
    Label.TRADE_STATISTIC: "Trade Statistic",
    Label.ALERT: "Alert",
    Label.JUDGEMENT: "Judgement",
}
ENTITY_COLUMNS = [
    "Entity Type",
    "Identity",
    "Label",
    "Date",
    "Amount",
    "Currency",
    "Agencies",
    "Sources",
    "Record IDs",
    "Partial",
    "Attributes",
]
LINK_COLUMNS = [
    "From Identity",
    "To Identity",
    "Link Type",
    "Link Identity",
    "Label",
    "Direction",
    "Date",
    "Amount",
    "Currency",
    "Agencies",
    "Sources",
    "Record IDs",
    "Attributes",
]
# The property that dates an element, by label (an i2 chart places dated items on a timeline).
_DATES = ("date", "submission_date", "incorporation_date", "appointed", "period")


def entity_type(node: NodeView) -> str:
    if node.label == Label.RESOLVED_ENTITY:
        return "Person" if node.properties.get("kind") == "person" else "Organisation"
    return ENTITY_TYPES.get(node.label, node.label.value)


def _first(props: Mapping[str, Scalar], names: tuple[str, ...]) -> Cell:
    for name in names:
        value = props.get(name)
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return value
    return None


def _attributes(props: Mapping[str, Scalar]) -> str:
    return "; ".join(f"{k}: {joined(v)}" for k, v in sorted(props.items()))


def write_anb(material: ExportMaterial) -> Files:
    names = Names(material)
    entities = Table("anb-entities", ENTITY_COLUMNS)
    for node in material.nodes:
        props = node.properties
        entities.rows.append(
            [
                entity_type(node),
                node.key,
                names.label(node.key),
                _first(props, _DATES),
                _first(props, ("amount", "invoice_value", "customs_value", "value")),
                _first(props, ("currency",)),
                "; ".join(node.provenance.agencies),
                sources(node.provenance),
                records(node.provenance),
                node.partial,
                _attributes(props),
            ]
        )
    links = Table("anb-links", LINK_COLUMNS)
    for rel in material.relationships:
        props = rel.properties
        role = props.get("role")
        links.rows.append(
            [
                rel.start,
                rel.end,
                rel.type.value,
                rel_id(rel),
                f"{rel.type.value} ({role})" if role else rel.type.value,
                "Forward",  # an arrow from the first entity to the second
                _first(props, _DATES),
                _first(props, ("amount", "value")),
                _first(props, ("currency",)),
                "; ".join(rel.provenance.agencies),
                sources(rel.provenance),
                records(rel.provenance),
                _attributes(props),
            ]
        )
    return {"anb-entities.csv": to_csv(entities), "anb-links.csv": to_csv(links)}
