"""Timelines: the dated events of an entity and its records, across agencies.

Events come from the records the profile gathers (:func:`queries.profile.gather`):

- customs declarations a record lodged, sent or received (date, flow, value, its roles);
- reported transactions it, or an account it holds, sent or received (date, amount);
- FIU reports naming it or its accounts (submission date; a CTR without one is left out);
- cash declarations it carried or owns the funds of (date, direction, amount);
- tax returns it filed, as periods (first to last day of the period);
- a company's incorporation and dissolution;
- director appointments and resignations, as director or as the company directed.

Events are sorted by date, then kind, party and record, so both stores give the same order;
they are filtered by the caller's scope like everything else (hidden records are counted in
``withheld``). ``date_from`` / ``date_to`` keep the events in the window (a period is kept
when it overlaps it).
"""

from __future__ import annotations

from graph_models.records import Node, StoredProvenance
from graph_models.schema import Label, RelType
from graph_models.store.base import GraphStore
from queries.access import Scope, Tally, display_name, lift, rel_id
from queries.models import EventKind, Timeline, TimelineEvent
from queries.neighbourhood import Window, period_span
from queries.profile import EntityRecords, Linked, gather

_KIND_ORDER = {kind: i for i, kind in enumerate(EventKind)}


def timeline(
    store: GraphStore,
    key: str,
    *,
    scope: Scope,
    date_from: str | None = None,
    date_to: str | None = None,
    resolve: bool = True,
) -> Timeline:
    """The dated events of ``key`` (a resolved entity or a source record), sorted.

    Raises NotFoundError when ``key`` does not exist. Cost: that of
    :func:`queries.profile.gather`, plus sorting the events.
    """
    tally = Tally(scope)
    window = Window(date_from=date_from, date_to=date_to)
    members = lift(store, key, scope=scope, tally=tally, resolve=resolve)
    if members is None:
        return Timeline(key=key, events=[], withheld=tally.markers())
    records = gather(store, members, scope=scope, tally=tally)
    events = [e for e in _events(records, scope) if window.overlaps(e.date, e.end or e.date)]
    events.sort(key=lambda e: (e.date, _KIND_ORDER[e.kind], e.party, e.record))
    return Timeline(key=members.key, events=events, withheld=tally.markers())


def _events(records: EntityRecords, scope: Scope) -> list[TimelineEvent]:
    out = [
        *_declarations(records, scope),
        *_transactions(records, scope),
        *_reports(records, scope),
        *_cash(records, scope),
        *_tax(records, scope),
        *_directorships(records, scope),
    ]
    for member in records.members.records:
        out.extend(_company_dates(member, scope))
    return out


def _event(
    scope: Scope,
    *,
    day: str,
    kind: EventKind,
    party: str,
    record: str,
    prov: StoredProvenance,
    summary: str,
    **extra: object,
) -> TimelineEvent:
    return TimelineEvent.model_validate(
        {
            "date": day,
            "kind": kind,
            "party": party,
            "record": record,
            "agencies": scope.agencies_of(prov),
            "summary": summary,
            "provenance": scope.redact(prov),
            **extra,
        }
    )


def _date(node: Node, prop: str = "date") -> str | None:
    value = node.properties.get(prop)
    return value if isinstance(value, str) and value else None


def _grouped(links: list[Linked]) -> dict[tuple[str, str], list[Linked]]:
    """Links by (party, record): one event per record and party, whatever its roles."""
    out: dict[tuple[str, str], list[Linked]] = {}
    for link in links:
        out.setdefault((link.party, link.node.key), []).append(link)
    return out


def _roles(links: list[Linked]) -> list[str]:
    return sorted({str(link.rel.properties.get("role") or link.rel.type.value) for link in links})


def _declarations(records: EntityRecords, scope: Scope) -> list[TimelineEvent]:
    links = [*records.linked[RelType.DECLARED], *records.linked[RelType.CONSIGNED_TO]]
    out = []
    for (party, _), group in _grouped(links).items():
        node = group[0].node
        day = _date(node)
        if day is None:
            continue
        p = node.properties
        value = p.get("invoice_value", p.get("customs_value"))
        roles = _roles(group)
        out.append(
            _event(
                scope,
                day=day,
                kind=EventKind.DECLARATION,
                party=party,
                record=node.key,
                prov=node.provenance,
                summary=f"{p.get('flow', 'declaration')} {p.get('number', '')}"
                f" as {', '.join(roles)}: HS {p.get('hs_code', '?')}",
                amount=value,
                currency=p.get("currency"),
                details={"roles": roles, "flow": p.get("flow", "")},
            )
        )
    return out


def _transactions(records: EntityRecords, scope: Scope) -> list[TimelineEvent]:
    out = []
    for rel_type, direction in ((RelType.SENT, "sent"), (RelType.RECEIVED, "received")):
        for (party, _), group in _grouped(records.linked[rel_type]).items():
            node = group[0].node
            day = _date(node)
            if day is None:
                continue
            p = node.properties
            out.append(
                _event(
                    scope,
                    day=day,
                    kind=EventKind.TRANSACTION,
                    party=party,
                    record=node.key,
                    prov=node.provenance,
                    summary=f"{direction} {p.get('amount')} {p.get('currency') or ''}".rstrip(),
                    amount=p.get("amount"),
                    currency=p.get("currency"),
                    details={"direction": direction},
                )
            )
    return out


def _reports(records: EntityRecords, scope: Scope) -> list[TimelineEvent]:
    out = []
    for (party, _), group in _grouped(records.linked[RelType.REPORTED_IN]).items():
        node = group[0].node
        day = _date(node, "submission_date")
        if day is None:
            continue
        code = str(node.properties.get("report_code", "report"))
        roles = _roles(group)
        out.append(
            _event(
                scope,
                day=day,
                kind=EventKind.REPORT,
                party=party,
                record=node.key,
                prov=node.provenance,
                summary=f"{code} submitted, naming it as {', '.join(roles)}",
                details={"report_code": code, "roles": roles},
            )
        )
    return out


def _cash(records: EntityRecords, scope: Scope) -> list[TimelineEvent]:
    links = [*records.linked[RelType.CARRIED], *records.linked[RelType.OWNS_FUNDS]]
    out = []
    for (party, _), group in _grouped(links).items():
        node = group[0].node
        day = _date(node)
        if day is None:
            continue
        p = node.properties
        undeclared = p.get("undeclared") is True
        out.append(
            _event(
                scope,
                day=day,
                kind=EventKind.CASH,
                party=party,
                record=node.key,
                prov=node.provenance,
                summary=" ".join(
                    str(part)
                    for part in (
                        "undeclared" if undeclared else "",
                        p.get("direction", ""),
                        "cash",
                        p.get("amount", ""),
                        p.get("currency", ""),
                        f"at {p['port']}" if p.get("port") else "",
                    )
                    if part != ""
                ),
                amount=p.get("amount"),
                currency=p.get("currency"),
                details={
                    "roles": [
                        "carried" if g.rel.type == RelType.CARRIED else "owner" for g in group
                    ],
                    "undeclared": undeclared,
                },
            )
        )
    return out


def _tax(records: EntityRecords, scope: Scope) -> list[TimelineEvent]:
    out = []
    for (party, _), group in _grouped(records.linked[RelType.FILED]).items():
        node = group[0].node
        p = node.properties
        span = period_span(str(p.get("period", "")))
        if span is None:
            continue
        out.append(
            _event(
                scope,
                day=span[0],
                end=span[1],
                kind=EventKind.TAX_PERIOD,
                party=party,
                record=node.key,
                prov=node.provenance,
                summary=f"{p.get('tax_type', 'tax')} return {p.get('period')}:"
                f" turnover {p.get('turnover')}",
                amount=p.get("turnover"),
                details={"tax_type": str(p.get("tax_type", "")), "period": str(p["period"])},
            )
        )
    return out


def _company_dates(member: Node, scope: Scope) -> list[TimelineEvent]:
    if member.label != Label.COMPANY:
        return []
    out = []
    for prop, kind in (
        ("incorporation_date", EventKind.INCORPORATION),
        ("dissolution_date", EventKind.DISSOLUTION),
    ):
        day = _date(member, prop)
        if day is not None:
            out.append(
                _event(
                    scope,
                    day=day,
                    kind=kind,
                    party=member.key,
                    record=member.key,
                    prov=member.provenance,
                    summary=f"{display_name(member)} {kind.value}",
                )
            )
    return out


def _directorships(records: EntityRecords, scope: Scope) -> list[TimelineEvent]:
    out = []
    for link in records.directorships:
        rel = link.rel
        as_director = rel.start == link.party
        role = str(rel.properties.get("role") or "director")
        who = display_name(link.node)
        for prop, kind in (
            ("appointed", EventKind.APPOINTMENT),
            ("resigned", EventKind.RESIGNATION),
        ):
            day = rel.properties.get(prop)
            if not isinstance(day, str):
                continue
            verb = "appointed" if kind == EventKind.APPOINTMENT else "resigned as"
            summary = f"{verb} {role} of {who}" if as_director else f"{who} {verb} {role}"
            out.append(
                _event(
                    scope,
                    day=day,
                    kind=kind,
                    party=link.party,
                    record=rel_id(rel),
                    prov=rel.provenance,
                    summary=summary,
                    counterpart=link.node.key,
                    details={"role": role, "as": "director" if as_director else "company"},
                )
            )
    return out
