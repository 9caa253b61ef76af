"""Building one source record at a time, as each agency would write it.

Every builder spells the parties the way that agency does (``Company.spelled``), decides which
identifiers the record carries, computes the node key the loader will derive from exactly
those values (``datagen.truth``) and notes it on the entity: that is how the truth learns every
key under which a real-world entity appears.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from functools import cache

from datagen import truth
from datagen.banking import Account, Bank
from datagen.population import Address, Company, Person, Population
from datagen.world import COUNTRIES, GBP_PER_UNIT, HOME, START
from datagen.writers import El, Row, money
from loaders.reference_data import hs_nomenclature

_USD = GBP_PER_UNIT["USD"]


def to_gbp(amount: float, currency: str) -> float:
    return amount * GBP_PER_UNIT[currency]


def from_gbp(amount_gbp: float, currency: str) -> float:
    return amount_gbp / GBP_PER_UNIT[currency]


def quarter(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


@cache
def goods_description(hs6: str) -> str:
    text = hs_nomenclature()[hs6].replace("\n", " ")
    return text if len(text) <= 90 else text[:87].rsplit(" ", 1)[0] + "..."


@dataclass(slots=True)
class Item:
    """One item of a shipment: the true quantity and value (USD) of one subheading."""

    hs6: str
    quantity: float
    unit: str
    net_mass: float
    value_usd: float


@dataclass(slots=True)
class Side:
    """How one side of a shipment is declared: its reporting country, date and the factors
    applied to the true value and quantity (1.0 when declared truthfully)."""

    flow: str  # export or import
    day: date
    value_factor: float = 1.0
    quantity_factor: float = 1.0


class Ledger:
    """Running totals the later files need: customs imports / exports of home companies per
    quarter (for their tax returns) and trade statistics per reporter, partner, flow, HS6 and
    year (true or declared values, in USD)."""

    def __init__(self) -> None:
        self.imports: dict[tuple[str, str], float] = defaultdict(float)
        self.exports: dict[tuple[str, str], float] = defaultdict(float)
        self.stats: dict[tuple[str, str, str, str, str], list[float]] = {}
        self.units: dict[str, str] = {}

    def stat(self, cell_key: tuple[str, str, str, str, int], usd: float, qty: float) -> None:
        """Add to the statistics cell (reporter, partner, flow, HS6, year)."""
        reporter, partner, flow, hs6, year = cell_key
        key = (reporter, partner, flow, hs6, str(year))
        cell = self.stats.get(key)
        if cell is None:
            self.stats[key] = [usd, qty]
        else:
            cell[0] += usd
            cell[1] += qty


class Customs:
    """Declaration rows: numbering, offices, parties as customs writes them."""

    def __init__(self, rng: random.Random, pop: Population, ledger: Ledger) -> None:
        self.rng = rng
        self.pop = pop
        self.ledger = ledger
        self._seq: dict[str, int] = defaultdict(int)
        self._offices: dict[str, tuple[str, ...]] = {}

    def number(self, country: str, day: date) -> str:
        """An 18-character MRN-like number: year, country, 13 characters, a check letter.

        Called when a declaration is written, so numbers follow the file order and say
        nothing about which rows were planted.
        """
        self._seq[country] += 1
        # An affine map with a multiplier coprime to 36**13 and a per-country offset spreads
        # the sequence over the whole number space while keeping numbers unique.
        offset = int.from_bytes(country.encode(), "big") * 1_000_003_233
        n = (self._seq[country] * _SCRAMBLE + offset) % _SPACE
        body = _base36(n).rjust(13, "0")
        head = f"{day.year % 100:02d}{country}{body}"
        check = "ABCDEFGHJKLMNPQRSTUVWXYZ"[sum(ord(c) for c in head) % 24]
        return head + check

    def office(self, country: str) -> str:
        offices = self._offices.get(country)
        if offices is None:
            offices = tuple(f"{country}{self.rng.randint(0, 999999):06d}" for _ in range(4))
            self._offices[country] = offices
        return self.rng.choice(offices)

    def party(self, company: Company, *, domestic: bool) -> tuple[str, str, str, str, str, str]:
        """(name, tax id, registration number, address, country, node key) as written."""
        rng = self.rng
        name = company.spelled(rng, "customs")
        tax = ""
        if rng.random() < (0.93 if domestic else 0.06):
            tax = company.tax_id
            roll = rng.random()
            if roll < 0.18 and company.country in ("GB", "DE", "NL", "FR", "IE", "BE", "IT"):
                tax = tax + "000"  # the EORI built on the VAT number
            elif roll < 0.26 and len(tax) > 8:
                tax = f"{tax[:2]} {tax[2:5]} {tax[5:9]} {tax[9:]}".strip()
        reg = company.registration_number if rng.random() < (0.12 if domestic else 0.04) else ""
        address = company.address.line if rng.random() < 0.85 else ""
        country = company.country
        key = truth.customs_party(name, tax or None, reg or None, country)
        company.node_keys.add(key)
        return name, tax, reg, address, country, key

    def rows(
        self,
        *,
        seller: Company,
        buyer: Company,
        items: list[Item],
        side: Side,
        currency: str,
        transport: str,
        terms: str,
        agent: Company | None,
        origin: str | None = None,
    ) -> list[Row]:
        """The rows (one per item) of one side of a shipment, and its ledger entries."""
        rng = self.rng
        export = side.flow == "export"
        reporting = seller.country if export else buyer.country
        partner = buyer.country if export else seller.country
        office = self.office(reporting)
        ex = self.party(seller, domestic=export)
        im = self.party(buyer, domestic=not export)
        own = ex if export else im
        if agent is not None:
            dname = agent.spelled(rng, "customs")
            dtax = agent.tax_id if rng.random() < 0.97 else ""
            company = agent
        else:
            dname, dtax, company = own[0], own[1], seller if export else buyer
        dkey = truth.customs_party(dname, dtax or None, None, reporting)
        company.node_keys.add(dkey)
        consign = rng.random() < 0.3
        if consign:
            seller.node_keys.add(truth.customs_party(ex[0], None, None, ex[4]))
            buyer.node_keys.add(truth.customs_party(im[0], None, None, im[4]))
        reporting_ccy = COUNTRIES[reporting].currency
        cif = 1.0 if export else 1.06
        rows: list[Row] = []
        for index, item in enumerate(items, start=1):
            value_usd = item.value_usd * side.value_factor
            qty = item.quantity * side.quantity_factor
            mass = item.net_mass * side.quantity_factor
            invoice = from_gbp(value_usd * _USD, currency)
            customs_value = from_gbp(value_usd * _USD * cif, reporting_ccy)
            national = "0000" if reporting == HOME and not export else "00"
            rows.append(
                {
                    "declaration_number": "",  # numbered when written
                    "item_number": str(index),
                    "declaration_date": side.day.isoformat(),
                    "flow": side.flow,
                    "reporting_country": reporting,
                    "customs_office": office,
                    "declarant_name": dname,
                    "declarant_tax_id": dtax,
                    "exporter_name": ex[0],
                    "exporter_tax_id": ex[1],
                    "exporter_registration_number": ex[2],
                    "exporter_address": ex[3],
                    "exporter_country": ex[4],
                    "importer_name": im[0],
                    "importer_tax_id": im[1],
                    "importer_registration_number": im[2],
                    "importer_address": im[3],
                    "importer_country": im[4],
                    "consignor_name": ex[0] if consign else "",
                    "consignor_country": ex[4] if consign else "",
                    "consignee_name": im[0] if consign else "",
                    "consignee_country": im[4] if consign else "",
                    "hs_code": item.hs6 + national,
                    "goods_description": goods_description(item.hs6),
                    "quantity": _qty(qty, item.unit),
                    "quantity_unit": item.unit,
                    "net_mass_kg": f"{mass:.1f}",
                    "customs_value": money(customs_value),
                    "invoice_value": money(invoice),
                    "invoice_currency": currency,
                    "origin_country": origin or seller.country,
                    "dispatch_country": seller.country,
                    "destination_country": buyer.country,
                    "transport_mode": transport,
                    "payment_terms": terms,
                }
            )
            self.ledger.units[item.hs6] = item.unit
            gbp = value_usd * _USD * cif
            if reporting == HOME:
                book = self.ledger.exports if export else self.ledger.imports
                book[((seller if export else buyer).id, quarter(side.day))] += gbp
            self.ledger.stat(
                (reporting, partner, side.flow, item.hs6, side.day.year), value_usd * cif, qty
            )
        return rows

    def shadow(self, seller: Company, buyer: Company, items: list[Item], side: Side) -> None:
        """The statistics of a side whose declaration is not in the extract (partner data)."""
        export = side.flow == "export"
        reporting = seller.country if export else buyer.country
        partner = buyer.country if export else seller.country
        cif = 1.0 if export else 1.06
        for item in items:
            self.ledger.stat(
                (reporting, partner, side.flow, item.hs6, side.day.year),
                item.value_usd * side.value_factor * cif,
                item.quantity * side.quantity_factor,
            )


_SPACE = 36**13
_SCRAMBLE = 0x9E3779B97F4A7C15 % _SPACE | 1  # odd and not a multiple of 3 (tested)


def _qty(qty: float, unit: str) -> str:
    return f"{max(1, round(qty))}" if unit == "NAR" else f"{qty:.1f}"


def _base36(n: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out or "0"


# --- FIU: goAML elements and CTR rows ---------------------------------------------------------
class Fiu:
    """goAML report elements and CTR rows, with the parties as bank clerks record them."""

    def __init__(self, rng: random.Random, pop: Population) -> None:
        self.rng = rng
        self.pop = pop
        self._tx = 0
        self._reports = 0
        self._ctr = 0

    def holder(self, account: Account) -> Company | Person:
        return self.pop.index[account.holder_id]

    def person(self, p: Person, tag: str = "t_person") -> El:
        rng = self.rng
        first, last, _ = p.spelled(rng, "fiu")
        birth = p.birth_date if rng.random() < 0.85 else ""
        passport = p.passport if rng.random() < 0.55 else ""
        id_number = p.national_id if p.national_id and rng.random() < 0.4 else ""
        p.node_keys.add(
            truth.fiu_person(f"{first} {last}", passport or id_number or None, birth or None)
        )
        el = El(tag)
        el.put("gender", p.gender)
        el.put("first_name", first)
        el.put("last_name", last)
        el.put("birthdate", birth)
        el.put("passport_number", passport)
        el.put("passport_country", p.nationality if passport else "")
        el.put("id_number", id_number)
        el.put("nationality1", p.nationality)
        if rng.random() < 0.6:
            el.add("phones").add("phone").put("tph_number", p.phone)
        if rng.random() < 0.7:
            _address(el, p.address)
        if rng.random() < 0.3:
            el.put("email", p.email)
        return el

    def entity(self, c: Company, tag: str = "t_entity") -> El:
        rng = self.rng
        name = c.spelled(rng, "fiu")
        tax = c.tax_id if rng.random() < 0.6 else ""
        reg = c.registration_number if rng.random() < 0.45 else ""
        country = c.country if rng.random() < 0.85 else ""
        c.node_keys.add(truth.fiu_company(name, tax or None, reg or None, country or None))
        el = El(tag)
        el.put("name", name)
        el.put("incorporation_legal_form", c.legal_form)
        el.put("incorporation_number", reg)
        el.put("tax_number", tax)
        el.put("incorporation_country_code", country)
        el.put("incorporation_date", c.incorporation.isoformat() if rng.random() < 0.4 else "")
        if rng.random() < 0.5:
            el.add("phones").add("phone").put("tph_number", c.phone)
        if rng.random() < 0.8:
            _address(el, c.address)
        if rng.random() < 0.3:
            el.put("email", c.email)
        return el

    def account(self, account: Account, tag: str) -> El:
        el = El(tag)
        bank = account.bank
        el.put("institution_name", bank.name)
        el.put("swift", bank.swift)
        el.put("account", account.number)
        el.put("currency_code", account.currency)
        el.put("iban", account.iban or "")
        holder = self.holder(account)
        if isinstance(holder, Company):
            el.append(self.entity(holder))
        else:
            el.add("signatory").append(self.person(holder))
        return el

    def side(
        self,
        direction: str,
        *,
        my_client: bool,
        funds: str,
        country: str,
        account: Account | None = None,
        person: Person | None = None,
        company: Company | None = None,
    ) -> El:
        el = El(f"t_{direction}_my_client" if my_client else f"t_{direction}")
        el.put(f"{direction}_funds_code", funds)
        if account is not None:
            el.append(self.account(account, f"{direction}_account"))
        elif person is not None:
            el.append(self.person(person, f"{direction}_person"))
        elif company is not None:
            el.append(self.entity(company, f"{direction}_entity"))
        el.put(f"{direction}_country", country)
        return el

    def transaction(
        self,
        *,
        bank: Bank,
        day: date,
        transmode: str,
        amount_gbp: float,
        description: str,
        source: El,
        target: El,
        location: str | None = None,
    ) -> El:
        el = El("transaction")
        el.add("transactionnumber")  # stamped when written
        el.put("internal_ref_number", f"{self.rng.getrandbits(40):010X}")
        el.put(
            "transaction_location", location or self.rng.choice(bank.branches or ("Head office",))
        )
        el.put("transaction_description", description)
        el.put("date_transaction", day.isoformat())
        el.put("transmode_code", transmode)
        el.put("amount_local", money(amount_gbp))
        el.append(source)
        el.append(target)
        return el

    def report(
        self,
        *,
        bank: Bank,
        code: str,
        submitted: date,
        reason: str,
        action: str,
        indicators: list[str],
        transactions: list[El],
    ) -> El:
        el = El("report")
        el.put("rentity_id", bank.rentity_id)
        el.put("submission_code", "E")
        el.put("report_code", code)
        el.add("entity_reference")  # stamped when written
        el.put("submission_date", submitted.isoformat())
        el.put("currency_code_local", "GBP")
        el.put("reason", reason)
        el.put("action", action)
        if indicators:
            box = el.add("report_indicators")
            for code_ in indicators:
                box.put("indicator", code_)
        for tx in transactions:
            el.append(tx)
        return el

    def stamp(self, report: El) -> None:
        """Number a report and its transactions in file order (see ``Customs.number``)."""
        self._reports += 1
        fields = {c.tag: c for c in report.children}
        bank = fields["rentity_id"].text or ""
        year = (fields["submission_date"].text or "")[:4]
        code = fields["report_code"].text or ""
        fields["entity_reference"].text = f"{code}-{bank}-{year}-{self._reports:06d}"
        for tx in report.children:
            if tx.tag != "transaction":
                continue
            self._tx += 1
            number = next(c for c in tx.children if c.tag == "transactionnumber")
            day = next(c.text for c in tx.children if c.tag == "date_transaction") or ""
            number.text = f"{bank}-{day[:4]}-{self._tx:08d}"

    def ctr_row(
        self,
        *,
        bank: Bank,
        day: date,
        amount: float,
        direction: str,
        account: Account,
        conductor: Person,
        beneficiary: Company | None,
    ) -> Row:
        rng = self.rng
        _, _, full = conductor.spelled(rng, "fiu")
        birth = conductor.birth_date if rng.random() < 0.85 else ""
        id_number = (
            conductor.passport
            if rng.random() < 0.5
            else (conductor.national_id or "" if rng.random() < 0.5 else "")
        )
        conductor.node_keys.add(truth.fiu_person(full, id_number or None, birth or None))
        row: Row = {
            "report_id": "",  # numbered when written
            "reporting_institution": bank.name,
            "transaction_date": day.isoformat(),
            "amount": money(amount),
            "currency": "GBP",
            "cash_direction": direction,
            "account_number": account.number,
            "iban": account.iban or "",
            "conductor_name": full,
            "conductor_birth_date": birth,
            "conductor_id_number": id_number,
            "conductor_nationality": conductor.nationality,
            "branch": rng.choice(bank.branches or ("Head office",)),
        }
        if beneficiary is not None:
            name = beneficiary.spelled(rng, "fiu")
            tax = beneficiary.tax_id if rng.random() < 0.7 else ""
            beneficiary.node_keys.add(truth.fiu_company(name, tax or None))
            row.update(beneficiary_name=name, beneficiary_tax_id=tax, beneficiary_type="company")
        return row


def _address(parent: El, address: Address) -> None:
    addr = parent.add("addresses").add("address")
    addr.put("address", address.street)
    addr.put("city", address.city)
    addr.put("zip", address.postal_code)
    addr.put("country_code", address.country)


# --- cash declarations ------------------------------------------------------------------------
class Cash:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._seq = 0

    def row(
        self,
        *,
        day: date,
        direction: str,
        port: str,
        traveller: Person,
        amount: float,
        currency: str,
        abroad: str,
        undeclared: bool,
        owner: Company | Person | None = None,
        origin: str = "",
        use: str = "",
        instrument: str = "cash",
    ) -> Row:
        rng = self.rng
        _, _, full = traveller.spelled(rng, "cash")
        birth = traveller.birth_date if rng.random() < 0.9 else ""
        passport = traveller.passport if rng.random() < 0.92 else ""
        traveller.node_keys.add(truth.cash_traveller(full, passport or None, birth or None))
        row: Row = {
            "declaration_id": "",  # numbered when written
            "declaration_date": day.isoformat(),
            "direction": direction,
            "port": port,
            "traveller_name": full,
            "traveller_birth_date": birth,
            "traveller_nationality": traveller.nationality,
            "traveller_passport": passport,
            "amount": money(amount),
            "currency": currency,
            "instrument_type": instrument,
            "origin_of_funds": origin,
            "intended_use": use,
            "undeclared": "yes" if undeclared else "no",
            "destination_country": abroad if direction == "outbound" else HOME,
            "departure_country": HOME if direction == "outbound" else abroad,
        }
        if isinstance(owner, Company):
            name = owner.spelled(rng, "cash")
            tax = owner.tax_id if rng.random() < 0.7 else ""
            owner.node_keys.add(truth.cash_owner_company(name, tax or None))
            row.update(owner_name=name, owner_type="company", owner_tax_id=tax)
        elif isinstance(owner, Person) and owner is not traveller:
            _, _, oname = owner.spelled(rng, "cash")
            owner.node_keys.add(truth.cash_owner_person(oname, None))
            row.update(owner_name=oname, owner_type="person")
        return row


# --- registry ---------------------------------------------------------------------------------
def company_row(c: Company) -> Row:
    key = truth.registry_company(c.name, c.registration_number, c.country)
    c.node_keys.add(key)
    return {
        "registration_number": c.registration_number,
        "name": c.name,
        "jurisdiction": c.country,
        "tax_id": c.tax_id,
        "vat_number": c.vat_number or "",
        "legal_form": c.legal_form,
        "incorporation_date": c.incorporation.isoformat(),
        "dissolution_date": c.dissolution.isoformat() if c.dissolution else "",
        "address": c.address.street,
        "city": c.address.city,
        "postal_code": c.address.postal_code,
        "phone": c.phone,
        "email": c.email,
        "employees": str(c.employees),
    }


def officer_rows(rng: random.Random, c: Company) -> list[tuple[Row, str]]:
    """(row, officer entity id) for each appointment of ``c``."""
    out: list[tuple[Row, str]] = []
    company_key = truth.registry_company(c.name, c.registration_number, c.country)
    c.node_keys.add(company_key)
    for officer in c.officers:
        holder = officer.holder
        row: Row = {
            "company_registration_number": c.registration_number,
            "company_jurisdiction": c.country,
            "company_name": c.name,
            "role": officer.role,
            "appointed": max(officer.appointed, c.incorporation).isoformat(),
            "resigned": officer.resigned.isoformat() if officer.resigned else "",
            "percentage": f"{officer.percentage:g}" if officer.percentage is not None else "",
        }
        if isinstance(holder, Company):
            holder.node_keys.add(
                truth.registry_company(holder.name, holder.registration_number, holder.country)
            )
            row.update(
                officer_name=holder.name,
                officer_type="company",
                officer_registration_number=holder.registration_number,
                officer_jurisdiction=holder.country,
            )
        else:
            _, _, full = holder.spelled(rng, "registry")
            id_number = holder.passport if rng.random() < 0.25 else ""
            holder.node_keys.add(truth.registry_person(full, id_number or None, holder.birth_date))
            row.update(
                officer_name=full,
                officer_type="person",
                officer_birth_date=holder.birth_date,
                officer_nationality=holder.nationality,
                officer_id_number=id_number,
            )
        out.append((row, holder.id))
    return out


def window_day(rng: random.Random, first: date, last: date) -> date:
    """A uniformly random day in [first, last], clipped to the generation window."""
    first = max(first, START)
    span = (last - first).days
    return first if span <= 0 else date.fromordinal(first.toordinal() + rng.randint(0, span))
