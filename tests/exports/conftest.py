"""One small export, hand-built, for the writers: a payment between two companies' accounts,
a director, contacts, a declaration, an FIU report, a resolved entity, an alert, events, and
two hostile records (a script and a spreadsheet formula as names, a control character).

``material()`` is a plain function so tests may vary it; the ``material`` fixture is its
default. Keys are the graph's own kinds of key, so the goAML export can be loaded back.
"""

from __future__ import annotations

import pytest

from app.exports.model import Disseminated, ExportMaterial, Note
from graph_models.records import Scalar, StoredProvenance
from graph_models.schema import SCHEMA, RelType
from queries.alerts import Alert, EvidenceRecord, Indicator, Typology
from queries.models import EventKind, NodeView, RelView, TimelineEvent, Withheld

NORDWIND = "company:customs:tax:DE123456789"
HARBOUR = "company:registry:reg:GB:12345678"
ANNA = "person:registry:name:anna schmidt:1975-02-14"
DE_ACCOUNT = "account:DE89370400440532013000"
NL_ACCOUNT = "account:NL91ABNA0417164300"
TXN = "transaction:1001:STR-1:T1"
REPORT = "report:1001:STR-1"
ADDRESS = "address:de:hafenstrasse 1 20457 hamburg"
PHONE = "phone:+49301234567"
EMAIL = "email:info@nordwind.example"
DE = "country:DE"
DECL = "declaration:DE:D9:1"
ENTITY = "entity:nordwind"
SCRIPT = "company:customs:name:-:script"
FORMULA = "company:customs:name:-:formula"
SCRIPT_NAME = '<script>alert("owned")</script> Trading'
FORMULA_NAME = '=HYPERLINK("http://evil.example","click")'
BELL_NAME = "Bell\x07 Imports"
BELL = "company:customs:name:-:bell"


def provenance(agency: str, record: str, *, seen: str | None = None) -> StoredProvenance:
    file = {"customs": "declarations.csv", "fiu": "str.xml", "registry": "companies.csv"}[agency]
    return StoredProvenance(
        agencies=[agency],
        compartments=[agency],
        sources=[f"{agency}|{file}|load-1"],
        record_ids=[f"{file}|{record}"],
        first_seen=seen,
        last_seen=seen,
    )


def view(key: str, agency: str, record: str, **props: Scalar) -> NodeView:
    return NodeView(
        label=SCHEMA.label_of_key(key),
        key=key,
        properties=props,
        provenance=provenance(agency, record),
    )


def link(
    rel_type: RelType, start: str, end: str, agency: str, key: str = "", **props: Scalar
) -> RelView:
    return RelView(
        type=rel_type,
        start=start,
        end=end,
        key=key,
        properties=props,
        provenance=provenance(agency, f"{rel_type.value} {start}"),
    )


def material() -> ExportMaterial:
    nodes = [
        view(ENTITY, "customs", "row 1", name="Nordwind Trading GmbH", kind="company"),
        view(
            NORDWIND,
            "customs",
            "row 2",
            name="Nordwind Trading GmbH",
            tax_id="DE123456789",
            registration_number="HRB 12345",
            legal_form="GmbH",
            jurisdiction="DE",
            incorporation_date="2019-06-01",
        ),
        view(HARBOUR, "registry", "row 7", name="Blue Harbour Ltd", jurisdiction="GB"),
        view(
            ANNA,
            "registry",
            "row 8",
            name="Anna Schmidt",
            birth_date="1975-02-14",
            nationality="DE",
            id_number="C01X00T47",
            id_type="passport",
        ),
        view(
            DE_ACCOUNT,
            "fiu",
            "/reports/report[1]/transaction[1]",
            account_number="0532013000",
            iban="DE89370400440532013000",
            institution="Bank Alpha",
            currency="EUR",
            country="DE",
        ),
        view(
            NL_ACCOUNT,
            "fiu",
            "/reports/report[1]/transaction[1]",
            account_number="0417164300",
            iban="NL91ABNA0417164300",
            institution="Bank Beta",
            currency="EUR",
            country="NL",
        ),
        view(
            TXN,
            "fiu",
            "/reports/report[1]/transaction[1]",
            transaction_number="T1",
            date="2024-03-01",
            amount=9500.0,
            currency="EUR",
            transmode="K",
            description="Invoice 2024/17",
        ),
        view(
            REPORT,
            "fiu",
            "/reports/report[1]",
            report_id="STR-1",
            report_code="STR",
            submission_date="2024-03-05",
            reason="Transfers under the threshold",
        ),
        view(
            ADDRESS,
            "customs",
            "row 2",
            full="Hafenstrasse 1, 20457 Hamburg",
            street="Hafenstrasse 1",
            city="Hamburg",
            postal_code="20457",
            country="DE",
        ),
        view(PHONE, "customs", "row 2", number="+49 30 1234567"),
        view(EMAIL, "customs", "row 2", address="info@nordwind.example"),
        view(DE, "customs", "row 2", code="DE", name="Germany"),
        view(
            DECL,
            "customs",
            "row 3",
            number="D9",
            date="2024-02-01",
            flow="export",
            hs_code="850440",
            invoice_value=1000.0,
            currency="EUR",
        ),
        view(SCRIPT, "customs", "row 4", name=SCRIPT_NAME),
        view(FORMULA, "customs", "row 5", name=FORMULA_NAME),
        view(BELL, "customs", "row 6", name=BELL_NAME),
    ]
    rels = [
        link(RelType.SAME_AS, NORDWIND, ENTITY, "customs"),
        link(RelType.DIRECTOR_OF, ANNA, NORDWIND, "registry", "MD", role="MD"),
        link(RelType.HOLDS, NORDWIND, DE_ACCOUNT, "fiu", "holder", role="holder"),
        link(RelType.HOLDS, ANNA, DE_ACCOUNT, "fiu", "signatory", role="signatory"),
        link(RelType.HOLDS, HARBOUR, NL_ACCOUNT, "fiu", "holder", role="holder"),
        link(RelType.SENT, DE_ACCOUNT, TXN, "fiu"),
        link(RelType.RECEIVED, TXN, NL_ACCOUNT, "fiu"),
        link(
            RelType.PAID,
            DE_ACCOUNT,
            NL_ACCOUNT,
            "fiu",
            TXN,
            date="2024-03-01",
            amount=9500.0,
            currency="EUR",
            transaction=TXN,
        ),
        link(RelType.REPORTED_IN, NORDWIND, REPORT, "fiu", "subject", role="subject"),
        link(RelType.REGISTERED_AT, NORDWIND, ADDRESS, "customs"),
        link(RelType.HAS_PHONE, NORDWIND, PHONE, "customs"),
        link(RelType.HAS_EMAIL, NORDWIND, EMAIL, "customs"),
        link(RelType.IN_COUNTRY, NORDWIND, DE, "customs", "jurisdiction", role="jurisdiction"),
        link(RelType.DECLARED, NORDWIND, DECL, "customs", "exporter", role="exporter"),
        link(RelType.SHIPPED_TO, NORDWIND, SCRIPT, "customs", DECL, date="2024-02-01", value=1e3),
    ]
    alert = Alert(
        id="alert:structuring:abc",
        typology=Typology.STRUCTURING,
        detector="structuring",
        score=3.5,
        summary="Transfers just under the threshold",
        entities=[NORDWIND, DE_ACCOUNT],
        indicators=[
            Indicator(name="transfers", value=4, threshold=3, explanation="count in 30 days")
        ],
        records=[
            EvidenceRecord(
                key=TXN,
                label="Transaction",
                date="2024-03-01",
                amount=9500.0,
                provenance=provenance("fiu", "/reports/report[1]/transaction[1]"),
            )
        ],
    )
    events = [
        TimelineEvent(
            date="2024-02-01",
            kind=EventKind.DECLARATION,
            party=NORDWIND,
            record=DECL,
            agencies=["customs"],
            summary="export D9 as exporter: HS 850440",
            amount=1000.0,
            currency="EUR",
            provenance=provenance("customs", "row 3"),
        ),
        TimelineEvent(
            date="2024-03-01",
            kind=EventKind.TRANSACTION,
            party=DE_ACCOUNT,
            record=TXN,
            agencies=["fiu"],
            summary="sent 9500.0 EUR",
            amount=9500.0,
            currency="EUR",
            provenance=provenance("fiu", "/reports/report[1]/transaction[1]"),
        ),
    ]
    return ExportMaterial(
        title="Nordwind and Blue Harbour",
        purpose="joint operation Harbour",
        requested_by="fiu-liaison",
        agency="fiu",
        generated_at="2026-01-15T10:30:00+00:00",
        case_id="case-2026-000001",
        legal_basis="AMLD art. 53",
        compartments=["customs", "external", "fiu", "registry"],
        subjects=[ENTITY],
        nodes=nodes,
        relationships=rels,
        alerts=[alert],
        events=events,
        withheld=[
            Withheld(
                compartment="tax",
                kind="source records",
                count=2,
                note="held by the tax administration — ask the tax liaison officer",
            )
        ],
        disseminated=[
            Disseminated(key=REPORT, compartments=["fiu"], legal_basis="AMLD art. 53", by="fiu-a")
        ],
        notes=[Note(text="Check the Hamburg address", by="customs-analyst", at="2026-01-14")],
    )


@pytest.fixture(name="material")
def material_fixture() -> ExportMaterial:
    return material()
