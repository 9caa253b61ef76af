"""FIU reports in goAML 5 XML: STR, SAR, CTR and the rest (a ``report`` or a ``reports``).

Records. A file yields two kinds of record, both named by element path: each
``<transaction>`` (``/reports/report[3]/transaction[2]``) and each report's header (the
report's other children, ``/reports/report[3]``). goAML puts ``report_indicators`` after the
transactions, so a header record is yielded when its report ends, after its transactions.

Before anything is loaded the whole file is walked once (:mod:`loaders.goaml_xml`): that pass
proves the file well-formed (else a LoadError naming line and column), safe (no entity
declarations, no external DTD) and within the size limits, and validates every report header.
A report whose header is invalid is quarantined together with its transactions (reason "its
report was quarantined"), so no transaction hangs off a report the graph does not hold.
Header elements other than ``report_indicators`` must precede the transactions (the goAML
order): a header element after them quarantines that report the same way.

Identity. ``report_id`` is the reporting entity's ``entity_reference``, or, lacking one,
``<submission_date>#<position of the report in the file>``. References are unique per
reporting entity only, so the Report key is ``report:<rentity_id>:<report_id>`` and a
transaction's is ``transaction:<rentity_id>:<report_id>:<transactionnumber>``.

Graph per transaction: ``Transaction`` -PART_OF-> ``Report``; each side is an ``Account``
(its ``t_entity`` HOLDS it as "holder", its signatories as "signatory"), a ``Person`` or a
``Company`` (FIU-keyed); the from side SENT the transaction, the to side RECEIVED it, and the
from side PAID the to side (keyed by the transaction). Everything mentioned is REPORTED_IN
the report with its role: ``from``, ``to``, ``holder``, ``signatory``, ``director``, and
``subject`` for the parties of ``t_from_my_client`` / ``t_to_my_client`` (the reporting
entity's own client). ``from_country`` / ``to_country`` become IN_COUNTRY with role
``from_country`` / ``to_country``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from graph_models.records import Agency
from graph_models.schema import Label, RelType
from loaders import keys
from loaders.base import GraphBuilder, LoadError, RawRecord, RecordProblem, SourceFormat
from loaders.goaml_models import (
    Account,
    Contactable,
    Entity,
    Person,
    ReportHeader,
    TransactionRecord,
)
from loaders.goaml_xml import (
    GoamlWalk,
    HeaderField,
    ReportEnd,
    ReportStart,
    Stray,
    TransactionEnd,
    XmlLimits,
    looks_like_xml,
    merge_child,
)
from loaders.reference_data import country_name

# The only header element goAML places after the transactions.
_TRAILING_HEADER = "report_indicators"


class _Bits:
    """One bit per report (invalid header or not): memory stays tiny for any file."""

    def __init__(self) -> None:
        self._bytes = bytearray()

    def add(self, n: int) -> None:
        index, bit = divmod(n, 8)
        if index >= len(self._bytes):
            self._bytes.extend(bytes(index + 1 - len(self._bytes)))
        self._bytes[index] |= 1 << bit

    def __contains__(self, n: int) -> bool:
        index, bit = divmod(n, 8)
        return index < len(self._bytes) and bool(self._bytes[index] & (1 << bit))


def _header(data: dict[str, Any], position: int) -> ReportHeader | None:
    try:
        return ReportHeader.model_validate({**data, "#position": position})
    except ValidationError:
        return None


class _Report:
    """The report being read: its header data so far, and whether one came late."""

    def __init__(self, start: ReportStart) -> None:
        self.path = start.path
        self.position = start.position
        self.data: dict[str, Any] = {}
        self.late: str | None = None
        self.context: ReportHeader | None = None

    def add(self, item: HeaderField) -> None:
        merge_child(self.data, "report", item.name, item.value)
        if item.after_transactions and item.name != _TRAILING_HEADER and self.late is None:
            self.late = item.name

    def valid(self) -> bool:
        return self.late is None and _header(self.data, self.position) is not None


class GoamlReports(SourceFormat):
    kind = "goaml"
    agency = Agency.FIU
    model = TransactionRecord
    description = "FIU reports (STR, SAR, CTR, ...) in goAML 5 XML"

    def __init__(self, *, limits: XmlLimits | None = None) -> None:
        self.limits = limits or XmlLimits()

    def model_for(self, raw: RawRecord) -> type[BaseModel]:
        return TransactionRecord if "/transaction[" in raw.record_id else ReportHeader

    def identity(self, row: ReportHeader | TransactionRecord) -> str:
        return row.key

    def seen(self, row: ReportHeader | TransactionRecord) -> str | None:
        if isinstance(row, ReportHeader):
            return row.submission_date
        return row.date_transaction

    # --- reading ---------------------------------------------------------------------------
    def records(self, path: Path) -> Iterator[RawRecord]:
        looks = looks_like_xml(path)
        if looks is not None:
            raise LoadError(path, f"not a goAML XML file: it looks like {looks}")
        invalid = self._check(path)
        yield from self._read(path, invalid)

    def _check(self, path: Path) -> _Bits:
        """The pre-pass: raises LoadError for file problems; returns the invalid headers."""
        invalid = _Bits()
        report: _Report | None = None
        for item in GoamlWalk(path, self.limits, convert=False):
            if isinstance(item, ReportStart):
                report = _Report(item)
            elif isinstance(item, HeaderField) and report is not None:
                report.add(item)
            elif isinstance(item, ReportEnd) and report is not None and not report.valid():
                invalid.add(report.position)
        return invalid

    def _read(self, path: Path, invalid: _Bits) -> Iterator[RawRecord]:
        walk = GoamlWalk(path, self.limits)
        report: _Report | None = None
        for item in walk:
            if isinstance(item, ReportStart):
                report = _Report(item)
            elif isinstance(item, HeaderField) and report is not None:
                report.add(item)
            elif isinstance(item, TransactionEnd) and report is not None:
                if item.first and report.position not in invalid:
                    report.context = _header(report.data, report.position)
                yield self._transaction_record(item, report, walk.bytes_read)
            elif isinstance(item, ReportEnd) and report is not None:
                yield self._header_record(report, invalid, walk.bytes_read)
            elif isinstance(item, Stray):
                yield RawRecord(
                    item.path,
                    {},
                    walk.bytes_read,
                    RecordProblem(
                        None, f"unexpected <{item.name}>: <reports> holds <report> elements only"
                    ),
                )

    def _transaction_record(self, item: TransactionEnd, report: _Report, at: int) -> RawRecord:
        if report.context is None:
            problem = RecordProblem(None, f"its report was quarantined (see {report.path})")
            return RawRecord(item.path, {}, at, problem)
        data = item.data if isinstance(item.data, dict) else {}
        return RawRecord(item.path, {**data, "#report": report.context}, at)

    def _header_record(self, report: _Report, invalid: _Bits, at: int) -> RawRecord:
        problem = None
        if report.late:
            problem = RecordProblem(
                report.late,
                f"<{report.late}> comes after the report's transactions; goAML puts the"
                " report header before them",
            )
        elif report.position in invalid and _header(report.data, report.position) is not None:
            # Only a date that stopped being in the future between the passes gets here.
            problem = RecordProblem(None, "the report header was invalid when the file was checked")
        return RawRecord(report.path, {**report.data, "#position": report.position}, at, problem)

    # --- the graph -------------------------------------------------------------------------
    def build(self, row: ReportHeader | TransactionRecord, graph: GraphBuilder) -> None:
        if isinstance(row, ReportHeader):
            self._report(row, graph, full=True)
        else:
            self._transaction(row, graph)

    def _report(self, header: ReportHeader, graph: GraphBuilder, *, full: bool) -> str:
        # A transaction writes the report node too (its PART_OF needs it, and the header
        # record comes after the transactions), but only the identifying properties.
        extra: dict[str, str | list[str] | None] = {}
        if full:
            extra = {
                "reason": header.reason,
                "action": header.action,
                "indicators": header.indicators or None,
            }
        return graph.node(
            Label.REPORT,
            header.key,
            report_id=header.report_id,
            report_code=header.report_code.upper(),
            reporting_entity=header.rentity_id,
            submission_date=header.submission_date,
            **extra,
        )

    def _transaction(self, row: TransactionRecord, graph: GraphBuilder) -> None:
        report = self._report(row.report, graph, full=False)
        txn = graph.node(
            Label.TRANSACTION,
            row.key,
            transaction_number=row.transactionnumber,
            date=row.date_transaction,
            amount=row.amount_local,
            currency=row.report.currency_code_local,
            transmode=row.transmode_code,
            description=row.transaction_description,
        )
        graph.rel(RelType.PART_OF, txn, report)
        source = self._side(row, "from", graph, report)
        target = self._side(row, "to", graph, report)
        graph.rel(RelType.SENT, source, txn)
        graph.rel(RelType.RECEIVED, txn, target)
        if source != target:
            graph.rel(
                RelType.PAID,
                source,
                target,
                key=txn,
                date=row.date_transaction,
                amount=row.amount_local,
                currency=row.report.currency_code_local,
                transaction=txn,
            )

    def _side(
        self, row: TransactionRecord, direction: str, graph: GraphBuilder, report: str
    ) -> str:
        names = (f"t_{direction}_my_client", f"t_{direction}")
        present = [n for n in names if getattr(row, n) is not None]
        if len(present) != 1:
            raise RecordProblem(
                f"t_{direction}",
                f"a transaction needs exactly one of {' or '.join(names)}"
                f" (found: {', '.join(present) or 'none'})",
            )
        side = getattr(row, present[0])
        party = side.party
        if isinstance(party, Account):
            key = self._account(party, side.country, direction, graph, report)
        elif isinstance(party, Person):
            key = self._person(party, direction, graph, report)
        else:
            key = self._entity(party, direction, graph, report)
        if present[0].endswith("my_client"):
            graph.rel(RelType.REPORTED_IN, key, report, key="subject", role="subject")
        if side.country:
            role = f"{direction}_country"
            graph.rel(RelType.IN_COUNTRY, key, _country(graph, side.country), key=role, role=role)
        return key

    def _account(
        self, account: Account, country: str | None, role: str, graph: GraphBuilder, report: str
    ) -> str:
        key = graph.node(
            Label.ACCOUNT,
            account.key,
            account_number=account.account or account.iban,
            iban=account.iban,
            institution=account.institution,
            currency=account.currency_code,
            country=country,
        )
        graph.rel(RelType.REPORTED_IN, key, report, key=role, role=role)
        if account.t_entity is not None:
            holder = self._entity(account.t_entity, "holder", graph, report)
            graph.rel(RelType.HOLDS, holder, key, key="holder", role="holder")
        for signatory in account.signatory:
            person = self._person(signatory.t_person, "signatory", graph, report)
            graph.rel(RelType.HOLDS, person, key, key="signatory", role="signatory")
        return key

    def _person(self, person: Person, role: str, graph: GraphBuilder, report: str) -> str:
        id_number, id_type = person.identifier
        key = graph.node(
            Label.PERSON,
            person.key,
            name=person.name,
            name_norm=keys.norm_text(person.name),
            birth_date=person.birthdate,
            nationality=person.nationality1,
            id_number=id_number,
            id_type=id_type,
        )
        graph.rel(RelType.REPORTED_IN, key, report, key=role, role=role)
        for country_role, code in (
            ("nationality", person.nationality1),
            ("passport", person.passport_country),
        ):
            if code:
                country = _country(graph, code)
                graph.rel(RelType.IN_COUNTRY, key, country, key=country_role, role=country_role)
        _contacts(key, person, graph)
        return key

    def _entity(self, entity: Entity, role: str, graph: GraphBuilder, report: str) -> str:
        country = entity.incorporation_country_code
        key = graph.node(
            Label.COMPANY,
            entity.key,
            name=entity.name,
            name_norm=keys.norm_text(entity.name),
            registration_number=entity.incorporation_number,
            tax_id=entity.tax_number,
            legal_form=entity.incorporation_legal_form,
            incorporation_date=entity.incorporation_date,
            jurisdiction=country,
        )
        graph.rel(RelType.REPORTED_IN, key, report, key=role, role=role)
        if country:
            graph.rel(
                RelType.IN_COUNTRY,
                key,
                _country(graph, country),
                key="jurisdiction",
                role="jurisdiction",
            )
        _contacts(key, entity, graph)
        for director in entity.director_id:
            person = self._person(director, "director", graph, report)
            director_role = director.role or "director"
            graph.rel(RelType.DIRECTOR_OF, person, key, key=director_role, role=director_role)
        return key


def _country(graph: GraphBuilder, code: str) -> str:
    return graph.node(Label.COUNTRY, keys.country_key(code), code=code, name=country_name(code))


def _contacts(owner: str, party: Contactable, graph: GraphBuilder) -> None:
    for address in party.address_list:
        country = address.country_code
        addr = graph.node(
            Label.ADDRESS,
            keys.address_key(address.full, country),
            full=address.full,
            street=address.address,
            city=address.locality,
            postal_code=address.zip,
            country=country,
        )
        graph.rel(RelType.REGISTERED_AT, owner, addr)
        if country:
            graph.rel(
                RelType.IN_COUNTRY, addr, _country(graph, country), key="location", role="location"
            )
    for phone in party.phone_list:
        number = graph.node(Label.PHONE, keys.phone_key(phone.number), number=phone.number)
        graph.rel(RelType.HAS_PHONE, owner, number)
    for email in party.emails:
        mail = graph.node(Label.EMAIL, keys.email_key(email), address=email)
        graph.rel(RelType.HAS_EMAIL, owner, mail)
