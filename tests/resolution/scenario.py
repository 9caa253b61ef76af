"""Small graphs for the resolution tests, written through the store seam.

The Acme scenario is the one of the resolution brief: the same trader as the register, a
customs declaration, an FIU report and a cash declaration spell it, plus a German namesake
that must stay apart, two companies with different valid VAT numbers (the veto), and one
person seen by three agencies next to a namesake born another year.
"""

from __future__ import annotations

from graph_models.records import NodeWrite, RelWrite
from graph_models.schema import Label, RelType
from graph_models.store.base import GraphStore
from tests.factories import node, prov, rel

# Valid check digits (stdnum): HMRC's published example and the first valid numbers after 1e8.
VAT_ACME = "GB980780684"
VAT_ORION_A = "GB100000034"
VAT_ORION_B = "GB100000047"
VAT_ACME_DE = "DE136695976"

REGISTRY_ACME = "company:registry:reg:GB:0987654"
CUSTOMS_ACME = f"company:customs:tax:{VAT_ACME}"
FIU_ACME = "company:fiu:name:GB:acme trdg"
CASH_AKME = "company:customs:name:-:akme trading"
ACME_DE = "company:registry:reg:DE:HRB1234"
ORION_A = f"company:customs:tax:{VAT_ORION_A}"
ORION_B = f"company:tax:tax:{VAT_ORION_B}"
NUNEZ_REGISTRY = "person:registry:name:jose nunez:1980-01-01"
NUNEZ_FIU = "person:fiu:name:nunez jose:1980-01-01"
NUNEZ_CASH = "person:customs:id:X1234567"
NUNEZ_OTHER = "person:fiu:name:jose nunez:1975-05-05"
ADDRESS = "address:gb:1 high street london"
ORION_ADDRESS = "address:gb:9 dock road felixstowe"
ORION_PHONE = "phone:+441394000000"
ORION_EMAIL = "email:info@orion.test"


def acme_writes() -> tuple[list[NodeWrite], list[RelWrite]]:
    registry = prov("registry", "companies.csv", "row 2")
    customs = prov("customs", "declarations.csv", "row 2")
    fiu = prov("fiu", "str.xml", "/reports/report[1]")
    cash = prov("customs", "cash.csv", "row 2")
    nodes = [
        node(
            REGISTRY_ACME,
            registry,
            name="Acme Trading Limited",
            registration_number="0987654",
            tax_id=VAT_ACME,
            jurisdiction="GB",
            legal_form="Limited",
        ),
        node(CUSTOMS_ACME, customs, name="ACME TRADING LTD", tax_id="GB 980 7806 84"),
        node(FIU_ACME, fiu, name="ACME TRDG", jurisdiction="GB"),
        node(CASH_AKME, cash, name="Akme Trading", jurisdiction="GB"),
        node(
            ACME_DE,
            registry,
            name="Acme Trading GmbH",
            registration_number="HRB 1234",
            vat_number=VAT_ACME_DE,
            jurisdiction="DE",
        ),
        node(ORION_A, customs, name="Orion Metals Ltd", tax_id=VAT_ORION_A, jurisdiction="GB"),
        node(ORION_B, prov("tax", "returns.csv"), name="Orion Metals Limited", tax_id=VAT_ORION_B),
        node(NUNEZ_REGISTRY, registry, name="José Núñez", birth_date="1980-01-01"),
        node(NUNEZ_FIU, fiu, name="NUNEZ, Jose", birth_date="1980-01-01", nationality="ES"),
        node(
            NUNEZ_CASH,
            cash,
            name="Jose Nunez",
            birth_date="1980-01-01",
            id_number="X1234567",
            id_type="passport",
            nationality="ES",
        ),
        node(NUNEZ_OTHER, fiu, name="Jose Nunez", birth_date="1975-05-05", nationality="ES"),
        node(ADDRESS, registry, full="1 High Street, London", country="GB"),
        node(ORION_ADDRESS, customs, full="9 Dock Road, Felixstowe", country="GB"),
        node(ORION_PHONE, customs, number="+44 1394 000000"),
        node(ORION_EMAIL, customs, address="info@orion.test"),
    ]
    rels = [
        rel(RelType.REGISTERED_AT, REGISTRY_ACME, ADDRESS, provenance=registry),
        rel(
            RelType.DIRECTOR_OF, NUNEZ_REGISTRY, REGISTRY_ACME, key="director", provenance=registry
        ),
    ]
    # The two Orions share every contact, so the model alone would link them: only the veto
    # (two different valid VAT numbers) keeps them apart.
    for orion in (ORION_A, ORION_B):
        for rel_type, end in (
            (RelType.REGISTERED_AT, ORION_ADDRESS),
            (RelType.HAS_PHONE, ORION_PHONE),
            (RelType.HAS_EMAIL, ORION_EMAIL),
        ):
            rels.append(rel(rel_type, orion, end, provenance=customs))
    return nodes, rels


def write(store: GraphStore, nodes: list[NodeWrite], rels: list[RelWrite]) -> None:
    store.write_nodes(nodes)
    store.write_relationships(rels)


def build_acme(store: GraphStore) -> None:
    write(store, *acme_writes())


def entity_of(store: GraphStore) -> dict[str, str]:
    """Record key -> entity key, from the SAME_AS relationships."""
    return {r.start: r.end for r in store.iter_relationships([RelType.SAME_AS])}


def snapshot(store: GraphStore) -> dict[str, object]:
    """Everything resolution owns, with properties and provenance, for before/after checks."""
    return {
        "counts": store.counts().model_dump(),
        "same_as": sorted(r.model_dump_json() for r in store.iter_relationships([RelType.SAME_AS])),
        "entities": sorted(n.model_dump_json() for n in store.iter_nodes([Label.RESOLVED_ENTITY])),
        "judgements": sorted(n.model_dump_json() for n in store.iter_nodes([Label.JUDGEMENT])),
    }
