"""Ground truth: the real-world entities behind the records and the planted schemes.

Node keys are computed here and only here, with the ``loaders.keys`` functions and the very
arguments each loader passes, so the truth names the graph nodes a load of the generated files
creates. If a loader changes how it keys a party, this module is the one place to align.

Per source (``agency`` first argument of every key function):

- customs declarations: ``company_key("customs", name, tax_id, registration_number, country)``
  with the party's own columns as written; a declarant has no country column, so the
  reporting country is its country (as ``loaders/customs.py`` does);
- cash declarations: traveller ``person_key("customs", name, id_number=passport, birth_date)``;
  a company owner ``company_key("customs", name, tax_id=owner_tax_id)``; a person owner other
  than the traveller ``person_key("customs", name, id_number=owner_tax_id)``;
- registry: companies ``company_key("registry", name, registration_number, country=
  jurisdiction)`` (no tax id); officers ``person_key("registry", name, id_number=
  officer_id_number, birth_date=officer_birth_date)``;
- tax: ``company_key("tax", name=taxpayer_name, tax_id=tax_id)``;
- FIU (goAML and CTR): persons ``person_key("fiu", "<first_name> <last_name>" or the
  conductor's name, id_number=passport_number or id_number, birth_date)``; companies
  ``company_key("fiu", name, tax_id=tax_number, registration_number=incorporation_number,
  country=incorporation_country_code)``; a CTR beneficiary company ``company_key("fiu", name,
  tax_id=beneficiary_tax_id)``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from loaders import keys

Typology = Literal[
    "circular_trade",
    "vat_carousel",
    "round_tripping",
    "shell_network",
    "under_invoicing",
    "over_invoicing",
    "mirror_discrepancy",
    "customs_tax_discrepancy",
    "structuring",
    "cash_smuggling",
    "funnel_account",
]
TYPOLOGIES: tuple[Typology, ...] = get_args(Typology)

# Customs parties are keyed on every declaration row from a small set of spellings per
# company, so their keys are cached; other parties are keyed a few times each.
_CACHE = 1 << 16


# --- node keys, one function per source and party kind ----------------------------------------
@lru_cache(maxsize=_CACHE)
def customs_party(name: str, tax_id: str | None, reg: str | None, country: str | None) -> str:
    return keys.company_key(
        "customs", name=name, tax_id=tax_id, registration_number=reg, country=country
    )


def cash_traveller(name: str, passport: str | None, birth_date: str | None) -> str:
    return keys.person_key("customs", name=name, id_number=passport, birth_date=birth_date)


def cash_owner_company(name: str, tax_id: str | None) -> str:
    return keys.company_key("customs", name=name, tax_id=tax_id)


def cash_owner_person(name: str, tax_id: str | None) -> str:
    return keys.person_key("customs", name=name, id_number=tax_id)


def registry_company(name: str, reg: str, jurisdiction: str) -> str:
    return keys.company_key("registry", name=name, registration_number=reg, country=jurisdiction)


def registry_person(name: str, id_number: str | None, birth_date: str | None) -> str:
    return keys.person_key("registry", name=name, id_number=id_number, birth_date=birth_date)


def tax_company(name: str, tax_id: str) -> str:
    return keys.company_key("tax", name=name, tax_id=tax_id)


def fiu_person(name: str, id_number: str | None, birth_date: str | None) -> str:
    return keys.person_key("fiu", name=name, id_number=id_number, birth_date=birth_date)


def fiu_company(
    name: str, tax_id: str | None, reg: str | None = None, country: str | None = None
) -> str:
    return keys.company_key(
        "fiu", name=name, tax_id=tax_id, registration_number=reg, country=country
    )


def account(iban: str | None, number: str, institution: str) -> str:
    """An account's key (shared across agencies): by IBAN, else institution and number."""
    return keys.account_key(iban=iban, number=number, institution=institution)


# --- the truth file --------------------------------------------------------------------------
class RecordRef(BaseModel):
    """One source record: a file (relative to the output folder) and its record id."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str
    record_id: str


class EntityTruth(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    kind: Literal["company", "person"]
    name: str
    node_keys: list[str]


class SchemeTruth(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    typology: Typology
    entities: list[str]
    node_keys: list[str]
    records: list[RecordRef]
    details: dict[str, Any] = Field(default_factory=dict)


class Truth(BaseModel):
    """The whole ground truth of one generated data set."""

    model_config = ConfigDict(extra="forbid")

    seed: int
    scale: float
    files: dict[str, int]
    entities: list[EntityTruth]
    schemes: list[SchemeTruth]
    # Pairs of different entities with near-identical names: resolution must keep them apart.
    hard_negatives: list[tuple[str, str]] = Field(default_factory=list)
    # Reference rates (GBP per unit) the generator converted amounts with.
    gbp_per_unit: dict[str, float] = Field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> Truth:
        return cls.model_validate_json(path.read_text(encoding="utf-8"))


def write_truth(
    path: Path,
    *,
    seed: int,
    scale: float,
    files: dict[str, int],
    entities: Iterable[EntityTruth],
    schemes: list[SchemeTruth],
    hard_negatives: list[tuple[str, str]],
    gbp_per_unit: dict[str, float],
) -> int:
    """Write ``truth.json`` (a ``Truth``) one entity per line, without holding it all.

    Every part is a validated model; the key order is the model's field order, so the bytes
    are the same for the same content. Returns the number of entities written.
    """
    count = 0

    def dump(value: object) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(f'{{"seed":{dump(seed)},"scale":{dump(scale)},"files":{dump(files)},\n')
        fh.write('"entities":[')
        for entity in entities:
            fh.write(("\n" if count == 0 else ",\n") + entity.model_dump_json())
            count += 1
        fh.write('\n],\n"schemes":[')
        for i, scheme in enumerate(schemes):
            fh.write(("\n" if i == 0 else ",\n") + scheme.model_dump_json())
        fh.write('\n],\n"hard_negatives":' + dump(hard_negatives))
        fh.write(',\n"gbp_per_unit":' + dump(gbp_per_unit) + "}\n")
    return count


class SchemeDraft:
    """A scheme while it is planted: entities and records accumulate, keys come at the end."""

    def __init__(self, sid: str, typology: Typology) -> None:
        self.id = sid
        self.typology: Typology = typology
        self.entities: list[str] = []
        self.records: list[RecordRef] = []
        self.details: dict[str, Any] = {}

    def involve(self, *entity_ids: str) -> None:
        for eid in entity_ids:
            if eid not in self.entities:
                self.entities.append(eid)

    def record(self, file: str, record_id: str) -> None:
        self.records.append(RecordRef(file=file, record_id=record_id))

    def finish(self, entity_keys: Mapping[str, set[str]]) -> SchemeTruth:
        node_keys: set[str] = set()
        for eid in self.entities:
            node_keys |= entity_keys.get(eid, set())
        return SchemeTruth(
            id=self.id,
            typology=self.typology,
            entities=self.entities,
            node_keys=sorted(node_keys),
            records=list(dict.fromkeys(self.records)),
            details=self.details,
        )
