"""The small, in-memory population: companies, persons, banks, accounts and trade relations.

Everything that scales with the number of records (declarations, transactions) is streamed by
the writers; what lives here grows sub-linearly with the scale (about 2,000 background
companies at scale 1, 11,000 at scale 10, 63,000 at scale 100, plus the planted schemes').
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache

from datagen.banking import Account, Bank, bank_code, make_account, swift_code
from datagen.spelling import (
    CompanyName,
    full_name,
    person_first_variant,
    person_last_variant,
    strip_accents,
)
from datagen.world import (
    CHAPTERS,
    COUNTRIES,
    DOMESTIC_WORDS,
    FIRST_F,
    FIRST_M,
    GENERIC_WORDS,
    HOME,
    NEAR,
    PEOPLE_POOLS,
    PREFIXES,
    SECTOR_WORDS,
    STREETS,
    SURNAMES,
    TRADER_COUNTRIES,
)
from loaders.reference_data import hs_nomenclature

AGENCIES = ("registry", "customs", "tax", "fiu", "cash")


@dataclass(eq=False, slots=True)
class Address:
    street: str
    city: str
    postal_code: str
    country: str

    @property
    def line(self) -> str:
        return f"{self.street}, {self.postal_code} {self.city}".strip()


@dataclass(eq=False, slots=True)
class Person:
    id: str
    first: str
    last: str
    gender: str
    birth_date: str
    nationality: str
    passport: str
    national_id: str | None
    address: Address
    phone: str
    email: str
    # Per agency: the (first, last, style) spellings records choose from, the first most often.
    spellings: dict[str, list[tuple[str, str, int]]] = field(default_factory=dict)
    accounts: list[Account] = field(default_factory=list)
    node_keys: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    def spelled(self, rng: random.Random, agency: str) -> tuple[str, str, str]:
        """(first, last, full name) as one record of ``agency`` writes them."""
        options = self.spellings.get(agency)
        if options is None:
            return self.first, self.last, f"{self.first} {self.last}"
        # An agency that writes a name its own way mostly keeps to it (one clerk, one system).
        first, last, style = options[0] if rng.random() < 0.4 else options[1]
        return first, last, full_name(first, last, style)


@dataclass(eq=False, slots=True)
class Officer:
    holder: Person | Company
    role: str  # director, secretary, shareholder, beneficial_owner
    appointed: date
    resigned: date | None = None
    percentage: float | None = None


@dataclass(eq=False, slots=True)
class Company:
    id: str
    legal: CompanyName
    country: str
    registration_number: str
    tax_id: str
    vat_number: str | None
    incorporation: date
    dissolution: date | None
    address: Address
    phone: str
    email: str
    employees: int
    kind: str  # trader, domestic, forwarder, shell, ...
    hs6: list[str] = field(default_factory=list)
    officers: list[Officer] = field(default_factory=list)
    accounts: list[Account] = field(default_factory=list)
    spellings: dict[str, list[str]] = field(default_factory=dict)
    node_keys: set[str] = field(default_factory=set)
    activity: float = 1.0
    cash_intensive: bool = False

    @property
    def name(self) -> str:
        return self.legal.legal

    @property
    def legal_form(self) -> str:
        return self.legal.form[0]

    def spelled(self, rng: random.Random, agency: str) -> str:
        options = self.spellings.get(agency)
        if options is None:
            return self.name
        # An agency that writes a name its own way mostly keeps to it (one clerk, one system).
        return options[0] if rng.random() < 0.4 else rng.choice(options[1:])

    def active(self, day: date) -> bool:
        return self.incorporation <= day and (self.dissolution is None or day < self.dissolution)


@dataclass(eq=False, slots=True)
class Relation:
    """A stable trade relation: ``seller`` ships goods of ``hs6`` to ``buyer``."""

    seller: Company
    buyer: Company
    hs6: tuple[str, ...]
    price_factor: float
    currency: str
    transport: str
    transit_days: int
    seller_agent: Company | None
    buyer_agent: Company | None
    terms: str
    size: float = 1.0  # the relation's typical shipment size, relative


@cache
def chapter_codes(chapter: str) -> tuple[str, ...]:
    """The HS 2022 six-digit subheadings of a chapter."""
    return tuple(c for c in hs_nomenclature() if len(c) == 6 and c.startswith(chapter))


@cache
def median_price(hs6: str) -> float:
    """The market median unit value (USD per quantity unit) of a subheading.

    Seeded by the code alone, so it is the same whatever the run's seed: it is the world's
    price, not the sample's.
    """
    rng = random.Random(f"price:{hs6}")  # noqa: S311 - a seeded draw, not a secret
    return CHAPTERS[hs6[:2]].price_usd * math.exp(rng.gauss(0.0, 0.45))


class Population:
    """Builds and holds the entities; ids are C00001 (companies) and P00001 (persons)."""

    def __init__(self, rng: random.Random, scale: float) -> None:
        self.rng = rng
        self.scale = scale
        self.companies: list[Company] = []
        self.persons: list[Person] = []
        self.index: dict[str, Company | Person] = {}
        self.banks: dict[str, list[Bank]] = {}
        self.home_banks: list[Bank] = []
        self.relations: list[Relation] = []
        self.hard_negatives: list[tuple[str, str]] = []
        self.forwarders: dict[str, list[Company]] = defaultdict(list)
        self._used_numbers: set[tuple[str, str]] = set()
        self._by_chapter: dict[str, list[Company]] = defaultdict(list)
        self._used_tax_ids: set[str] = set()

    # --- persons -----------------------------------------------------------------------------
    def new_person(
        self, country: str, *, pool: str | None = None, born: tuple[int, int] = (1950, 2000)
    ) -> Person:
        rng = self.rng
        info = COUNTRIES[country]
        if pool is None:
            pool = rng.choice(PEOPLE_POOLS.get(info.names, (info.names,)))
            if pool not in SURNAMES:
                pool = "en"
        gender = rng.choice("MF")
        first = rng.choice((FIRST_M if gender == "M" else FIRST_F)[pool])
        last = rng.choice(SURNAMES[pool])
        birth = date(rng.randint(*born), rng.randint(1, 12), rng.randint(1, 28))
        pid = f"P{len(self.persons) + 1:05d}"
        passport = self._passport(country)
        national_id = self._national_id(country) if rng.random() < 0.6 else None
        person = Person(
            id=pid,
            first=first,
            last=last,
            gender=gender,
            birth_date=birth.isoformat(),
            nationality=country,
            passport=passport,
            national_id=national_id,
            address=self.new_address(country),
            phone=self.new_phone(country),
            email=f"{_ascii(first)}.{_ascii(last)}{rng.randint(1, 99)}@{rng.choice(_MAIL)}",
        )
        person.spellings = self._person_spellings(person)
        self.persons.append(person)
        self.index[pid] = person
        return person

    def _person_spellings(self, p: Person) -> dict[str, list[tuple[str, str, int]]]:
        rng = self.rng
        out: dict[str, list[tuple[str, str, int]]] = {}
        # Sparse: only agencies that write the name another way get an entry.
        for agency in AGENCIES[1:]:
            if rng.random() >= 0.25:
                continue
            kind = rng.randrange(3)
            if kind == 0:
                variant = (person_first_variant(rng, p.first), p.last, 0)
            elif kind == 1:
                variant = (p.first, person_last_variant(rng, p.last), 0)
            else:
                variant = (p.first, p.last, rng.randrange(1, 4))
            out[agency] = [(p.first, p.last, 0), variant]
        return out

    def _passport(self, country: str) -> str:
        rng = self.rng
        if country == "GB":
            return f"{rng.randint(100000000, 999999999)}"
        if country in ("DE", "FR", "NL", "IT", "ES", "BE"):
            return "".join(rng.choice("CFGHJKLMNPRTVWXYZ0123456789") for _ in range(9))
        return rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") + f"{rng.randint(1000000, 9999999)}"

    def _national_id(self, country: str) -> str:
        rng = self.rng
        if country == "GB":  # a National Insurance number
            return (
                rng.choice("ABCEGHJKLMNPRSTWXYZ")
                + rng.choice("ABCEGHJKLMNPRSTWXYZ")
                + f"{rng.randint(0, 999999):06d}"
                + rng.choice("ABCD")
            )
        return f"{country}{rng.randint(10**8, 10**10 - 1)}"

    def new_address(self, country: str) -> Address:
        rng = self.rng
        info = COUNTRIES[country]
        streets = STREETS.get(info.names, STREETS["other"])
        number = rng.randint(1, 240)
        street = rng.choice(streets)
        line = (
            f"{street} {number}"
            if info.names in ("de", "nl", "it", "es", "pl")
            else (f"{number} {street}")
        )
        if country == "GB":
            postal = (
                rng.choice(("E", "N", "SE", "SW", "M", "B", "LS", "G", "BS", "IP", "SO", "L"))
                + f"{rng.randint(1, 28)} {rng.randint(1, 9)}"
                + rng.choice("ABDEFGHJLNPQRSTUWXYZ")
                + rng.choice("ABDEFGHJLNPQRSTUWXYZ")
            )
        else:
            postal = f"{rng.randint(10000, 99999)}"
        return Address(line, rng.choice(info.cities), postal, country)

    def new_phone(self, country: str) -> str:
        return f"{COUNTRIES[country].dialling} {self.rng.randint(10**8, 10**9 - 1)}"

    # --- companies ---------------------------------------------------------------------------
    def new_company(
        self,
        country: str,
        kind: str,
        *,
        base: str | None = None,
        chapters: tuple[str, ...] = (),
        incorporated: date | None = None,
        dissolved: date | None = None,
        address: Address | None = None,
        phone: str | None = None,
        email: str | None = None,
        form_index: int | None = None,
    ) -> Company:
        rng = self.rng
        info = COUNTRIES[country]
        if not chapters and kind == "trader":
            chapters = tuple(
                rng.choices(list(CHAPTERS), [c.weight for c in CHAPTERS.values()], k=2)
            )
            chapters = (
                chapters[:1] if chapters[0] == chapters[1] or rng.random() < 0.5 else (chapters)
            )
        if base is None:
            base = self._base_name(info.names, chapters, kind)
        forms = info.legal_forms[
            form_index if form_index is not None else (0 if rng.random() < 0.85 else -1)
        ]
        legal = CompanyName(base, forms, form_first=forms[0] in ("OOO", "AO"))
        cid = f"C{len(self.companies) + 1:05d}"
        if incorporated is None:
            # Most companies are long established; some are new, as any register shows.
            first_year = 1975 if rng.random() < 0.85 else 2021
            incorporated = date(
                rng.randint(first_year, 2023), rng.randint(1, 12), rng.randint(1, 28)
            )
        domain = "".join(c for c in _ascii(base).lower() if c.isalnum())[:18] or "mail"
        tld = {"GB": "co.uk", "US": "com"}.get(country, country.lower())
        company = Company(
            id=cid,
            legal=legal,
            country=country,
            registration_number=self._registration_number(country),
            tax_id=self._tax_id(country),
            vat_number=None,
            incorporation=incorporated,
            dissolution=dissolved,
            address=address or self.new_address(country),
            phone=phone or self.new_phone(country),
            email=email or f"{rng.choice(('info', 'sales', 'office', 'accounts'))}@{domain}.{tld}",
            employees=max(1, int(math.exp(rng.gauss(2.5, 1.2)))),
            kind=kind,
        )
        company.vat_number = company.tax_id if info.tax_prefix else None
        if kind in ("trader", "shell_trader"):
            for chapter in chapters or ("84",):
                codes = chapter_codes(chapter)
                # Traders deal in a few subheadings; the first codes of a chapter are the
                # common ones often enough that a fixed-size prefix keeps the set varied.
                company.hs6.extend(rng.sample(codes, min(len(codes), rng.randint(2, 4))))
        company.activity = math.exp(rng.gauss(0.0, 1.1))
        company.spellings = self._company_spellings(company)
        self.companies.append(company)
        self.index[cid] = company
        return company

    def _base_name(self, pool: str, chapters: tuple[str, ...], kind: str) -> str:
        rng = self.rng
        if kind == "forwarder":
            head = rng.choice(PREFIXES)
            return f"{head} {rng.choice(('Freight', 'Logistics', 'Shipping', 'Forwarding'))}"
        words = SECTOR_WORDS.get(pool, {})
        chapter = chapters[0] if chapters else rng.choice(list(CHAPTERS))
        sector = rng.choice(words.get(chapter) or SECTOR_WORDS["en"][chapter])
        if kind == "domestic":
            sector = rng.choice(DOMESTIC_WORDS)
        surnames = SURNAMES.get(pool if pool in SURNAMES else "en", SURNAMES["en"])
        head = rng.choice(PREFIXES) if rng.random() < 0.6 else rng.choice(surnames)
        if rng.random() < 0.35 and kind != "domestic":
            return f"{head} {sector} {rng.choice(GENERIC_WORDS)}"
        return f"{head} {sector}"

    def _registration_number(self, country: str) -> str:
        while True:
            number = self._draw_registration_number(country)
            if (country, number) not in self._used_numbers:
                self._used_numbers.add((country, number))
                return number

    def _draw_registration_number(self, country: str) -> str:
        rng = self.rng
        if country == "GB":
            return f"{rng.choice(('0', '0', '0', '1', 'SC'))}{rng.randint(0, 10**7 - 1):07d}"[-8:]
        if country == "DE":
            return f"HRB {rng.randint(1000, 99999)}"
        if country == "FR":
            return f"{rng.randint(100, 999)} {rng.randint(100, 999)} {rng.randint(100, 999)}"
        if country in ("VG", "KY", "SC", "BZ", "PA"):
            return f"{rng.randint(1000000, 2199999)}"
        return f"{rng.randint(10**6, 10**8 - 1)}"

    def _tax_id(self, country: str) -> str:
        info = COUNTRIES[country]
        while True:
            digits = "".join(self.rng.choice("0123456789") for _ in range(info.tax_digits))
            tax_id = info.tax_prefix + digits
            if tax_id not in self._used_tax_ids:
                self._used_tax_ids.add(tax_id)
                return tax_id

    def _company_spellings(self, c: Company) -> dict[str, list[str]]:
        rng = self.rng
        legal = c.name
        # Sparse: the registry always writes the legal name, others only sometimes differ.
        out: dict[str, list[str]] = {}
        if rng.random() < 0.08:
            out["tax"] = [legal, legal.upper()]
        for agency, rate in (("customs", 0.28), ("fiu", 0.3), ("cash", 0.3)):
            if rng.random() < rate:
                options = [legal, c.legal.variant(rng)]
                if rng.random() < 0.3:
                    options.append(c.legal.variant(rng))
                out[agency] = list(dict.fromkeys(options))
        return out

    # --- banks and accounts -----------------------------------------------------------------
    def bank_of(self, country: str) -> Bank:
        banks = self.banks.get(country)
        if banks is None:
            banks = []
            for suffix in ("Bank", "Commercial Bank"):
                name = f"{self.rng.choice(PREFIXES)} {suffix}"
                pattern = COUNTRIES[country].bban if country in COUNTRIES else None
                banks.append(
                    Bank(
                        name=name,
                        country=country,
                        swift=swift_code(self.rng, name, country),
                        code=bank_code(self.rng, pattern, name),
                    )
                )
            self.banks[country] = banks
        return self.rng.choice(banks)

    def open_account(self, holder: Company | Person, country: str) -> Account:
        bank = self.rng.choice(self.home_banks) if country == HOME else self.bank_of(country)
        currency = COUNTRIES[country].currency if country in COUNTRIES else "USD"
        account = make_account(self.rng, bank, COUNTRIES[country].bban, currency, holder.id)
        holder.accounts.append(account)
        return account

    def build_home_banks(self) -> None:
        names = (
            "Albion Bank plc",
            "Thames Commercial Bank plc",
            "Northern Counties Bank plc",
            "Caledonian Savings Bank plc",
            "Pennine Building Society",
            "Mercia Trade Bank Ltd",
            "Severn Private Bank Ltd",
            "Wessex Payments Ltd",
        )
        pattern = COUNTRIES[HOME].bban
        for i, name in enumerate(names):
            self.home_banks.append(
                Bank(
                    name=name,
                    country=HOME,
                    swift=swift_code(self.rng, name, HOME),
                    code=bank_code(self.rng, pattern, name),
                    rentity_id=f"{1001 + i}",
                    branches=tuple(self.rng.sample(COUNTRIES[HOME].cities, 4)),
                )
            )
        self.banks[HOME] = self.home_banks

    # --- the background economy -------------------------------------------------------------
    def build(self) -> None:
        rng = self.rng
        self.build_home_banks()
        n = max(80, round(2000 * self.scale**0.75))
        weights = [COUNTRIES[c].weight for c in TRADER_COUNTRIES]
        for country in TRADER_COUNTRIES:
            for _ in range(max(1, round(n * COUNTRIES[country].weight / 400))):
                self.forwarders[country].append(self.new_company(country, "forwarder"))
        for _ in range(n):
            country = rng.choices(TRADER_COUNTRIES, weights)[0]
            kind = "trader" if country != HOME or rng.random() < 0.6 else "domestic"
            company = self.new_company(country, kind)
            company.cash_intensive = kind == "domestic" and rng.random() < 0.25
        self._hard_negatives(max(3, n // 150))
        self._accountants(max(1, n // 120))
        for company in list(self.companies):
            self._officers(company)
            if company.country == HOME or rng.random() < 0.5:
                self.open_account(company, company.country)
        self._relations()

    def _hard_negatives(self, count: int) -> None:
        """Different companies with near-identical names in different countries."""
        rng = self.rng
        traders = [c for c in self.companies if c.kind == "trader"]
        for source in rng.sample(traders, min(count, len(traders))):
            options = [c for c in TRADER_COUNTRIES if c != source.country]
            # Neighbours and countries sharing a language make the hardest pairs
            # (Nordic Timber AB / Nordic Timber Oy), so they are preferred.
            near = [
                c
                for c in options
                if COUNTRIES[c].names == COUNTRIES[source.country].names
                or (c in NEAR and source.country in NEAR)
            ]
            country = rng.choice(near if near and rng.random() < 0.7 else options)
            twin = self.new_company(
                country,
                "trader",
                base=source.legal.base,
                chapters=tuple(sorted({h[:2] for h in source.hs6})),
            )
            self.hard_negatives.append((source.id, twin.id))

    def _accountants(self, count: int) -> None:
        """Small firms registered at their accountant's office: a few companies share an
        address legitimately, unlike the dozens at a mass-registration address."""
        rng = self.rng
        small = [c for c in self.companies if c.country == HOME and c.kind != "forwarder"]
        for _ in range(count):
            office = self.new_address(HOME)
            office.street = f"{rng.choice(('Suite', 'Unit', 'Floor'))} {rng.randint(1, 9)}, " + (
                office.street
            )
            for c in rng.sample(small, min(len(small), rng.randint(3, 8))):
                c.address = office

    def _officers(self, company: Company) -> None:
        rng = self.rng
        appointed = company.incorporation
        directors = 1 if company.employees < 10 else rng.randint(1, 3)
        pool_people = [p for p in self.persons[-400:] if p.nationality == company.country]
        for i in range(directors):
            if pool_people and rng.random() < 0.12:
                person = rng.choice(pool_people)
            elif self.persons and rng.random() < 0.01:
                # A namesake: same name, another person (a hard negative for persons).
                twin_of = rng.choice(self.persons)
                person = self.new_person(company.country)
                person.first, person.last = twin_of.first, twin_of.last
                person.spellings = self._person_spellings(person)
                self.hard_negatives.append((twin_of.id, person.id))
            else:
                person = self.new_person(company.country)
            start = appointed if i == 0 else appointed + timedelta(days=rng.randint(0, 2000))
            start = min(start, date(2024, 6, 30))
            resigned = None
            if i > 0 and rng.random() < 0.1:  # boards change: some directors have left
                resigned = min(start + timedelta(days=rng.randint(200, 3000)), date(2024, 12, 1))
            company.officers.append(Officer(person, "director", start, resigned))
        if company.country == HOME and rng.random() < 0.3:
            company.officers.append(
                Officer(self.new_person(HOME), "secretary", company.incorporation)
            )
        if rng.random() < 0.6:
            owner = company.officers[0].holder
            share = rng.choice((100.0, 75.0, 60.0, 51.0, 50.0))
            company.officers.append(
                Officer(owner, "shareholder", company.incorporation, None, share)
            )
            if share > 25:
                company.officers.append(Officer(owner, "beneficial_owner", company.incorporation))

    def _relations(self) -> None:
        """Each seller ships to a few buyers abroad, mostly ones dealing in the same goods."""
        rng = self.rng
        traders = [c for c in self.companies if c.kind == "trader"]
        by_chapter: dict[tuple[bool, str], list[Company]] = defaultdict(list)
        for c in traders:
            for chapter in dict.fromkeys(h[:2] for h in c.hs6):
                by_chapter[(c.country == HOME, chapter)].append(c)
        home = [c for c in traders if c.country == HOME]
        foreign = [c for c in traders if c.country != HOME]
        for seller in traders:
            for _ in range(rng.randint(1, 4)):
                to_home = seller.country != HOME and rng.random() < 0.78
                same_trade = by_chapter.get((to_home, rng.choice(seller.hs6)[:2]))
                if same_trade and rng.random() < 0.75:
                    buyer = rng.choice(same_trade)
                else:
                    buyer = rng.choice(home if to_home else foreign)
                if buyer.country == seller.country or buyer is seller:
                    continue
                self.relations.append(self.relation(seller, buyer))

    def relation(self, seller: Company, buyer: Company) -> Relation:
        rng = self.rng
        hs = tuple(rng.sample(seller.hs6, min(len(seller.hs6), rng.randint(1, 2))))
        near = seller.country in NEAR and buyer.country in NEAR
        transport = (
            rng.choice(("3", "3", "3", "1", "4")) if near else rng.choice(("1", "1", "1", "4"))
        )
        transit = {"3": rng.randint(1, 4), "1": rng.randint(5, 35), "4": rng.randint(1, 3)}[
            transport
        ]
        usd = seller.country not in ("GB",) and rng.random() < 0.55
        currency = (
            "USD"
            if usd
            else rng.choice(
                (COUNTRIES[seller.country].currency, COUNTRIES[buyer.country].currency, "EUR")
            )
        )
        return Relation(
            seller=seller,
            buyer=buyer,
            hs6=hs,
            price_factor=math.exp(rng.gauss(0.0, 0.15)),
            currency=currency,
            transport=transport,
            transit_days=transit,
            seller_agent=self._agent(seller.country),
            buyer_agent=self._agent(buyer.country),
            terms=rng.choice(_TERMS),
            size=math.exp(rng.gauss(0.0, 0.7)),
        )

    def ordinary_trade(self, company: Company) -> None:
        """Give a planted trader ordinary business too: one stable relation with a trader of
        its line in another country, so its planted declarations are not all it ever files."""
        rng = self.rng
        if not self._by_chapter:
            for c in self.companies:
                if c.kind == "trader" and c.hs6:
                    self._by_chapter[c.hs6[0][:2]].append(c)
        chapter = company.hs6[0][:2] if company.hs6 else "84"
        partners = [c for c in self._by_chapter.get(chapter, []) if c.country != company.country]
        if not partners:
            return
        partner = rng.choice(partners)
        if company.country == HOME or rng.random() < 0.5:
            self.relations.append(self.relation(partner, company))
        else:
            self.relations.append(self.relation(company, partner))

    def _agent(self, country: str) -> Company | None:
        agents = self.forwarders.get(country)
        if not agents or self.rng.random() < 0.35:
            return None  # the trader declares itself
        return self.rng.choice(agents)


_TERMS = (
    "open account",
    "open account",
    "letter of credit",
    "documentary collection",
    "cash in advance",
)
_MAIL = ("gmail.com", "outlook.com", "yahoo.com", "hotmail.co.uk", "mail.ru", "proton.me")


def _ascii(text: str) -> str:
    return "".join(c for c in strip_accents(text).lower() if c.isalnum())
