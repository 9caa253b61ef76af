"""FollowTheMoney JSON lines, read back through the followthemoney library as Aleph would."""

from __future__ import annotations

import json
from typing import Any, cast

from followthemoney import model
from followthemoney.schema import ValidationData

from app.exports.ftm import ftm_id, write_ftm
from app.exports.model import ExportMaterial
from graph_models.schema import RelType
from tests.exports.conftest import (
    ANNA,
    DE_ACCOUNT,
    ENTITY,
    HARBOUR,
    NL_ACCOUNT,
    NORDWIND,
    REPORT,
    SCRIPT_NAME,
    TXN,
    material,
)


def _lines(m: ExportMaterial) -> list[dict[str, Any]]:
    body = write_ftm(m)["entities.ftm.json"].decode("utf-8")
    return [json.loads(line) for line in body.splitlines()]


def test_every_line_is_a_valid_ftm_entity_that_cleaning_keeps_whole(
    material: ExportMaterial,
) -> None:
    lines = _lines(material)
    ids = {line["id"] for line in lines}
    assert len(ids) == len(lines)
    for line in lines:
        schema = model.get(line["schema"])
        assert schema is not None
        assert not schema.abstract
        # Raises InvalidData on a value its type refuses.
        schema.validate(cast(ValidationData, line))
        missing = [p for p in schema.required if not line["properties"].get(p)]
        assert missing == [], (line["schema"], missing)
        # Cleaning (what Aleph does on ingest) keeps every value: none is malformed.
        cleaned = model.get_proxy(line, cleaned=False).to_dict()["properties"]
        for prop, values in line["properties"].items():
            assert len(cleaned.get(prop, [])) == len(values), (line["schema"], prop, values)
            # Every entity reference points at an entity of the file.
            if schema.properties[prop].type.name == "entity":
                assert set(values) <= ids, (line["schema"], prop)


def test_the_graph_maps_to_ftm_schemata(material: ExportMaterial) -> None:
    by_id = {line["id"]: line for line in _lines(material)}
    nordwind = by_id[ftm_id(NORDWIND)]
    assert nordwind["schema"] == "Company"
    props = nordwind["properties"]
    assert (props["taxNumber"], props["jurisdiction"]) == (["DE123456789"], ["de"])
    assert props["email"] == ["info@nordwind.example"]
    assert props["addressEntity"]
    assert by_id[props["addressEntity"][0]]["schema"] == "Address"
    assert by_id[ftm_id(ANNA)]["properties"]["passportNumber"] == ["C01X00T47"]
    payment = by_id[ftm_id(TXN)]
    assert payment["schema"] == "Payment"
    # The accounts' holders are the payer and beneficiary; the accounts are kept too.
    assert payment["properties"]["payer"] == [ftm_id(NORDWIND)]
    assert payment["properties"]["beneficiary"] == [ftm_id(HARBOUR)]
    assert payment["properties"]["payerAccount"] == [ftm_id(DE_ACCOUNT)]
    assert payment["properties"]["beneficiaryAccount"] == [ftm_id(NL_ACCOUNT)]
    assert payment["properties"]["amount"] == ["9500"]
    schemata = sorted(line["schema"] for line in by_id.values())
    assert schemata.count("Ownership") == 3  # two holders of one account, one of the other
    assert "Directorship" in schemata
    assert by_id[ftm_id(REPORT)]["properties"]["involved"] == [ftm_id(NORDWIND)]
    assert by_id[ftm_id(ENTITY)]["schema"] == "Company"  # a resolved company
    note = by_id[ftm_id("alert:structuring:abc")]
    assert note["schema"] == "Note"
    assert set(note["properties"]["entity"]) == {ftm_id(NORDWIND), ftm_id(DE_ACCOUNT)}
    names = [v for line in by_id.values() for v in line["properties"].get("name", [])]
    assert SCRIPT_NAME in names  # data, not markup, in JSON
    assert "Bell Imports" in names  # control characters dropped


def test_ids_come_from_our_keys_so_a_reexport_updates_the_same_entities(
    material: ExportMaterial,
) -> None:
    first = {line["id"]: line for line in _lines(material)}
    shuffled = material.model_copy(
        update={
            "nodes": material.nodes[::-1],
            "relationships": material.relationships[::-1],
        }
    )
    again = {line["id"]: line for line in _lines(shuffled)}
    assert set(again) == set(first)
    assert again[ftm_id(NORDWIND)]["properties"] == first[ftm_id(NORDWIND)]["properties"]
    assert ftm_id(NORDWIND) != ftm_id(HARBOUR)


def test_a_payment_whose_payer_is_unknown_becomes_an_event() -> None:
    m = material()
    m.relationships = [
        r for r in m.relationships if not (r.type == RelType.HOLDS and r.end == DE_ACCOUNT)
    ]
    by_id = {line["id"]: line for line in _lines(m)}
    txn = by_id[ftm_id(TXN)]
    assert txn["schema"] == "Event"
    assert txn["properties"]["involved"] == [ftm_id(HARBOUR)]
    assert txn["properties"]["ibanMentioned"] == ["DE89370400440532013000", "NL91ABNA0417164300"]
