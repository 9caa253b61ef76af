"""The legitimate economy, streamed day by day.

Each stream hands back the records of one day; the generator merges in the planted records of
that day and writes them. Nothing here keeps more than a few days of records: the shipments
whose import side arrives later wait in a small queue keyed by arrival day.
"""

from __future__ import annotations

import bisect
import math
import random
from collections import defaultdict
from datetime import date, timedelta
from itertools import accumulate

from datagen.population import Company, Person, Population, Relation, median_price
from datagen.rows import Cash, Customs, Fiu, Item, Side, from_gbp, to_gbp
from datagen.world import (
    CASH_ROUTES,
    CASH_THRESHOLD,
    CHAPTERS,
    CTR_THRESHOLD,
    END,
    HOME,
    PORTS,
    START,
)
from datagen.writers import El, Row

# Rows per shipment: 1.27 items per declaration, 1.33 sides written per shipment.
_ROWS_PER_SHIPMENT = 1.69
_SHIPMENTS_PER_SCALE = 10_000 / _ROWS_PER_SHIPMENT  # ~10,000 declaration rows per unit of scale
_WEEKDAY = (1.0, 1.05, 1.05, 1.0, 0.95, 0.12, 0.04)
# Items per declaration, and how often each count occurs.
_ITEM_COUNTS = (1, 2, 3)
_ITEM_COUNT_WEIGHTS = (0.8, 0.15, 0.05)
# Which sides of a shipment are declared: the home side always; the partner's side of a home
# shipment with this probability (partner administrations exchange some declarations); a
# shipment between two foreign countries as its export with _ABROAD_EXPORT, else as its import,
# and as both with _ABROAD_BOTH of the exports.
_PARTNER_SIDE = 0.35
_ABROAD_EXPORT = 0.65
_ABROAD_BOTH = 0.3


def relation_goods(rel: Relation) -> list[str]:
    """The subheadings a relation's declarations carry, in item order: the relation's own
    goods first, then the seller's other lines (only on declarations of several items)."""
    return list(dict.fromkeys([*rel.hs6, *rel.seller.hs6]))


def expected_declarations(
    rel: Relation, share: float, scale: float
) -> dict[tuple[str, str], float]:
    """How many declarations of each (subheading, flow) a relation is expected to leave over
    the whole delivery, when it draws ``share`` of the shipments (its ``seller.activity *
    size`` over the population's total) and is active for all of it. An estimate for choosing
    goods, not a promise: seasons, and the days either party is not in business, are left out."""
    shipments = _SHIPMENTS_PER_SCALE * scale * share
    if HOME in (rel.seller.country, rel.buyer.country):
        sides = {
            "export": 1.0 if rel.seller.country == HOME else _PARTNER_SIDE,
            "import": 1.0 if rel.buyer.country == HOME else _PARTNER_SIDE,
        }
    else:
        sides = {
            "export": _ABROAD_EXPORT,
            "import": (1 - _ABROAD_EXPORT) + _ABROAD_EXPORT * _ABROAD_BOTH,
        }
    out: dict[tuple[str, str], float] = {}
    for position, hs6 in enumerate(relation_goods(rel)[: len(_ITEM_COUNTS)]):
        carried = sum(
            w for n, w in zip(_ITEM_COUNTS, _ITEM_COUNT_WEIGHTS, strict=True) if n > position
        )
        for flow, p in sides.items():
            out[(hs6, flow)] = shipments * carried * p
    return out


def days() -> list[date]:
    return [START + timedelta(days=i) for i in range((END - START).days + 1)]


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def seasonal(chapter: str, month: int) -> float:
    peak = CHAPTERS[chapter].seasonal_peak
    if peak is None:
        return 1.0
    return 1.0 + 0.35 * math.cos(2 * math.pi * (month - peak) / 12)


def trend(day: date) -> float:
    """Trade grows about 4 % a year."""
    return 1.0 + 0.04 * (day - START).days / 365


def day_weights(weekday: tuple[float, ...]) -> dict[date, float]:
    weights = {d: weekday[d.weekday()] * trend(d) for d in days()}
    total = sum(weights.values())
    return {d: w / total for d, w in weights.items()}


class Trade:
    """Legitimate shipments along stable trade relations, both sides where they are declared."""

    def __init__(self, rng: random.Random, pop: Population, customs: Customs, scale: float):
        self.rng = rng
        self.pop = pop
        self.customs = customs
        self.relations = pop.relations
        self.cumulative = list(accumulate(r.seller.activity * r.size for r in self.relations))
        self.shipments = 10_000 * scale / _ROWS_PER_SHIPMENT
        self.weights = day_weights(_WEEKDAY)
        self.pending: dict[date, list[list[Row]]] = defaultdict(list)

    def pick(self, day: date) -> Relation | None:
        rng = self.rng
        total = self.cumulative[-1]
        for _ in range(8):
            rel = self.relations[bisect.bisect_left(self.cumulative, rng.random() * total)]
            if not (rel.seller.active(day) and rel.buyer.active(day)):
                continue
            if rng.random() * 1.35 < seasonal(rel.hs6[0][:2], day.month):
                return rel
        return None

    def items(self, rel: Relation) -> list[Item]:
        rng = self.rng
        count = rng.choices(_ITEM_COUNTS, _ITEM_COUNT_WEIGHTS)[0]
        codes = relation_goods(rel)[: max(count, 1)]
        out = []
        for hs6 in codes:
            chapter = CHAPTERS[hs6[:2]]
            value = math.exp(rng.gauss(math.log(32_000), 0.9)) * rel.size
            price = median_price(hs6) * rel.price_factor * math.exp(rng.gauss(0.0, 0.08))
            qty = value / price
            if chapter.unit == "NAR":
                qty = max(1, round(qty))
                value = qty * price
            mass = qty * chapter.kg_per_unit * math.exp(rng.gauss(0.0, 0.05))
            out.append(Item(hs6, qty, chapter.unit, mass, value))
        return out

    def rows(
        self, rel: Relation, items: list[Item], side: Side, agent: Company | None
    ) -> list[Row]:
        return self.customs.rows(
            seller=rel.seller,
            buyer=rel.buyer,
            items=items,
            side=side,
            currency=rel.currency,
            transport=rel.transport,
            terms=rel.terms,
            agent=agent,
        )

    def day(self, day: date) -> list[list[Row]]:
        rng = self.rng
        groups = self.pending.pop(day, [])
        for _ in range(poisson(rng, self.shipments * self.weights[day])):
            rel = self.pick(day)
            if rel is None:
                continue
            items = self.items(rel)
            arrive = day + timedelta(days=rel.transit_days)
            export, imp = Side("export", day), Side("import", arrive)
            home = HOME in (rel.seller.country, rel.buyer.country)
            if home:
                write_export = rel.seller.country == HOME or rng.random() < _PARTNER_SIDE
                write_import = rel.buyer.country == HOME or rng.random() < _PARTNER_SIDE
            else:
                write_export = rng.random() < _ABROAD_EXPORT
                write_import = not write_export or rng.random() < _ABROAD_BOTH
            if arrive > END:
                write_import = False
            if write_export:
                groups.append(self.rows(rel, items, export, rel.seller_agent))
            else:
                self.customs.shadow(rel.seller, rel.buyer, items, export)
            if write_import:
                self.pending[arrive].append(self.rows(rel, items, imp, rel.buyer_agent))
            elif arrive <= END:
                self.customs.shadow(rel.seller, rel.buyer, items, imp)
        return groups


class Banking:
    """Legitimate FIU traffic: currency transaction reports and the false-positive STRs."""

    def __init__(self, rng: random.Random, pop: Population, fiu: Fiu, scale: float) -> None:
        self.rng = rng
        self.pop = pop
        self.fiu = fiu
        self.scale = scale
        home = [c for c in pop.companies if c.country == HOME and c.accounts]
        self.cash_businesses = [c for c in home if c.cash_intensive]
        self.traders = [c for c in home if c.kind == "trader"]
        self.home_companies = home
        self.partners: dict[str, list[Company]] = defaultdict(list)
        for rel in pop.relations:
            self.partners[rel.seller.id].append(rel.buyer)
            self.partners[rel.buyer.id].append(rel.seller)
        # Cash businesses bank their takings on a fixed weekday, weekly or fortnightly.
        self.cadence = {
            c.id: (
                rng.randrange(5),
                rng.choice((7, 14)),
                math.exp(rng.gauss(math.log(11_000), 0.35)),
                self._staff(c),
            )
            for c in self.cash_businesses
        }
        self.str_rate = 150 * scale / 1096
        self.person_ctr_rate = 180 * scale / 1096
        self.customers: list[Person] = []

    def _staff(self, company: Company) -> Person:
        directors = [o.holder for o in company.officers if isinstance(o.holder, Person)]
        if directors and self.rng.random() < 0.6:
            return directors[0]
        return self.pop.new_person(HOME)

    def customer(self) -> Person:
        """A retail customer of a home bank (reused now and then: people have histories)."""
        if self.customers and self.rng.random() < 0.3:
            return self.rng.choice(self.customers)
        person = self.pop.new_person(HOME)
        self.pop.open_account(person, HOME)
        self.customers.append(person)
        return person

    def ctr_rows(self, day: date) -> list[list[Row]]:
        rng = self.rng
        out: list[list[Row]] = []
        if day.weekday() < 5:
            for company in self.cash_businesses:
                weekday, every, takings, staff = self.cadence[company.id]
                if day.weekday() != weekday or not company.active(day):
                    continue
                if every == 14 and day.isocalendar()[1] % 2:
                    continue
                amount = round(takings * every / 7 * math.exp(rng.gauss(0.0, 0.25)), 2)
                if amount < CTR_THRESHOLD:
                    continue  # below the threshold a deposit is not reported
                account = company.accounts[0]
                out.append(
                    [
                        self.fiu.ctr_row(
                            bank=account.bank,
                            day=day,
                            amount=amount,
                            direction="in",
                            account=account,
                            conductor=staff,
                            beneficiary=company,
                        )
                    ]
                )
        for _ in range(poisson(rng, self.person_ctr_rate * (1.0 if day.weekday() < 5 else 0.2))):
            person = self.customer()
            account = person.accounts[0]
            amount = round(CTR_THRESHOLD + math.exp(rng.gauss(math.log(6_000), 0.9)), -1)
            out.append(
                [
                    self.fiu.ctr_row(
                        bank=account.bank,
                        day=day,
                        amount=amount,
                        direction=rng.choice(("in", "out", "out")),
                        account=account,
                        conductor=person,
                        beneficiary=None,
                    )
                ]
            )
        return out

    def str_reports(self, day: date) -> list[El]:
        """False-positive STRs: unusual but legitimate activity of ordinary customers."""
        rng = self.rng
        out: list[El] = []
        if day.weekday() >= 5:
            return out
        for _ in range(poisson(rng, self.str_rate * 1.4)):
            if rng.random() < 0.55 and self.traders:
                report = self._trader_report(day)
            else:
                report = self._person_report(day)
            if report is not None:
                out.append(report)
        return out

    def _trader_report(self, day: date) -> El | None:
        rng = self.rng
        company = rng.choice(self.traders)
        partners = [p for p in self.partners.get(company.id, []) if p.country != HOME]
        if not partners or not company.active(day - timedelta(days=90)):
            return None
        account = company.accounts[0]
        txs: list[El] = []
        start = max(START, day - timedelta(days=rng.randint(20, 80)))
        for _ in range(rng.randint(1, 4)):
            partner = rng.choice(partners)
            if not partner.accounts:
                self.pop.open_account(partner, partner.country)
            other = partner.accounts[0]
            amount = round(math.exp(rng.gauss(math.log(45_000), 0.8)), 2)
            outgoing = rng.random() < 0.6
            when = min(day, start + timedelta(days=rng.randint(0, 15)))
            ours = self.fiu.side(
                "from" if outgoing else "to",
                my_client=True,
                funds="ACCOUNT",
                country=HOME,
                account=account,
            )
            theirs = self.fiu.side(
                "to" if outgoing else "from",
                my_client=False,
                funds="ACCOUNT",
                country=partner.country,
                account=other,
            )
            txs.append(
                self.fiu.transaction(
                    bank=account.bank,
                    day=when,
                    transmode="SWIFT",
                    amount_gbp=amount,
                    description=rng.choice(_TRADE_PAYMENTS),
                    source=ours if outgoing else theirs,
                    target=theirs if outgoing else ours,
                )
            )
        txs.sort(key=_tx_day)
        return self.fiu.report(
            bank=account.bank,
            code=rng.choice(("STR", "STR", "SAR")),
            submitted=day,
            reason=rng.choice(_TRADER_REASONS),
            action="Enhanced due diligence opened; relationship maintained.",
            indicators=rng.sample(_INDICATORS_TRADE, rng.randint(1, 2)),
            transactions=txs,
        )

    def _person_report(self, day: date) -> El | None:
        rng = self.rng
        person = self.customer()
        account = person.accounts[0]
        txs: list[El] = []
        start = max(START, day - timedelta(days=rng.randint(15, 60)))
        for _ in range(rng.randint(1, 5)):
            when = min(day, start + timedelta(days=rng.randint(0, 14)))
            if rng.random() < 0.5:
                # Ordinary cash amounts: spread out, nowhere near clustering under the threshold.
                amount = round(rng.uniform(300, 7_500), -1)
                source = self.fiu.side(
                    "from", my_client=False, funds="CASH", country=HOME, person=person
                )
                target = self.fiu.side(
                    "to", my_client=True, funds="ACCOUNT", country=HOME, account=account
                )
                mode, text = "CASH", "Cash deposit"
            else:
                amount = round(math.exp(rng.gauss(math.log(4_000), 1.0)), 2)
                other = self.customer()
                source = self.fiu.side(
                    "from", my_client=True, funds="ACCOUNT", country=HOME, account=account
                )
                target = self.fiu.side(
                    "to",
                    my_client=False,
                    funds="ACCOUNT",
                    country=HOME,
                    account=other.accounts[0],
                )
                mode, text = "EFT", rng.choice(("Faster payment", "Transfer", "Rent", "Loan"))
            txs.append(
                self.fiu.transaction(
                    bank=account.bank,
                    day=when,
                    transmode=mode,
                    amount_gbp=amount,
                    description=text,
                    source=source,
                    target=target,
                )
            )
        txs.sort(key=_tx_day)
        return self.fiu.report(
            bank=account.bank,
            code="STR",
            submitted=day,
            reason=rng.choice(_PERSON_REASONS),
            action="Customer contacted; explanation recorded.",
            indicators=rng.sample(_INDICATORS_PERSON, 1),
            transactions=txs,
        )


class Travel:
    """Legitimate cross-border cash: declared sums at or above the threshold, a few controls."""

    def __init__(self, rng: random.Random, pop: Population, cash: Cash, scale: float) -> None:
        self.rng = rng
        self.pop = pop
        self.cash = cash
        self.rate = 520 * scale / 1096
        self.frequent: list[Person] = []
        self.businesses = [c for c in pop.companies if c.kind == "trader" and c.officers]

    def traveller(self) -> tuple[Person, Company | None]:
        rng = self.rng
        roll = rng.random()
        if roll < 0.12 and self.businesses:
            company = rng.choice(self.businesses)
            people = [o.holder for o in company.officers if isinstance(o.holder, Person)]
            if people:
                return rng.choice(people), company
        if roll < 0.3 and self.frequent:
            return rng.choice(self.frequent), None
        country = rng.choice((HOME, HOME, HOME, "AE", "TR", "NG", "IN", "CN", "US", "FR"))
        person = self.pop.new_person(country)
        if rng.random() < 0.15:
            self.frequent.append(person)
        return person, None

    def rows(self, day: date) -> list[list[Row]]:
        rng = self.rng
        out: list[list[Row]] = []
        for _ in range(poisson(rng, self.rate)):
            person, company = self.traveller()
            currency = rng.choices(("GBP", "EUR", "USD", "AED", "TRY"), (35, 30, 25, 6, 4))[0]
            roll = rng.random()
            undeclared = roll < 0.03
            if undeclared:
                gbp = rng.uniform(12_000, 70_000)
            elif roll < 0.05:
                gbp = rng.uniform(1_000, 7_500)  # a voluntary declaration under the threshold
            else:
                gbp = CASH_THRESHOLD * 1.02 + math.exp(rng.gauss(math.log(9_000), 0.9))
            amount = round(from_gbp(gbp, currency), -2)
            if not undeclared and roll >= 0.05 and to_gbp(amount, currency) < CASH_THRESHOLD:
                amount += 100
            outbound = rng.random() < 0.55
            out.append(
                [
                    self.cash.row(
                        day=day,
                        direction="outbound" if outbound else "inbound",
                        port=rng.choices(PORTS, (30, 15, 12, 8, 6, 5, 5, 8, 4, 3))[0],
                        traveller=person,
                        amount=amount,
                        currency=currency,
                        abroad=rng.choice(CASH_ROUTES),
                        undeclared=undeclared,
                        owner=company,
                        origin="" if undeclared else rng.choice(_ORIGINS),
                        use="" if undeclared else rng.choice(_USES),
                    )
                ]
            )
        return out


def _tx_day(tx: El) -> str:
    return next((c.text or "" for c in tx.children if c.tag == "date_transaction"), "")


_TRADE_PAYMENTS = ("Invoice payment", "Payment for goods", "Advance payment", "Settlement")
_TRADER_REASONS = (
    "Transfers larger than the customer's usual pattern.",
    "Payment to a counterparty in a higher-risk jurisdiction.",
    "Several international payments in a short period.",
    "Counterparty not previously seen on the account.",
)
_PERSON_REASONS = (
    "Customer unable to explain the source of funds.",
    "Account activity inconsistent with the declared occupation.",
    "Third-party deposits into a personal account.",
)
_INDICATORS_TRADE = ["UNUSUAL_VOLUME", "HIGH_RISK_COUNTRY", "NEW_COUNTERPARTY", "TBML"]
_INDICATORS_PERSON = ["SOURCE_OF_FUNDS", "PROFILE_MISMATCH", "THIRD_PARTY"]
_ORIGINS = ("savings", "business proceeds", "sale of property", "inheritance", "salary", "loan")
_USES = ("family support", "business purchase", "travel", "property purchase", "medical costs")
