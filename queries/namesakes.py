"""Records that cannot say which of two namesake companies they are.

A customs declarant may write an importer as a name and an address, with no tax id, VAT or
registration number. Loaders key such a record by name and country, so every company of that
name shares it, and entity resolution may join it to any one of them. When two or more
identified companies of the country bear the name (its core words, legal form aside, see
:func:`resolution.normalize.company_name`), what the record says (the goods it imported, the
address it gave) cannot be attributed to any of them. Customs and tax administrations match
traders on their identifiers (EORI, VAT number) for this reason.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from graph_models.records import Node
from graph_models.schema import Label
from resolution.normalize import company_name

IDENTIFIERS = ("tax_id", "vat_number", "registration_number")


def unidentified_name(node: Node | None) -> tuple[str, str] | None:
    """(core name, country) of a company record that carries no identifier, else None; the
    country is "" when the record names none (it may then be any namesake's)."""
    if node is None or node.label is not Label.COMPANY:
        return None
    props = node.properties
    if any(props.get(f) not in (None, "") for f in IDENTIFIERS):
        return None
    name, country = props.get("name"), props.get("jurisdiction")
    if not name:
        return None
    return company_name(str(name)).core, str(country or "").upper()


def shared_names(nodes: Mapping[str, Node], identity: Mapping[str, str]) -> set[tuple[str, str]]:
    """(core name, country) pairs borne by identified records of two or more parties, country
    "" for any country (``identity``: record key -> party; a record missing from it is its
    own party)."""
    bearers: dict[tuple[str, str], set[str]] = defaultdict(set)
    for key, node in nodes.items():
        props = node.properties
        name, country = props.get("name"), props.get("jurisdiction")
        identified = any(props.get(f) not in (None, "") for f in IDENTIFIERS)
        if node.label is Label.COMPANY and identified and name:
            core = company_name(str(name)).core
            party = identity.get(key, key)
            bearers[(core, "")].add(party)
            if country:
                bearers[(core, str(country).upper())].add(party)
    return {pair for pair, parties in bearers.items() if len(parties) > 1}


def ambiguous_records(nodes: Mapping[str, Node], identity: Mapping[str, str]) -> frozenset[str]:
    """Keys of the records without identifiers whose name namesakes share."""
    shared = shared_names(nodes, identity)
    return frozenset(
        key
        for key, node in nodes.items()
        if (name := unidentified_name(node)) is not None and name in shared
    )


__all__ = ["IDENTIFIERS", "ambiguous_records", "shared_names", "unidentified_name"]
