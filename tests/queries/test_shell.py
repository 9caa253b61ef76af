from __future__ import annotations

from graph_models.schema import RelType
from graph_models.store.base import GraphStore
from queries.alerts import Typology
from queries.shell import ShellConfig, company_profiles, detect_shell_networks
from tests.queries.test_misinvoicing import TradeGraph


def _registered(g: TradeGraph, n: str, *, country: str = "GB", **props: object) -> str:
    return g.company(
        f"company:registry:reg:{country}:{n}", f"Company {n}", country, "registry", **props
    )


def _at(g: TradeGraph, company: str, address: str) -> None:
    g.add(address, "registry", full=address.removeprefix("address:gb:"))
    g.link(RelType.REGISTERED_AT, company, address, "registry")


def _profiles(store: GraphStore, config: ShellConfig | None = None) -> dict[str, set[str]]:
    """Fired indicator names by record key (a party's records all map to its profile)."""
    got = company_profiles(store, config=config or ShellConfig())
    return {record: {i.name for i in p.indicators} for p in got for record in p.records}


def test_thirty_companies_at_one_address_flag_but_two_do_not(store: GraphStore) -> None:
    g = TradeGraph()
    crowd = [_registered(g, f"C{i}") for i in range(30)]
    pair = [_registered(g, f"P{i}") for i in range(2)]
    for c in crowd:
        _at(g, c, "address:gb:suite 5 1 formation street")
    for c in pair:
        _at(g, c, "address:gb:2 quiet lane")
    g.write(store)

    profiles = company_profiles(store)
    by_party = {p.party: p for p in profiles}
    mass = by_party[crowd[0]].fired("mass_registration_address")
    assert mass is not None
    assert mass.value == 30.0
    assert mass.threshold == 10.0
    assert all(by_party[c].fired("mass_registration_address") for c in crowd)
    assert not any(by_party[c].fired("mass_registration_address") for c in pair)
    # A crowded address alone does not make a shell network.
    assert detect_shell_networks(store) == []


def _shell(g: TradeGraph, n: str, director: str, phone: str) -> str:
    """A young company with no staff, importing through customs, filing a nil VAT return."""
    company = _registered(g, n, tax_id=f"GB{n}", incorporation_date="2023-01-01", employees=0)
    g.link(RelType.DIRECTOR_OF, director, company, "registry", key="director", role="director")
    g.link(RelType.HAS_PHONE, company, phone, "registry")
    customs = g.company(f"company:customs:tax:GB{n}", f"COMPANY {n}", "GB", tax_id=f"GB{n}")
    seller = g.company("company:customs:name:CN:maker", "Maker", "CN")
    g.declaration(
        f"D{n}", flow="import", country="GB", date="2023-02-01", sender=seller, receiver=customs,
        value=200_000.0, customs_value=210_000.0,
    )  # fmt: skip
    taxpayer = g.company(f"company:tax:tax:GB{n}", f"Company {n}", "GB", "tax", tax_id=f"GB{n}")
    g.tax_return(taxpayer, f"R{n}", "2023-Q1", turnover=0.0, vat_charged=0.0)
    return company


def test_young_companies_with_no_substance_sharing_a_director_are_a_network(
    store: GraphStore,
) -> None:
    g = TradeGraph()
    nominee = g.add("person:registry:id:N1", "registry", name="Nominee One")
    phone = g.add("phone:+4420000000", "registry", number="+44 20 000 000")
    shells = [_shell(g, n, nominee, phone) for n in ("101", "102", "103")]
    bystander = _registered(g, "999", incorporation_date="2001-01-01", employees=40)
    g.write(store)

    (alert,) = detect_shell_networks(store)

    assert alert.typology is Typology.SHELL_NETWORK
    members = alert.details["members"]
    assert len(members) == 3
    for member in members:
        fired = {i["name"] for i in member["indicators"]}
        assert {"recent_incorporation", "no_employees", "low_tax_turnover"} <= fired
        assert "shared_contact" in fired
    entities = set(alert.entities)
    assert set(shells) <= entities
    assert {"company:customs:tax:GB101", "company:tax:tax:GB101"} <= entities  # lifted records
    assert nominee in entities  # the director linking them
    assert bystander not in entities
    assert alert.details["links"] == {"director": 3, "phone": 3}
    assert any(r.key == phone for r in alert.records)


def test_an_ordinary_group_sharing_a_head_office_is_not_a_shell_network(
    store: GraphStore,
) -> None:
    g = TradeGraph()
    ceo = g.add("person:registry:id:CEO", "registry", name="Chief Executive")
    for n in ("201", "202", "203"):
        company = _registered(g, n, incorporation_date="1998-05-01", employees=120)
        _at(g, company, "address:gb:1 head office square")
        g.link(RelType.DIRECTOR_OF, ceo, company, "registry", key="director", role="director")
    g.write(store)
    assert detect_shell_networks(store) == []


def test_a_large_ordinary_cluster_with_two_odd_members_is_not_a_shell_network(
    store: GraphStore,
) -> None:
    g = TradeGraph()
    nominee = g.add("person:registry:id:N2", "registry", name="Nominee Two")
    phone = g.add("phone:+4420111111", "registry", number="+44 20 111 111")
    odd = [_shell(g, n, nominee, phone) for n in ("301", "302")]
    # Five established tenants of the same business centre, one of them directed by the same
    # person: the two odd companies are linked into an ordinary cluster of seven.
    for n in ("311", "312", "313", "314", "315"):
        tenant = _registered(g, n, incorporation_date="2005-01-01", employees=25)
        _at(g, tenant, "address:gb:business centre")
    _at(g, odd[0], "address:gb:business centre")
    g.write(store)
    assert detect_shell_networks(store) == []
    (alert,) = detect_shell_networks(store, config=ShellConfig(min_flagged_share=0.0))
    assert len(alert.details["members"]) == 7


def test_a_hub_above_the_cap_links_nothing(store: GraphStore) -> None:
    g = TradeGraph()
    for i in range(6):
        company = _registered(g, f"V{i}", country="VG", employees=0)
        _at(g, company, "address:gb:agent house")
    g.write(store)
    tight = ShellConfig(hub_cap=5, mass_registration_min=4)
    loose = ShellConfig(hub_cap=10, mass_registration_min=4)

    # Each is shell-like (mass registration, secrecy jurisdiction, no staff) ...
    assert all(p.score >= 2.0 for p in company_profiles(store, config=tight))
    # ... but an address shared by more than hub_cap companies is not an edge.
    assert detect_shell_networks(store, config=tight) == []
    (alert,) = detect_shell_networks(store, config=loose)
    assert len(alert.details["members"]) == 6


def test_circular_ownership_marks_only_the_cycle(store: GraphStore) -> None:
    g = TradeGraph()
    a, b, c, d = (_registered(g, n) for n in ("A", "B", "C", "D"))
    for owner, owned in ((a, b), (b, c), (c, a), (a, d)):
        g.link(RelType.SHAREHOLDER_OF, owner, owned, "registry", key="shareholder", percentage=60.0)
    g.write(store)
    fired = _profiles(store)
    assert all("circular_ownership" in fired[x] for x in (a, b, c))
    assert "circular_ownership" not in fired[d]


def test_secrecy_jurisdiction_of_the_company_its_owner_or_its_account(store: GraphStore) -> None:
    g = TradeGraph()
    offshore = _registered(g, "O1", country="VG")
    owned = _registered(g, "O2")
    owner = _registered(g, "O3", country="KY")
    g.link(RelType.SHAREHOLDER_OF, owner, owned, "registry", key="shareholder", percentage=100.0)
    banked = _registered(g, "O4")
    account = g.add(
        "account:CH9300762011623852957",
        "fiu",
        account_number="623852957",
        iban="CH9300762011623852957",
    )
    g.link(RelType.HOLDS, banked, account, "fiu", role="holder")
    plain = _registered(g, "O5")
    g.write(store)

    values = {
        p.party: str(fired.value)
        for p in company_profiles(store)
        if (fired := p.fired("secrecy_jurisdiction")) is not None
    }
    assert values[offshore] == "jurisdiction VG"
    assert values[owned] == "shareholder in KY"
    assert values[banked] == "account in CH"
    assert plain not in values
    # A custom list replaces the reference file.
    only_vg = ShellConfig(secrecy_jurisdictions=frozenset({"VG"}))
    assert {
        p.party for p in company_profiles(store, config=only_vg) if p.fired("secrecy_jurisdiction")
    } == {offshore}


def test_a_trading_taxpayer_without_returns_is_flagged(store: GraphStore) -> None:
    g = TradeGraph()
    seller = g.company("company:customs:name:CN:maker", "Maker", "CN")
    silent = g.company("company:customs:tax:GB700", "Silent", "GB", tax_id="GB700")
    foreign = g.company("company:customs:name:FR:acheteur", "Acheteur", "FR")
    for i in range(3):
        g.declaration(
            f"Q{i}", flow="import", country="GB", date=f"2023-0{i + 1}-05", sender=seller,
            receiver=silent, customs_value=60_000.0,
        )  # fmt: skip
    # Tax records carry no country: the register record of the same tax id says GB, so the
    # tax data covers GB companies.
    filer = g.add("company:tax:tax:GB800", "tax", name="Filer", tax_id="GB800")
    g.company("company:registry:reg:GB:800", "Filer", "GB", "registry", tax_id="GB800")
    g.tax_return(filer, "R800", "2023-Q1", turnover=10.0)
    g.write(store)
    fired = _profiles(store)
    assert "no_tax_returns" in fired[silent]
    assert "no_tax_returns" not in fired[foreign]  # no tax id: not ours to tax
    assert "no_tax_returns" not in fired[seller]


def test_young_companies_in_a_secrecy_jurisdiction_sharing_a_director_are_not_shells(
    store: GraphStore,
) -> None:
    g = TradeGraph()
    director = g.add("person:registry:id:D7", "registry", name="Director Seven")
    seller = g.company("company:customs:name:CN:maker", "Maker", "CN")
    for n in ("701", "702"):
        company = _registered(g, n, country="CH", incorporation_date="2023-01-01", employees=12)
        g.link(RelType.DIRECTOR_OF, director, company, "registry", key="director", role="director")
        g.declaration(
            f"D{n}", flow="import", country="CH", date="2023-03-01", sender=seller,
            receiver=company,
        )  # fmt: skip
    g.write(store)

    fired = _profiles(store)["company:registry:reg:CH:701"]
    assert fired == {"recent_incorporation", "secrecy_jurisdiction"}
    # Young and Swiss is a circumstance, not a lack of substance.
    assert detect_shell_networks(store) == []
    (alert,) = detect_shell_networks(store, config=ShellConfig(context_indicators=frozenset()))
    assert len(alert.details["members"]) == 2


def test_a_name_only_record_that_namesakes_share_links_no_one(store: GraphStore) -> None:
    g = TradeGraph()
    nominee = g.add("person:registry:id:N8", "registry", name="Nominee Eight")
    phone = g.add("phone:+4420888888", "registry", number="+44 20 888 888")
    shells = [_shell(g, n, nominee, phone) for n in ("801", "802", "803")]
    # Two different companies named like the first shell; customs wrote one of them by name
    # only, a record every "Company 801" shares, resolved to the shell.
    g.company("company:tax:tax:GB899", "Company 801 Ltd", "GB", "tax", tax_id="GB899")
    named = g.company("company:customs:name:GB:company 801", "Company 801", "GB")
    g.add("entity:shell801", "registry", name="Company 801", kind="company")
    for record in (shells[0], named):
        g.link(RelType.SAME_AS, record, "entity:shell801", score=0.9, method="model")
    # The namesake's business centre, five established tenants.
    _at(g, named, "address:gb:business centre")
    for n in ("811", "812", "813", "814", "815"):
        tenant = _registered(g, n, incorporation_date="2005-01-01", employees=25)
        _at(g, tenant, "address:gb:business centre")
    g.write(store)

    (alert,) = detect_shell_networks(store)
    assert len(alert.details["members"]) == 3
    assert "address" not in alert.details["links"]
