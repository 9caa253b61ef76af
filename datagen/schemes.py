"""The planted schemes: who takes part, which records they leave, and the truth about them.

Planting happens before any file is written: each scheme creates its actors in the population
(so the register, tax and bank data know them like anyone else), builds its records, and files
them in a ``Plan`` by day. The writers merge planted records into the background stream on
their day, so a planted record sits among ordinary ones and is numbered like them.

Counts are proportional to the scale (at scale 1: three or four instances of each typology,
at least one at any scale).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import pairwise

from datagen.banking import Account, Bank, make_account
from datagen.markets import MIN_COMPARABLE_PAIRS, Markets
from datagen.population import Address, Company, Officer, Person, Population, median_price
from datagen.rows import Cash, Customs, Fiu, Item, Side, quarter, window_day
from datagen.truth import TYPOLOGIES, SchemeDraft, Typology
from datagen.world import (
    CASH_THRESHOLD,
    CHAPTERS,
    COUNTRIES,
    CTR_THRESHOLD,
    END,
    GBP_PER_UNIT,
    HOME,
    SECRECY,
    VAT_RATE,
)
from datagen.writers import El, Row

# Instances per typology at scale 1.
PER_SCALE: dict[Typology, int] = {
    "circular_trade": 4,
    "vat_carousel": 3,
    "round_tripping": 4,
    "shell_network": 3,
    "under_invoicing": 4,
    "over_invoicing": 3,
    "mirror_discrepancy": 4,
    "customs_tax_discrepancy": 4,
    "structuring": 4,
    "cash_smuggling": 3,
    "funnel_account": 4,
}
LAST_PLANT = date(2024, 10, 31)  # leaves room for the reports that follow a scheme
FIRST_PLANT = date(2022, 2, 1)
_USD = GBP_PER_UNIT["USD"]
_HIGH_VALUE = ("851713", "847130", "854231", "851762", "847150", "852872")
_EU_CONDUITS = ("NL", "DE", "IE", "FR", "BE", "ES", "IT", "PL")
_SOURCING = ("CN", "HK", "TR", "AE", "IN", "VN")


@dataclass
class Planned:
    """Records of one declaration (or one CSV row) planted on a day, for these schemes."""

    rows: list[Row]
    schemes: tuple[str, ...]


@dataclass
class PlannedReport:
    report: El
    schemes: tuple[str, ...]


@dataclass
class TaxPlan:
    """How a planted company files its tax returns (see ``datagen.generate`` tax writer)."""

    schemes: tuple[str, ...]
    nil: bool = False  # every return it files is nil
    missing: frozenset[str] = frozenset()  # periods with no return at all
    fields: dict[str, dict[str, float]] = field(default_factory=dict)  # explicit VAT returns
    imports_factor: dict[str, float] = field(default_factory=dict)  # under-declared imports
    record_periods: frozenset[str] | None = None  # None: every return is a scheme record


@dataclass
class Payment:
    day: date
    payer: Account
    payee: Account
    amount: float  # GBP
    mode: str  # EFT, SWIFT
    text: str
    cash_conductor: Person | None = None  # a cash deposit (payer is None-like) or withdrawal


class Plan:
    """Everything the schemes planted, ready for the writers."""

    def __init__(self) -> None:
        self.declarations: dict[date, list[Planned]] = defaultdict(list)
        self.cash: dict[date, list[Planned]] = defaultdict(list)
        self.ctr: dict[date, list[Planned]] = defaultdict(list)
        self.strs: dict[date, list[PlannedReport]] = defaultdict(list)
        self.tax: dict[str, TaxPlan] = {}
        self.registry: dict[str, list[str]] = defaultdict(list)
        self.drafts: dict[str, SchemeDraft] = {}


class Planter:
    def __init__(
        self,
        rng: random.Random,
        pop: Population,
        *,
        customs: Customs,
        fiu: Fiu,
        cash: Cash,
        scale: float,
    ) -> None:
        self.rng = rng
        self.pop = pop
        self.customs = customs
        self.fiu = fiu
        self.cash = cash
        self.scale = scale
        self.plan = Plan()
        # Mis-invoicing, mirror and customs-tax schemes trade the goods the background trades
        # most, as they do in life: a price or a value is judged against other traders of the
        # same goods, and a scheme in goods nobody else trades has no market to hide in (nor
        # to be measured against). More schemes at a larger scale spread over more goods.
        self.common_goods = _common_goods(pop, max(len(_PRICED), round(len(_PRICED) * scale)))
        self.markets = Markets(pop, scale)
        self._priced_used: set[str] = set()

    def priced_goods(self, flow: str) -> str:
        """Goods for a scheme that distorts unit prices on ``flow``: one of the subheadings
        with the most ordinary trading pairs on that flow (8 per unit of scale), not yet taken
        by another price scheme while any is free, so that two price schemes rarely share a
        market and become each other's reference price.

        Ranked by distinct pairs, not by shipments: the detector takes one price per pair, and
        goods with one very busy relation are a market of one. Goods with fewer than
        ``MIN_COMPARABLE_PAIRS`` pairs are given more ordinary traders (``Markets.thicken``),
        which at scale 1 is every subheading: the background is too small for ten pairs of
        any one subheading on a flow."""
        ranked = self.markets.ranked(flow, max(len(_PRICED), round(len(_PRICED) * self.scale)))
        free = [h for h in ranked if h not in self._priced_used]
        if not free:
            self._priced_used.clear()
            free = list(ranked)
        hs6 = self.rng.choice(free) if free else self.rng.choice(_PRICED)
        self._priced_used.add(hs6)
        self.markets.thicken(self.rng, hs6, flow, MIN_COMPARABLE_PAIRS)
        return hs6

    # --- the run -----------------------------------------------------------------------------
    def plant(self) -> Plan:
        planters = {
            "circular_trade": self.circular_trade,
            "vat_carousel": self.vat_carousel,
            "round_tripping": self.round_tripping,
            "shell_network": self.shell_network,
            "under_invoicing": self.under_invoicing,
            "over_invoicing": self.over_invoicing,
            "mirror_discrepancy": self.mirror_discrepancy,
            "customs_tax_discrepancy": self.customs_tax_discrepancy,
            "structuring": self.structuring,
            "cash_smuggling": self.cash_smuggling,
            "funnel_account": self.funnel_account,
        }
        for typology in TYPOLOGIES:
            for _ in range(max(1, round(PER_SCALE[typology] * self.scale))):
                draft = SchemeDraft(f"S{len(self.plan.drafts) + 1:03d}", typology)
                self.plan.drafts[draft.id] = draft
                planters[typology](draft)
        return self.plan

    # --- shared helpers ----------------------------------------------------------------------
    def start_day(self, span_days: int) -> date:
        last = LAST_PLANT - timedelta(days=span_days)
        return window_day(self.rng, FIRST_PLANT, max(last, FIRST_PLANT))

    def company(
        self,
        country: str,
        kind: str = "trader",
        *,
        chapters: tuple[str, ...] = (),
        established: tuple[int, int] = (2008, 2020),
        incorporated: date | None = None,
    ) -> Company:
        rng = self.rng
        if incorporated is None:
            incorporated = date(rng.randint(*established), rng.randint(1, 12), rng.randint(1, 28))
        c = self.pop.new_company(country, kind, chapters=chapters, incorporated=incorporated)
        director = self.pop.new_person(country)
        c.officers.append(Officer(director, "director", incorporated))
        if rng.random() < 0.5:
            c.officers.append(Officer(director, "shareholder", incorporated, None, 100.0))
            c.officers.append(Officer(director, "beneficial_owner", incorporated))
        return c

    def account(self, holder: Company | Person, bank: Bank | None = None) -> Account:
        country = holder.country if isinstance(holder, Company) else holder.nationality
        if bank is None:
            if country == HOME:
                bank = self.rng.choice(self.pop.home_banks)
            else:
                bank = self.pop.bank_of(country)
        info = COUNTRIES.get(bank.country)
        currency = info.currency if info else "USD"
        acct = make_account(self.rng, bank, info.bban if info else None, currency, holder.id)
        holder.accounts.append(acct)
        return acct

    def item(self, hs6: str, value_usd: float, price_factor: float = 1.0) -> Item:
        chapter = CHAPTERS[hs6[:2]]
        price = median_price(hs6) * price_factor
        qty = value_usd / price
        if chapter.unit == "NAR":
            qty = max(1, round(qty))
            value_usd = qty * price
        return Item(hs6, qty, chapter.unit, qty * chapter.kg_per_unit, value_usd)

    def ship(
        self,
        draft: SchemeDraft,
        seller: Company,
        buyer: Company,
        items: list[Item],
        day: date,
        *,
        transit: int = 3,
        export: Side | None = None,
        imp: Side | None = None,
        write_export: bool = True,
        write_import: bool = True,
        currency: str = "USD",
        transport: str = "4",
    ) -> date:
        """Plant both sides of a shipment (or the statistics of an unwritten side)."""
        arrive = day + timedelta(days=transit)
        export = export or Side("export", day)
        imp = imp or Side("import", arrive)
        terms = self.rng.choice(("open account", "cash in advance", "letter of credit"))
        for side, written in ((export, write_export), (imp, write_import)):
            if written:
                rows = self.customs.rows(
                    seller=seller,
                    buyer=buyer,
                    items=items,
                    side=side,
                    currency=currency,
                    transport=transport,
                    terms=terms,
                    agent=None,
                )
                self.plan.declarations[side.day].append(Planned(rows, (draft.id,)))
            else:
                self.customs.shadow(seller, buyer, items, side)
        return arrive

    def file_strs(
        self,
        draft: SchemeDraft,
        payments: list[Payment],
        *,
        reason: str,
        indicators: list[str],
        lag: tuple[int, int] = (7, 30),
        subject: Account | None = None,
    ) -> None:
        """Report the payments a home bank sees.

        A payment to or from the ``subject`` account is reported by the subject's bank (the
        bank that grew suspicious of its customer); any other by the payer's bank when it is
        a home bank, else by the payee's. Payments between two foreign accounts stay unseen.
        """
        by_bank: dict[str, tuple[Bank, list[El], list[date]]] = {}
        for p in sorted(payments, key=lambda p: p.day):
            if subject is not None and subject in (p.payer, p.payee):
                bank, ours_is_payer = subject.bank, p.payer is subject
            elif p.payer.bank.rentity_id:
                bank, ours_is_payer = p.payer.bank, True
            elif p.payee.bank.rentity_id:
                bank, ours_is_payer = p.payee.bank, False
            else:
                continue
            slot = by_bank.setdefault(bank.name, (bank, [], []))
            slot[1].append(self.transaction(p, ours_is_payer))
            slot[2].append(p.day)
        for bank, txs, dates in by_bank.values():
            submitted = min(max(dates) + timedelta(days=self.rng.randint(*lag)), END)
            report = self.fiu.report(
                bank=bank,
                code="STR" if self.rng.random() < 0.8 else "SAR",
                submitted=submitted,
                reason=reason,
                action=self.rng.choice(_ACTIONS),
                indicators=indicators,
                transactions=txs,
            )
            self.plan.strs[submitted].append(PlannedReport(report, (draft.id,)))

    def transaction(self, p: Payment, ours_is_payer: bool) -> El:
        fiu = self.fiu
        payer_country, payee_country = p.payer.bank.country, p.payee.bank.country
        if p.cash_conductor is not None and p.mode == "CASH":
            if ours_is_payer:  # a cash withdrawal handed to the conductor
                source = fiu.side(
                    "from", my_client=True, funds="ACCOUNT", country=payer_country, account=p.payer
                )
                target = fiu.side(
                    "to", my_client=False, funds="CASH", country=HOME, person=p.cash_conductor
                )
            else:  # a cash deposit by the conductor
                source = fiu.side(
                    "from", my_client=False, funds="CASH", country=HOME, person=p.cash_conductor
                )
                target = fiu.side(
                    "to", my_client=True, funds="ACCOUNT", country=payee_country, account=p.payee
                )
        else:
            source = fiu.side(
                "from",
                my_client=ours_is_payer,
                funds="ACCOUNT",
                country=payer_country,
                account=p.payer,
            )
            target = fiu.side(
                "to",
                my_client=not ours_is_payer,
                funds="ACCOUNT",
                country=payee_country,
                account=p.payee,
            )
        bank = p.payer.bank if ours_is_payer else p.payee.bank
        return fiu.transaction(
            bank=bank,
            day=p.day,
            transmode=p.mode,
            amount_gbp=round(p.amount, 2),
            description=p.text,
            source=source,
            target=target,
        )

    def registry_records(self, draft: SchemeDraft, *companies: Company) -> None:
        for c in companies:
            self.plan.registry[c.id].append(draft.id)

    # --- 1. circular trade -------------------------------------------------------------------
    def circular_trade(self, draft: SchemeDraft) -> None:
        rng = self.rng
        k = rng.randint(3, 6)
        foreign = rng.sample([c for c in _RING_COUNTRIES if c != HOME], k)
        countries = [HOME if i % 2 == 0 and i < k - (k % 2) else foreign[i] for i in range(k)]
        hs6 = rng.choice(_HIGH_VALUE)
        members = [self.company(c, chapters=(hs6[:2],)) for c in countries]
        for m in members:
            m.hs6 = [hs6]
        home_bank = rng.choice(self.pop.home_banks)
        accounts = {
            m.id: self.account(m, home_bank if m.country == HOME else None) for m in members
        }
        draft.involve(*(m.id for m in members))
        for m in members:
            if rng.random() < 0.5:
                self.pop.ordinary_trade(m)
        rounds = rng.randint(2, 4)
        day = self.start_day(rounds * k * 12 + 40)
        value0 = math.exp(rng.gauss(math.log(260_000), 0.35))
        price_factor = rng.uniform(0.9, 1.15)
        payments: list[Payment] = []
        hops: list[dict[str, object]] = []
        for r in range(rounds):
            value = value0 * rng.uniform(0.96, 1.04)
            base = self.item(hs6, value, price_factor)
            for i in range(k):
                seller, buyer = members[i], members[(i + 1) % k]
                value = base.value_usd * (1 + 0.02 * i) * rng.uniform(0.995, 1.02)
                item = Item(hs6, base.quantity, base.unit, base.net_mass, value)
                arrive = self.ship(draft, seller, buyer, [item], day, transit=rng.randint(1, 4))
                paid = arrive + timedelta(days=rng.randint(1, 5))
                payments.append(
                    Payment(
                        paid,
                        accounts[buyer.id],
                        accounts[seller.id],
                        value * _USD,
                        "SWIFT",
                        f"Invoice {rng.randint(1000, 9999)}",
                    )
                )
                hops.append(
                    {
                        "round": r + 1,
                        "from": seller.id,
                        "to": buyer.id,
                        "ship_date": day.isoformat(),
                        "value_usd": round(value, 2),
                        "quantity": base.quantity,
                    }
                )
                day = paid + timedelta(days=rng.randint(1, 6))
        self.file_strs(
            draft,
            payments,
            reason=_REASONS["circular_trade"],
            indicators=["TBML", "CIRCULAR_PAYMENTS"],
        )
        draft.details = {
            "members": [m.id for m in members],
            "hs6": hs6,
            "rounds": rounds,
            "hops": hops,
        }

    # --- 1b. VAT carousel --------------------------------------------------------------------
    def vat_carousel(self, draft: SchemeDraft) -> None:
        rng = self.rng
        hs6 = rng.choice(_HIGH_VALUE)
        chapters = (hs6[:2],)
        rounds = rng.randint(3, 6)
        first = self.start_day(rounds * 30 + 150)
        conduit = self.company(
            rng.choice(_EU_CONDUITS), chapters=chapters, established=(2016, 2021)
        )
        # The missing trader: new, short-lived, fronted by a young nominee.
        incorporated = first - timedelta(days=rng.randint(30, 120))
        missing = self.pop.new_company(HOME, "trader", chapters=chapters, incorporated=incorporated)
        nominee = self.pop.new_person(HOME, born=(1996, 2003))
        missing.officers.append(Officer(nominee, "director", incorporated))
        missing.officers.append(Officer(nominee, "shareholder", incorporated, None, 100.0))
        missing.employees = 1
        buffers = [
            self.company(HOME, chapters=chapters, established=(2018, 2021))
            for _ in range(rng.randint(0, 2))
        ]
        broker = self.company(HOME, chapters=chapters, established=(2010, 2019))
        broker.employees = max(broker.employees, rng.randint(8, 40))
        offshore = self.company(rng.choice(("AE", "HK")), chapters=chapters)
        ring = _Carousel(conduit, missing, buffers, broker, offshore, hs6)
        for c in (conduit, missing, *buffers, broker):
            c.hs6 = [hs6]
        for c in (conduit, missing, *buffers, broker, offshore):
            ring.accounts[c.id] = self.account(c)
        draft.involve(
            conduit.id, missing.id, *(b.id for b in buffers), broker.id, offshore.id, nominee.id
        )
        day = first
        value0 = math.exp(rng.gauss(math.log(420_000), 0.3))
        for _ in range(rounds):
            day = self._carousel_round(draft, ring, day, value0)
        missing.dissolution = min(day + timedelta(days=rng.randint(30, 90)), END)
        self.file_strs(
            draft,
            ring.payments,
            reason=_REASONS["vat_carousel"],
            indicators=["MTIC", "RAPID_MOVEMENT", "HIGH_RISK_COUNTRY"],
        )
        self._carousel_tax(draft, ring)
        self.registry_records(draft, missing)
        lost = sum(f["turnover"] for f in ring.vat[missing.id].values()) * VAT_RATE
        reclaimed = sum(
            max(0.0, f["purchases"] - f["turnover"]) * VAT_RATE
            for f in ring.vat[broker.id].values()
        )
        draft.details = {
            "missing_trader": missing.id,
            "broker": broker.id,
            "conduit": conduit.id,
            "buffers": [b.id for b in buffers],
            "offshore": offshore.id,
            "hs6": hs6,
            "rounds": rounds,
            "vat_lost_gbp": round(lost, 2),
            "vat_reclaimed_gbp": round(reclaimed, 2),
            "missing_trader_incorporated": incorporated.isoformat(),
            "missing_trader_dissolved": missing.dissolution.isoformat(),
        }

    def _carousel_round(
        self, draft: SchemeDraft, ring: _Carousel, day: date, value0: float
    ) -> date:
        """One turn of the goods: conduit -> missing trader -> buffers -> broker -> conduit."""
        rng = self.rng
        vat = ring.vat
        base = self.item(ring.hs6, value0 * rng.uniform(0.95, 1.05), rng.uniform(0.92, 1.1))
        arrive = self.ship(
            draft,
            ring.conduit,
            ring.missing,
            [base],
            day,
            transit=rng.randint(1, 3),
            transport="3",
        )
        net = base.value_usd * _USD
        d = arrive
        # Domestic sales along the chain, VAT charged at each step.
        for seller, buyer in pairwise([ring.missing, *ring.buffers, ring.broker]):
            d += timedelta(days=rng.randint(1, 3))
            price = net * rng.uniform(1.005, 1.02)
            ring.pay(d, buyer, seller, price * (1 + VAT_RATE), mode="EFT", text="Invoice incl. VAT")
            vat[seller.id][quarter(d)]["turnover"] += price
            vat[buyer.id][quarter(d)]["purchases"] += price
            net = price
        # The missing trader pays the conduit and moves the VAT it collected abroad.
        goods = base.value_usd * _USD
        ring.pay(
            d + timedelta(days=1), ring.missing, ring.conduit, goods, mode="SWIFT", text="Goods"
        )
        extracted = goods * VAT_RATE * rng.uniform(0.9, 0.98)
        ring.pay(
            d + timedelta(days=2),
            ring.missing,
            ring.offshore,
            extracted,
            mode="SWIFT",
            text="Consultancy services",
        )
        export_value = net * rng.uniform(1.005, 1.02) / _USD
        item = Item(ring.hs6, base.quantity, base.unit, base.net_mass, export_value)
        ship_day = d + timedelta(days=rng.randint(1, 3))
        back = self.ship(
            draft,
            ring.broker,
            ring.conduit,
            [item],
            ship_day,
            transit=rng.randint(1, 3),
            transport="3",
        )
        vat[ring.broker.id][quarter(ship_day)]["exports"] += export_value * _USD
        paid = back + timedelta(days=rng.randint(1, 4))
        ring.pay(paid, ring.conduit, ring.broker, export_value * _USD, mode="SWIFT", text="Invoice")
        return back + timedelta(days=rng.randint(5, 20))

    def _carousel_tax(self, draft: SchemeDraft, ring: _Carousel) -> None:
        """The missing trader files nothing or nil returns; the chain files real ones, the
        broker's showing zero-rated exports and a large VAT repayment claim."""
        missing = ring.missing
        periods = _quarters(missing.incorporation, missing.dissolution or END)
        absent = frozenset(p for p in periods if self.rng.random() < 0.6)
        self.plan.tax[missing.id] = TaxPlan((draft.id,), nil=True, missing=absent)
        for c in (*ring.buffers, ring.broker):
            fields: dict[str, dict[str, float]] = {}
            for q, flows in ring.vat[c.id].items():
                charged = flows["turnover"] * VAT_RATE
                paid = flows["purchases"] * VAT_RATE
                fields[q] = {
                    "turnover": flows["turnover"] + flows["exports"],
                    "purchases": flows["purchases"],
                    "exports_declared": flows["exports"],
                    "imports_declared": 0.0,
                    "vat_charged": charged,
                    "vat_paid": paid,
                    "vat_reclaimed": max(0.0, paid - charged),
                }
            self.plan.tax[c.id] = TaxPlan(
                (draft.id,), fields=fields, record_periods=frozenset(fields)
            )

    # --- 2. round-tripping -------------------------------------------------------------------
    def round_tripping(self, draft: SchemeDraft) -> None:
        rng = self.rng
        originator = self.company(
            HOME, rng.choice(("trader", "domestic")), established=(2004, 2018)
        )
        owner = next(o.holder for o in originator.officers if isinstance(o.holder, Person))
        second = None
        if rng.random() < 0.4:  # the money comes back into a sister company
            second = self.company(HOME, "domestic", established=(2015, 2021))
            second.officers.append(Officer(owner, "director", second.incorporation))
        agent_address = _agent_address(rng, "VG")
        nominee_co = self.pop.new_company(
            "VG", "shell", base=f"{rng.choice(_NOMINEE)} Nominees", address=agent_address
        )
        shells = [
            self.pop.new_company(
                "VG",
                "shell",
                address=agent_address,
                incorporated=date(rng.randint(2018, 2021), rng.randint(1, 12), 1),
            ),
        ]
        for j in range(rng.randint(1, 2)):
            jurisdiction = rng.choice([s for s in SECRECY if s != "VG"])
            shells.append(
                self.pop.new_company(
                    jurisdiction,
                    "shell",
                    address=_agent_address(rng, jurisdiction),
                    incorporated=date(rng.randint(2018, 2021), 1 + j, 15),
                )
            )
        for s in shells:
            s.employees = 0
            s.officers.append(Officer(nominee_co, "director", s.incorporation))
        shells[0].officers.append(Officer(owner, "beneficial_owner", shells[0].incorporation))
        private_bank = self.pop.home_banks[6]
        acct = {
            originator.id: self.account(originator),
            shells[0].id: self.account(shells[0], private_bank),
        }
        for s in shells[1:]:
            acct[s.id] = self.account(s)
        back_to = second or originator
        if back_to.id not in acct:
            acct[back_to.id] = self.account(back_to)
        draft.involve(originator.id, owner.id, *(s.id for s in shells), nominee_co.id)
        if second:
            draft.involve(second.id)
        payments: list[Payment] = []
        cycles = []
        day = self.start_day(200)
        for _ in range(rng.randint(1, 3)):
            amount = math.exp(rng.gauss(math.log(600_000), 0.5))
            legs = [originator, *shells, back_to]
            texts = [
                "Consultancy fees",
                *("Intercompany transfer" for _ in shells[1:]),
                rng.choice(("Shareholder loan", "Capital investment", "Loan drawdown")),
            ]
            path = []
            value = amount
            for (a, b), text in zip(pairwise(legs), texts, strict=True):
                payments.append(Payment(day, acct[a.id], acct[b.id], value, "SWIFT", text))
                path.append(
                    {
                        "from": a.id,
                        "to": b.id,
                        "date": day.isoformat(),
                        "amount_gbp": round(value, 2),
                    }
                )
                day += timedelta(days=rng.randint(2, 12))
                value *= rng.uniform(0.97, 0.995)
            cycles.append(path)
            day += timedelta(days=rng.randint(20, 60))
        self.file_strs(
            draft,
            payments,
            reason=_REASONS["round_tripping"],
            indicators=["OFFSHORE", "ROUND_TRIPPING", "SHELL_COMPANY"],
        )
        self.registry_records(draft, *shells, originator)
        draft.details = {
            "originator": originator.id,
            "returns_to": back_to.id,
            "beneficial_owner": owner.id,
            "shells": [s.id for s in shells],
            "jurisdictions": [s.country for s in shells],
            "cycles": cycles,
        }

    # --- 3. shell networks -------------------------------------------------------------------
    def shell_network(self, draft: SchemeDraft) -> None:
        rng = self.rng
        size = max(12, round(rng.randint(24, 44) * min(1.0, self.scale**0.3)))
        address = Address(
            f"Suite {rng.randint(1, 40)}, {rng.randint(2, 180)} {rng.choice(_MASS_STREETS)}",
            "London",
            f"{rng.choice(('EC1V', 'WC2H', 'N1', 'E1'))} {rng.randint(1, 9)}"
            f"{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}",
            HOME,
        )
        phone = self.pop.new_phone(HOME)
        agent = rng.choice(_FORMATION_AGENTS)
        email = f"admin@{agent}.co.uk"
        nominees = [self.pop.new_person(HOME, born=(1960, 1995)) for _ in range(rng.randint(2, 3))]
        burst = self.start_day(420)
        companies: list[Company] = []
        for i in range(size):
            inc = burst + timedelta(days=rng.randint(0, 240) if i else 0)
            c = self.pop.new_company(
                HOME,
                "shell_trader",
                chapters=(rng.choice(("85", "84", "62", "61", "39")),),
                incorporated=inc,
                address=address,
                phone=phone,
                email=email if rng.random() < 0.8 else f"info@{agent}.co.uk",
            )
            c.employees = rng.choice((0, 1, 1, 2))
            for n in rng.sample(nominees, rng.randint(1, len(nominees))):
                c.officers.append(Officer(n, "director", inc))
            c.officers.append(Officer(nominees[0], "shareholder", inc, None, 100.0))
            companies.append(c)
        draft.involve(*(c.id for c in companies), *(n.id for n in nominees))
        traders = rng.sample(companies, max(2, size // 3))
        for c in traders:
            seller = self.company(rng.choice(_SOURCING), chapters=(c.hs6[0][:2],))
            draft.involve(seller.id)
            day = c.incorporation + timedelta(days=rng.randint(20, 90))
            for _ in range(rng.randint(3, 7)):
                if day > LAST_PLANT:
                    break
                hs6 = rng.choice(c.hs6)
                value = math.exp(rng.gauss(math.log(160_000), 0.5))
                self.ship(
                    draft,
                    seller,
                    c,
                    [self.item(hs6, value, rng.uniform(0.85, 1.2))],
                    day,
                    transit=rng.randint(10, 30),
                    write_export=rng.random() < 0.3,
                    transport="1",
                )
                day += timedelta(days=rng.randint(10, 45))
        for c in companies:
            periods = _quarters(c.incorporation, END)
            self.plan.tax[c.id] = TaxPlan(
                (draft.id,), nil=True, missing=frozenset(p for p in periods if rng.random() < 0.4)
            )
        self.registry_records(draft, *companies)
        draft.details = {
            "address": address.line,
            "phone": phone,
            "email": email,
            "companies": len(companies),
            "nominees": [n.id for n in nominees],
            "trading": [c.id for c in traders],
        }

    # --- 4. mis-invoicing and mirror discrepancies -------------------------------------------
    def under_invoicing(self, draft: SchemeDraft) -> None:
        rng = self.rng
        hs6 = self.priced_goods("import")  # under-invoiced imports into the home country
        importer = self.company(HOME, chapters=(hs6[:2],))
        seller = self.company(rng.choice(_SOURCING), chapters=(hs6[:2],))
        importer.hs6 = seller.hs6 = [hs6]
        draft.involve(importer.id, seller.id)
        self.pop.ordinary_trade(importer)
        day = self.start_day(300)
        declared = []
        for _ in range(rng.randint(4, 8)):
            factor = rng.uniform(0.08, 0.3)
            item = self.item(hs6, math.exp(rng.gauss(math.log(90_000), 0.4)))
            self.ship(
                draft,
                seller,
                importer,
                [item],
                day,
                transit=rng.randint(12, 30),
                imp=Side("import", day + timedelta(days=rng.randint(12, 30)), factor),
                write_export=False,
                transport="1",
            )
            declared.append(
                {
                    "date": day.isoformat(),
                    "true_value_usd": round(item.value_usd, 2),
                    "declared_value_usd": round(item.value_usd * factor, 2),
                    "unit_value_ratio": round(factor, 3),
                }
            )
            day += timedelta(days=rng.randint(15, 45))
        draft.details = {
            "hs6": hs6,
            "median_unit_value_usd": round(median_price(hs6), 2),
            "side": "import",
            "reporting_country": HOME,
            "shipments": declared,
            "partner_side_gap": "partner export statistics carry the true value",
        }

    def over_invoicing(self, draft: SchemeDraft) -> None:
        rng = self.rng
        outward = rng.random() < 0.6  # over-invoiced imports move money out; exports bring it in
        # The home side of the shipment is always declared: its flow is the scheme's market.
        hs6 = self.priced_goods("import" if outward else "export")
        home = self.company(HOME, chapters=(hs6[:2],))
        related = self.company(rng.choice(("AE", "HK", "TR", "CN")), chapters=(hs6[:2],))
        owner = next(o.holder for o in home.officers if isinstance(o.holder, Person))
        related.officers.append(Officer(owner, "beneficial_owner", related.incorporation))
        home.hs6 = related.hs6 = [hs6]
        draft.involve(home.id, related.id, owner.id)
        self.pop.ordinary_trade(home)
        seller, buyer = (related, home) if outward else (home, related)
        day = self.start_day(300)
        shipments = []
        for _ in range(rng.randint(3, 6)):
            factor = rng.uniform(3.5, 8.0)
            true_value = math.exp(rng.gauss(math.log(40_000), 0.4))
            item = self.item(hs6, true_value, factor)
            self.ship(
                draft,
                seller,
                buyer,
                [item],
                day,
                transit=rng.randint(2, 20),
                write_export=not outward or rng.random() < 0.5,
                write_import=outward or rng.random() < 0.5,
                transport="4",
            )
            shipments.append(
                {
                    "date": day.isoformat(),
                    "declared_value_usd": round(item.value_usd, 2),
                    "unit_value_ratio": round(factor, 3),
                }
            )
            day += timedelta(days=rng.randint(10, 40))
        draft.details = {
            "hs6": hs6,
            "median_unit_value_usd": round(median_price(hs6), 2),
            "direction": "import" if outward else "export",
            "shipments": shipments,
        }

    def mirror_discrepancy(self, draft: SchemeDraft) -> None:
        rng = self.rng
        hs6 = rng.choice(self.common_goods)
        foreign = self.company(rng.choice(_SOURCING), chapters=(hs6[:2],))
        home = self.company(HOME, chapters=(hs6[:2],))
        foreign.hs6 = home.hs6 = [hs6]
        draft.involve(foreign.id, home.id)
        self.pop.ordinary_trade(home)
        self.pop.ordinary_trade(foreign)
        into_home = rng.random() < 0.75
        seller, buyer = (foreign, home) if into_home else (home, foreign)
        day = self.start_day(300)
        shipments = []
        for _ in range(rng.randint(3, 6)):
            # Quantity and value both understated on the home side: the unit value stays
            # normal, so only the comparison of the two sides shows the gap.
            factor = rng.uniform(0.2, 0.45)
            item = self.item(
                hs6, math.exp(rng.gauss(math.log(120_000), 0.4)), rng.uniform(0.9, 1.1)
            )
            transit = rng.randint(10, 30)
            low = Side(
                "import" if into_home else "export",
                day + timedelta(days=transit) if into_home else day,
                factor,
                factor,
            )
            if into_home:
                self.ship(
                    draft, seller, buyer, [item], day, transit=transit, imp=low, transport="1"
                )
            else:
                self.ship(
                    draft, seller, buyer, [item], day, transit=transit, export=low, transport="1"
                )
            shipments.append(
                {
                    "date": day.isoformat(),
                    "full_value_usd": round(item.value_usd, 2),
                    "understated_value_usd": round(item.value_usd * factor, 2),
                    "understated_side": low.flow,
                }
            )
            day += timedelta(days=rng.randint(20, 50))
        draft.details = {"hs6": hs6, "shipments": shipments}

    # --- 5. customs-tax discrepancy ----------------------------------------------------------
    def customs_tax_discrepancy(self, draft: SchemeDraft) -> None:
        rng = self.rng
        hs6 = rng.choice(self.common_goods)
        importer = self.company(HOME, chapters=(hs6[:2],), established=(2010, 2019))
        importer.hs6 = [hs6]
        sellers = [
            self.company(rng.choice(_SOURCING), chapters=(hs6[:2],))
            for _ in range(rng.randint(1, 3))
        ]
        draft.involve(importer.id, *(s.id for s in sellers))
        start = self.start_day(200)
        first_q = date(start.year, 3 * ((start.month - 1) // 3) + 1, 1)
        customs_gbp: dict[str, float] = defaultdict(float)
        day = first_q + timedelta(days=rng.randint(3, 12))
        end = first_q + timedelta(days=rng.choice((85, 175)))
        while day < end:
            item = self.item(hs6, math.exp(rng.gauss(math.log(95_000), 0.4)), rng.uniform(0.9, 1.1))
            arrive = day + timedelta(days=rng.randint(10, 25))
            if arrive > END:
                break
            self.ship(
                draft,
                rng.choice(sellers),
                importer,
                [item],
                day,
                transit=(arrive - day).days,
                write_export=rng.random() < 0.2,
                transport="1",
            )
            customs_gbp[quarter(arrive)] += item.value_usd * _USD * 1.06
            day += timedelta(days=rng.randint(5, 14))
        factors = {q: rng.uniform(0.1, 0.3) for q in customs_gbp}
        self.plan.tax[importer.id] = TaxPlan(
            (draft.id,), imports_factor=factors, record_periods=frozenset(factors)
        )
        draft.details = {
            "periods": sorted(factors),
            "customs_imports_gbp": {q: round(v, 2) for q, v in sorted(customs_gbp.items())},
            "tax_imports_gbp": {
                q: round(v * factors[q], 2) for q, v in sorted(customs_gbp.items())
            },
        }

    # --- 6. structuring and cash smuggling ---------------------------------------------------
    def structuring(self, draft: SchemeDraft) -> None:
        rng = self.rng
        subject = self.pop.new_person(HOME)
        account = self.account(subject)
        smurfs = [self.pop.new_person(HOME) for _ in range(rng.randint(0, 2))]
        destination = self.company(rng.choice(("AE", "TR", "HK", "NL")))
        dest_account = self.account(destination)
        draft.involve(subject.id, *(s.id for s in smurfs), destination.id)
        day = self.start_day(60)
        window = rng.randint(8, 20)
        deposits = []
        payments: list[Payment] = []
        for _ in range(rng.randint(8, 15)):
            when = day + timedelta(days=rng.randint(0, window))
            amount = round(rng.uniform(0.9, 0.995) * CTR_THRESHOLD, -1)
            conductor = rng.choice([subject, subject, *smurfs])
            payments.append(
                Payment(
                    when,
                    _CASH_DESK,
                    account,
                    amount,
                    "CASH",
                    "Cash deposit",
                    cash_conductor=conductor,
                )
            )
            deposits.append(
                {"date": when.isoformat(), "amount_gbp": amount, "conductor": conductor.id}
            )
        total = sum(p.amount for p in payments)
        out_day = day + timedelta(days=window + rng.randint(1, 4))
        payments.append(
            Payment(
                out_day,
                account,
                dest_account,
                round(total * 0.97, 2),
                "SWIFT",
                rng.choice(("Property deposit", "Family support", "Goods")),
            )
        )
        self.file_strs(
            draft,
            payments,
            reason=_REASONS["structuring"],
            indicators=["STRUCTURING", "CASH_INTENSIVE"],
            subject=account,
            lag=(5, 25),
        )
        deposits.sort(key=lambda d: str(d["date"]))
        draft.details = {
            "threshold": CTR_THRESHOLD,
            "currency": "GBP",
            "deposits": deposits,
            "window_days": window,
            "total_gbp": round(total, 2),
            "account": account.ident,
        }

    def cash_smuggling(self, draft: SchemeDraft) -> None:
        rng = self.rng
        trader = self.company(HOME, chapters=(rng.choice(("71", "85", "62")),))
        acct = self.account(trader)
        couriers = [
            self.pop.new_person(rng.choice((HOME, HOME, "AE", "TR")), born=(1975, 2000))
            for _ in range(rng.randint(1, 3))
        ]
        trader.officers.append(
            Officer(
                couriers[0], "director", trader.incorporation + timedelta(days=rng.randint(0, 400))
            )
        )
        draft.involve(trader.id, *(c.id for c in couriers))
        day = self.start_day(250)
        abroad = rng.choice(("AE", "TR", "PK", "NG"))
        trips = []
        withdrawals: list[Payment] = []
        for courier in couriers:
            d = day + timedelta(days=rng.randint(0, 20))
            port = rng.choice(("LHR", "LGW", "MAN", "BHX"))
            for _ in range(rng.randint(6, 12)):
                currency = rng.choice(("GBP", "GBP", "EUR"))
                gbp = rng.uniform(0.9, 0.99) * CASH_THRESHOLD
                amount = math.floor(gbp / GBP_PER_UNIT[currency] / 50) * 50
                row = self.cash.row(
                    day=d,
                    direction="outbound",
                    port=port,
                    traveller=courier,
                    amount=amount,
                    currency=currency,
                    abroad=abroad,
                    undeclared=False,
                    owner=trader if rng.random() < 0.4 else None,
                    origin="business proceeds",
                    use="business purchase",
                )
                self.plan.cash[d].append(Planned([row], (draft.id,)))
                trips.append(
                    {
                        "traveller": courier.id,
                        "date": d.isoformat(),
                        "amount": amount,
                        "currency": currency,
                    }
                )
                withdrawals.append(
                    Payment(
                        d - timedelta(days=rng.randint(1, 3)),
                        acct,
                        _CASH_DESK,
                        round(gbp, -1),
                        "CASH",
                        "Cash withdrawal",
                        cash_conductor=courier,
                    )
                )
                d += timedelta(days=rng.randint(7, 25))
        caught = rng.choice(couriers)
        catch_day = min(day + timedelta(days=rng.randint(60, 200)), LAST_PLANT)
        caught_amount = round(rng.uniform(2.5, 6.0) * CASH_THRESHOLD, -2)
        row = self.cash.row(
            day=catch_day,
            direction="outbound",
            port=rng.choice(("LHR", "LGW")),
            traveller=caught,
            amount=caught_amount,
            currency="GBP",
            abroad=abroad,
            undeclared=True,
        )
        self.plan.cash[catch_day].append(Planned([row], (draft.id,)))
        self.file_strs(
            draft,
            withdrawals,
            reason=_REASONS["cash_smuggling"],
            indicators=["CASH_INTENSIVE", "STRUCTURING"],
            subject=acct,
        )
        self.registry_records(draft, trader)
        draft.details = {
            "threshold": CASH_THRESHOLD,
            "currency": "GBP",
            "destination": abroad,
            "trips": trips,
            "detected": {
                "traveller": caught.id,
                "date": catch_day.isoformat(),
                "amount_gbp": caught_amount,
            },
            "linked_trader": trader.id,
        }

    # --- 7. funnel accounts ------------------------------------------------------------------
    def funnel_account(self, draft: SchemeDraft) -> None:
        rng = self.rng
        holder: Company | Person
        if rng.random() < 0.5:
            holder = self.pop.new_person(HOME, born=(1985, 2003))
        else:
            holder = self.company(HOME, "domestic", established=(2020, 2022))
        account = self.account(holder)
        destinations = [
            self.company(rng.choice(("AE", "HK", "TR", "CN"))) for _ in range(rng.randint(1, 3))
        ]
        senders = [self.pop.new_person(HOME) for _ in range(rng.randint(15, 40))]
        draft.involve(holder.id, *(d.id for d in destinations), *(s.id for s in senders))
        day = self.start_day(40)
        window = rng.randint(5, 18)
        payments: list[Payment] = []
        for s in senders:
            when = day + timedelta(days=rng.randint(0, window))
            amount = round(rng.uniform(400, 4_500), 2)
            payments.append(
                Payment(
                    when,
                    self.account(s),
                    account,
                    amount,
                    "EFT",
                    rng.choice(("Payment", "Goods", "Invoice", "Loan repayment")),
                )
            )
        total = sum(p.amount for p in payments)
        out_day = day + timedelta(days=window + rng.randint(1, 3))
        share = rng.uniform(0.9, 0.98)
        weights = [rng.random() + 0.2 for _ in destinations]
        for d, w in zip(destinations, weights, strict=True):
            payments.append(
                Payment(
                    out_day,
                    account,
                    self.account(d),
                    round(total * share * w / sum(weights), 2),
                    "SWIFT",
                    "Goods purchase",
                )
            )
            out_day += timedelta(days=rng.randint(0, 1))
        self.file_strs(
            draft,
            payments,
            reason=_REASONS["funnel_account"],
            indicators=["FUNNEL_ACCOUNT", "RAPID_MOVEMENT"],
            subject=account,
            lag=(5, 20),
        )
        draft.details = {
            "account": account.ident,
            "holder": holder.id,
            "senders": len(senders),
            "inflow_window_days": window,
            "inflow_gbp": round(total, 2),
            "outflow_share": round(share, 3),
            "destinations": [d.id for d in destinations],
        }


@dataclass
class _Carousel:
    """The actors of one VAT carousel, their accounts, payments and VAT flows."""

    conduit: Company
    missing: Company
    buffers: list[Company]
    broker: Company
    offshore: Company
    hs6: str
    accounts: dict[str, Account] = field(default_factory=dict)
    payments: list[Payment] = field(default_factory=list)
    vat: dict[str, dict[str, dict[str, float]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(lambda: defaultdict(float)))
    )

    def pay(
        self, day: date, payer: Company, payee: Company, amount: float, *, mode: str, text: str
    ) -> None:
        self.payments.append(
            Payment(day, self.accounts[payer.id], self.accounts[payee.id], amount, mode, text)
        )


def _common_goods(pop: Population, count: int) -> tuple[str, ...]:
    """The ``count`` subheadings with the most background trade (relations weighted by their
    shipment size), in a fixed order; the fixed staples when the population trades nothing."""
    volume: dict[str, float] = defaultdict(float)
    for rel in pop.relations:
        for hs6 in rel.hs6:
            volume[hs6] += rel.size / len(rel.hs6)
    ranked = sorted(volume, key=lambda h: (-volume[h], h))
    return tuple(ranked[:count]) or _PRICED


def _quarters(first: date, last: date) -> list[str]:
    out = []
    day = date(first.year, 3 * ((first.month - 1) // 3) + 1, 1)
    while day <= last and day <= END:
        out.append(quarter(day))
        day = date(day.year + (day.month + 3 > 12), (day.month + 2) % 12 + 1, 1)
    return out


def _agent_address(rng: random.Random, country: str) -> Address:
    info = COUNTRIES[country]
    building = rng.choice(
        (
            "Trident Chambers",
            "Palm Grove House",
            "Harbour Centre",
            "Vanterpool Plaza",
            "Ocean Business Park",
        )
    )
    return Address(f"{building}, PO Box {rng.randint(100, 4999)}", info.cities[0], "", country)


# A placeholder for the cash desk side of a cash deposit or withdrawal (never rendered).
_CASH_DESK = Account(Bank("cash", HOME, "", ""), "", None, "GBP", "")
_RING_COUNTRIES = ("NL", "DE", "IE", "AE", "HK", "CH", "FR", "BE", "TR", "SG", "ES", "IT")
_PRICED = ("620342", "640399", "851762", "847150", "300490", "852872", "620462", "610910")
_NOMINEE = ("Trident", "Overseas", "Caribbean", "Offshore", "Corporate")
_MASS_STREETS = ("Kingsway Business Centre", "City Road", "Shelton Court", "Old Street Yard")
_FORMATION_AGENTS = ("quickformations", "companyhub", "formationsdirect", "regoffice")
_ACTIONS = (
    "Account restricted pending review.",
    "Relationship under review; exit being considered.",
    "Further transactions monitored.",
)
_REASONS: dict[str, str] = {
    "circular_trade": "Payments for the same goods passing between related trading partners"
    " in several countries.",
    "vat_carousel": "Rapid onward payments of VAT-inclusive receipts; new company with"
    " high turnover in electronics.",
    "round_tripping": "Funds sent to offshore companies returning to the customer as loans"
    " or investment.",
    "structuring": "Repeated cash deposits just below the reporting threshold.",
    "cash_smuggling": "Frequent cash withdrawals by persons travelling abroad.",
    "funnel_account": "Many unrelated third-party credits followed by rapid international"
    " transfers.",
}
