"""The static world the generator draws from: countries, currencies, names, goods and prices.

The home jurisdiction is the United Kingdom: its FIU, tax authority and company register are
the agencies whose records the generator writes (the register also carries foreign companies,
as a multi-jurisdiction extract does), and its customs exchanges declarations with partner
administrations, so the customs file holds declarations of several reporting countries.

Both UK thresholds are GBP 10,000: currency transaction reports are filed for cash transactions
of at least ``CTR_THRESHOLD`` in the local currency (GBP), and travellers declare cash of at
least ``CASH_THRESHOLD`` (GBP, or its equivalent in another currency).

Word lists are written as one string each (``", "``-separated) to keep the tables readable.
"""

# ruff: noqa: RUF001 - real names carry the dotless i and Cyrillic letters on purpose

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from queries.fx_reference import ECB_UNITS_PER_EUR

HOME = "GB"
HOME_CURRENCY = "GBP"
CTR_THRESHOLD = 10_000.0
CASH_THRESHOLD = 10_000.0
VAT_RATE = 0.20
START = date(2022, 1, 1)
END = date(2024, 12, 31)
YEARS = (2022, 2023, 2024)
SECRECY = ("VG", "KY", "PA", "SC", "BZ")


def _words(text: str) -> tuple[str, ...]:
    return tuple(w.strip() for w in text.split(",") if w.strip())


@dataclass(frozen=True)
class Country:
    """What the generator needs to know about one country."""

    code: str
    currency: str
    weight: float  # share of companies registered there (0: shells only)
    names: str  # name-pool key for people and company words
    legal_forms: tuple[tuple[str, ...], ...]  # each: the registered form, then its variants
    cities: tuple[str, ...]
    bban: str | None  # IBAN BBAN pattern: a=letter, n=digit, c=alphanumeric; None: no IBAN
    tax_prefix: str  # how tax ids start ("" when they are bare digits)
    tax_digits: int
    dialling: str


_LTD = ("Limited", "Ltd", "LTD.", "Ltd.")
_PLC = ("PLC", "plc", "P.L.C.")
_GMBH = ("GmbH", "Gesellschaft mbH", "GMBH", "G.m.b.H.")
_AG = ("AG", "A.G.", "Aktiengesellschaft")
_SA = ("S.A.", "SA", "S.A", "Societe Anonyme")
_LLC = ("LLC", "L.L.C.", "L.L.C", "Limited Liability Company")
_INC = ("Inc.", "Inc", "Incorporated", "INC")
_CO_LTD = ("Co., Ltd.", "Co. Ltd", "Company Limited", "CO LTD")

# fmt: off
_TABLE: tuple[Country, ...] = (
    Country("GB", "GBP", 40, "en", (_LTD, _PLC),
            _words("London, Manchester, Birmingham, Leeds, Glasgow, Bristol, Felixstowe, "
                   "Southampton, Liverpool, Leicester, Bradford, Croydon"),
            "aaaannnnnnnnnnnnnn", "GB", 9, "+44"),
    Country("DE", "EUR", 7, "de", (_GMBH, _AG),
            _words("Hamburg, Bremen, Frankfurt am Main, München, Köln, Düsseldorf"),
            "nnnnnnnnnnnnnnnnnn", "DE", 9, "+49"),
    Country("FR", "EUR", 5, "fr", (("SARL", "S.A.R.L.", "Sarl"), ("SAS", "S.A.S."), _SA),
            _words("Paris, Marseille, Lyon, Le Havre, Lille, Bordeaux"),
            "nnnnnnnnnnccccccccccnn", "FR", 11, "+33"),
    Country("NL", "EUR", 5, "nl", (("B.V.", "BV", "Besloten Vennootschap"), ("N.V.", "NV")),
            _words("Rotterdam, Amsterdam, Eindhoven, Utrecht, Venlo"),
            "aaaannnnnnnnnn", "NL", 9, "+31"),
    Country("BE", "EUR", 3, "nl", (("BV", "B.V."), ("NV", "N.V."), _SA),
            _words("Antwerpen, Brussel, Gent, Liège"), "nnnnnnnnnnnn", "BE", 10, "+32"),
    Country("IE", "EUR", 3, "en", (_LTD, ("DAC", "D.A.C.")),
            _words("Dublin, Cork, Galway, Limerick"), "aaaannnnnnnnnnnnnn", "IE", 8, "+353"),
    Country("IT", "EUR", 4, "it", (("S.r.l.", "SRL", "Srl", "S.R.L."), ("S.p.A.", "SPA", "SpA")),
            _words("Milano, Genova, Torino, Napoli, Bologna"),
            "annnnnnnnnncccccccccccc", "IT", 11, "+39"),
    Country("ES", "EUR", 4, "es", (("S.L.", "SL", "S.L", "Sociedad Limitada"), _SA),
            _words("Madrid, Barcelona, Valencia, Bilbao, Algeciras"),
            "nnnnnnnnnnnnnnnnnnnn", "ES", 9, "+34"),
    Country("PL", "PLN", 3, "pl", (("Sp. z o.o.", "Sp.z o.o.", "SP Z OO", "sp. z o.o."),),
            _words("Warszawa, Gdańsk, Łódź, Poznań, Kraków"),
            "nnnnnnnnnnnnnnnnnnnnnnnn", "PL", 10, "+48"),
    Country("SE", "SEK", 2, "sv", (("AB", "Aktiebolag", "A.B."),),
            _words("Göteborg, Stockholm, Malmö, Helsingborg"),
            "nnnnnnnnnnnnnnnnnnnn", "SE", 12, "+46"),
    Country("FI", "EUR", 1.5, "fi", (("Oy", "OY", "Osakeyhtiö"), ("Oyj", "OYJ")),
            _words("Helsinki, Espoo, Turku, Kotka"), "nnnnnnnnnnnnnn", "FI", 8, "+358"),
    Country("DK", "DKK", 1.5, "da", (("ApS", "APS"), ("A/S", "AS")),
            _words("København, Aarhus, Esbjerg, Odense"), "nnnnnnnnnnnnnn", "DK", 8, "+45"),
    Country("NO", "NOK", 1, "no", (("AS", "A/S"), ("ASA",)),
            _words("Oslo, Bergen, Stavanger, Trondheim"), "nnnnnnnnnnn", "NO", 9, "+47"),
    Country("CH", "CHF", 2, "de", (_AG, _GMBH, _SA),
            _words("Zürich, Basel, Genève, Lugano"), "nnnnnccccccccccccc", "CHE", 9, "+41"),
    Country("US", "USD", 5, "en", (_INC, _LLC, ("Corp.", "Corporation", "Corp")),
            _words("New York, Houston, Miami, Los Angeles, Chicago, Newark"),
            None, "", 9, "+1"),
    Country("CN", "CNY", 6, "zh", (_CO_LTD,),
            _words("Shanghai, Shenzhen, Guangzhou, Ningbo, Xiamen, Qingdao"),
            None, "91", 16, "+86"),
    Country("HK", "HKD", 2, "zh", (_LTD,), _words("Hong Kong, Kowloon, Kwai Chung"),
            None, "", 8, "+852"),
    Country("IN", "INR", 3, "in", (("Private Limited", "Pvt. Ltd.", "Pvt Ltd", "PVT LTD"),),
            _words("Mumbai, Chennai, Delhi, Ahmedabad, Surat"), None, "", 15, "+91"),
    Country("TR", "TRY", 3, "tr", (("A.Ş.", "A.S.", "AŞ"), ("Ltd. Şti.", "Ltd. Sti.", "LTD STI")),
            _words("İstanbul, İzmir, Mersin, Bursa"),
            "nnnnnnccccccccccccccccc", "", 10, "+90"),
    Country("AE", "AED", 3, "ar", (_LLC, ("FZE", "F.Z.E."), ("FZCO", "FZ-CO")),
            _words("Dubai, Sharjah, Abu Dhabi, Jebel Ali"),
            "nnnnnnnnnnnnnnnnnnn", "", 15, "+971"),
    Country("SG", "SGD", 1.5, "zh", (("Pte. Ltd.", "Pte Ltd", "PTE LTD", "Private Limited"),),
            ("Singapore",), None, "", 9, "+65"),
    Country("JP", "JPY", 1, "ja", (("K.K.", "Kabushiki Kaisha", "KK"), ("Co., Ltd.", "Co Ltd")),
            _words("Tokyo, Osaka, Yokohama, Kobe"), None, "", 13, "+81"),
    Country("KR", "KRW", 1, "ko", (("Co., Ltd.", "Co Ltd", "CO LTD"),),
            _words("Seoul, Busan, Incheon"), None, "", 10, "+82"),
    Country("VN", "VND", 1, "vi", (("Co., Ltd", "Company Limited", "CO LTD"), ("JSC", "J.S.C.")),
            _words("Ho Chi Minh City, Hai Phong, Hanoi"), None, "", 10, "+84"),
    Country("BR", "BRL", 1, "es", (("Ltda.", "Ltda", "LTDA"), _SA),
            _words("São Paulo, Santos, Rio de Janeiro"), None, "", 14, "+55"),
    Country("ZA", "ZAR", 1, "en", (("(Pty) Ltd", "Pty Ltd", "PTY LTD", "Proprietary Limited"),),
            _words("Johannesburg, Durban, Cape Town"), None, "", 10, "+27"),
    Country("RU", "RUB", 1.5, "ru", (("OOO", "ООО", "O.O.O."), ("AO", "АО")),
            _words("Moskva, Sankt-Peterburg, Novorossiysk, Kaliningrad"), None, "", 10, "+7"),
    Country("MA", "MAD", 0.5, "fr", (("SARL", "S.A.R.L."), _SA),
            _words("Casablanca, Tanger, Agadir"), "nnnnnnnnnnnnnnnnnnnnnnnn", "", 8, "+212"),
    Country("NG", "NGN", 0.5, "en", (_LTD,), _words("Lagos, Port Harcourt, Abuja"),
            None, "", 8, "+234"),
    # Secrecy jurisdictions: shells only, never ordinary traders.
    Country("VG", "USD", 0, "en", (_LTD, _INC), _words("Road Town, Tortola"),
            "aaaannnnnnnnnnnnnnnn", "", 7, "+1284"),
    Country("KY", "KYD", 0, "en", (_LTD, _INC), ("George Town",), None, "", 6, "+1345"),
    Country("PA", "PAB", 0, "es", (_SA, _INC), _words("Panamá, Ciudad de Panamá"),
            None, "", 8, "+507"),
    Country("SC", "SCR", 0, "en", (_LTD,), _words("Victoria, Mahé"),
            "aaaannnnnnnnnnnnnnnnnnnnnnnaaa", "", 6, "+248"),
    Country("BZ", "BZD", 0, "en", (_LTD, _INC), ("Belize City",), None, "", 6, "+501"),
)
# fmt: on
COUNTRIES: dict[str, Country] = {c.code: c for c in _TABLE}

# Exchange rates: the detectors' own reference, the ECB euro reference rates of 29 December
# 2023 (queries/reference/ecb_rates.csv, read by queries.fx_reference), so that an amount the
# generator writes in a currency is the amount a detector converts back. A table of our own
# drifted from it (the Turkish lira ~25 % off), and that conversion error alone put ordinary
# traders' prices off the market: false mis-invoicing alerts that no real trader caused. Real
# invoices are converted at the day's rate; the generator keeps the one fixed rate for all of
# 2022-2024 (no drift is drawn), so that what a detector gets wrong on this data is its own.
#
# Currencies the ECB does not quote, as units per US dollar (their euro rate follows from the
# ECB dollar rate). Pegs: PAB 1 (the balboa is at par), BZD 2, KYD 1/1.2 (CI$1 = US$1.20). The
# floating ones (VND, RUB, MAD, NGN, SCR) are rounded end-2023 market rates, good enough for
# plausible amounts: the detectors do not convert these currencies (each is a comparison group
# of its own), so their rate never meets a detector's.
_UNITS_PER_USD_OUTSIDE_ECB: dict[str, float] = {
    "PAB": 1.0, "BZD": 2.0, "KYD": 1 / 1.2,
    "VND": 24_300.0, "RUB": 89.7, "MAD": 9.9, "NGN": 900.0, "SCR": 13.5,
}  # fmt: skip
_UNITS_PER_EUR: dict[str, float] = {
    "EUR": 1.0,
    **ECB_UNITS_PER_EUR,
    **{c: r * ECB_UNITS_PER_EUR["USD"] for c, r in _UNITS_PER_USD_OUTSIDE_ECB.items()},
}
# GBP per unit of each currency the generator writes. Customs values are in the reporting
# country's currency and trade statistics in USD; truth.json carries this table so a reader
# can put every amount in one currency.
GBP_PER_UNIT: dict[str, float] = {
    code: _UNITS_PER_EUR["GBP"] / _UNITS_PER_EUR[code]
    for code in sorted({"USD", *(c.currency for c in _TABLE)})
}

# Countries an ordinary trader may be registered in (secrecy jurisdictions hold shells only).
TRADER_COUNTRIES = tuple(c for c, info in COUNTRIES.items() if info.weight > 0)
NEAR = frozenset({"GB", "IE", "FR", "BE", "NL", "DE", "DK", "CH", "ES", "IT", "PL", "SE", "NO"})

# People: given names by gender, and surnames, per name pool.
FIRST_M: dict[str, tuple[str, ...]] = {
    "en": _words("James, John, David, Michael, Richard, Thomas, Daniel, Paul, Mark, Andrew, "
                 "Stephen, Peter, Robert, Christopher, Simon, Gareth, Ian"),
    "de": _words("Thomas, Michael, Stefan, Andreas, Jürgen, Klaus, Matthias, Uwe, Jörg, Frank, "
                 "Markus, Günter"),
    "fr": _words("Jean, Pierre, François, Nicolas, Jérôme, Laurent, Stéphane, Olivier, "
                 "Sébastien, Philippe"),
    "nl": _words("Jan, Pieter, Dirk, Bram, Joost, Maarten, Sander, Wouter"),
    "it": _words("Marco, Giuseppe, Luca, Alessandro, Francesco, Giovanni, Andrea"),
    "es": _words("José, Antonio, Javier, Manuel, Carlos, Jesús, Sergio, Raúl"),
    "pl": _words("Piotr, Krzysztof, Tomasz, Paweł, Łukasz, Marcin, Michał"),
    "sv": _words("Lars, Anders, Johan, Mikael, Björn, Per, Göran"),
    "fi": _words("Juha, Mikko, Timo, Jari, Antti, Jukka"),
    "da": _words("Søren, Jens, Henrik, Niels, Rasmus, Mads"),
    "no": _words("Ole, Lars, Bjørn, Knut, Arne, Håkon"),
    "zh": _words("Wei, Jun, Hao, Lei, Jian, Ming, Tao, Yong"),
    "in": _words("Rajesh, Amit, Sanjay, Vikram, Rahul, Suresh, Arjun, Anil"),
    "tr": _words("Mehmet, Mustafa, Ahmet, Ali, Hüseyin, Hasan, İbrahim, Murat"),
    "ar": _words("Mohammed, Ahmed, Omar, Khalid, Yousef, Hassan, Abdullah, Tariq"),
    "ru": _words("Aleksandr, Sergei, Dmitri, Andrei, Yuri, Mikhail, Alexei, Nikolai"),
    "ja": _words("Hiroshi, Takashi, Kenji, Satoshi, Daisuke"),
    "ko": _words("Min-jun, Ji-hoon, Sung-min, Dong-hyun"),
    "vi": _words("Minh, Tuan, Hung, Duc, Quang"),
}  # fmt: skip
FIRST_F: dict[str, tuple[str, ...]] = {
    "en": _words("Sarah, Emma, Claire, Rachel, Helen, Laura, Catherine, Joanne, Victoria, "
                 "Amanda, Rebecca, Nicola"),
    "de": _words("Sabine, Petra, Claudia, Anja, Katrin, Jutta, Susanne"),
    "fr": _words("Marie, Nathalie, Isabelle, Sophie, Céline, Hélène, Élodie"),
    "nl": _words("Anna, Sanne, Lotte, Femke, Marieke"),
    "it": _words("Giulia, Francesca, Chiara, Elena, Valentina"),
    "es": _words("María, Carmen, Lucía, Ana, Isabel, Pilar"),
    "pl": _words("Agnieszka, Katarzyna, Małgorzata, Anna, Joanna"),
    "sv": _words("Anna, Maria, Karin, Åsa, Ingrid"),
    "fi": _words("Anna, Tiina, Päivi, Sanna, Minna"),
    "da": _words("Mette, Hanne, Louise, Camilla"),
    "no": _words("Ingrid, Kari, Solveig, Marit"),
    "zh": _words("Li, Fang, Xiu Ying, Na, Min, Jing"),
    "in": _words("Priya, Anjali, Sunita, Deepa, Kavita, Neha"),
    "tr": _words("Ayşe, Fatma, Emine, Zeynep, Elif, Hatice"),
    "ar": _words("Fatima, Aisha, Mariam, Layla, Noura"),
    "ru": _words("Olga, Tatiana, Natalia, Yelena, Irina, Svetlana"),
    "ja": _words("Yuki, Keiko, Akiko, Naomi"),
    "ko": _words("Ji-woo, Seo-yeon, Min-ji"),
    "vi": _words("Lan, Huong, Thu, Mai"),
}  # fmt: skip
SURNAMES: dict[str, tuple[str, ...]] = {
    "en": _words("Smith, Jones, Taylor, Brown, Williams, Wilson, Johnson, Davies, Robinson, "
                 "Wright, Thompson, Evans, Walker, White, Roberts, Green, Hall, Wood, Jackson, "
                 "Clarke, Patel, Khan, Hughes, Edwards, O'Brien, Murphy, Campbell, Stewart, "
                 "Kelly, McDonald, Morgan, Harris"),
    "de": _words("Müller, Schmidt, Schneider, Fischer, Weber, Meyer, Wagner, Becker, Schulz, "
                 "Hoffmann, Schäfer, Koch, Bauer, Richter, Klein, Wolf, Schröder, Neumann"),
    "fr": _words("Martin, Bernard, Dubois, Thomas, Robert, Richard, Petit, Durand, Leroy, "
                 "Moreau, Lefèvre, Girard, Bonnet, Mercier, Lemaître"),
    "nl": _words("de Jong, Jansen, de Vries, van den Berg, van Dijk, Bakker, Visser, Smit, "
                 "Meijer, de Boer, Mulder, Peeters, Claes"),
    "it": _words("Rossi, Russo, Ferrari, Esposito, Bianchi, Romano, Colombo, Ricci, Marino, "
                 "Greco, Bruno, Gallo"),
    "es": _words("García, Fernández, González, Rodríguez, López, Martínez, Sánchez, Pérez, "
                 "Gómez, Martín, Jiménez, Ruiz"),
    "pl": _words("Nowak, Kowalski, Wiśniewski, Wójcik, Kowalczyk, Kamiński, Lewandowski, "
                 "Zieliński, Szymański"),
    "sv": _words("Andersson, Johansson, Karlsson, Nilsson, Eriksson, Larsson, Olsson, Persson, "
                 "Svensson, Lindqvist"),
    "fi": _words("Korhonen, Virtanen, Mäkinen, Nieminen, Mäkelä, Hämäläinen, Laine, Heikkinen"),
    "da": _words("Nielsen, Jensen, Hansen, Pedersen, Andersen, Christensen, Sørensen"),
    "no": _words("Hansen, Johansen, Olsen, Larsen, Andersen, Pedersen, Nilsen, Berg"),
    "zh": _words("Wang, Li, Zhang, Liu, Chen, Yang, Huang, Zhao, Wu, Zhou, Xu, Sun, Ma, Zhu, "
                 "Lin, Guo"),
    "in": _words("Sharma, Patel, Gupta, Singh, Kumar, Shah, Mehta, Reddy, Iyer, Nair, Agarwal, "
                 "Desai"),
    "tr": _words("Yılmaz, Kaya, Demir, Şahin, Çelik, Yıldız, Yıldırım, Öztürk, Aydın, Özdemir, "
                 "Arslan, Doğan"),
    "ar": _words("Al-Mansouri, Al-Hashimi, Haddad, Khoury, Al-Farsi, Nasser, Saleh, Al-Rashid, "
                 "Hamdan, Aziz"),
    "ru": _words("Ivanov, Smirnov, Kuznetsov, Popov, Vasiliev, Petrov, Sokolov, Mikhailov, "
                 "Novikov, Fedorov, Morozov, Volkov"),
    "ja": _words("Sato, Suzuki, Takahashi, Tanaka, Watanabe, Ito, Yamamoto"),
    "ko": _words("Kim, Lee, Park, Choi, Jung, Kang"),
    "vi": _words("Nguyen, Tran, Le, Pham, Hoang, Vu"),
}  # fmt: skip
# Name pools the people of a country are drawn from (a UK population is mixed).
PEOPLE_POOLS: dict[str, tuple[str, ...]] = {
    "en": ("en", "en", "en", "en", "in", "ar", "pl", "zh"),
    "de": ("de", "de", "de", "tr"),
    "fr": ("fr", "fr", "fr", "ar"),
    "nl": ("nl", "nl", "nl", "tr", "ar"),
}
# Transliteration variants of the same name, as different agencies key them in.
TRANSLIT: dict[str, tuple[str, ...]] = {
    "Mohammed": ("Muhammad", "Mohamed", "Mohammad"), "Yousef": ("Yusuf", "Youssef"),
    "Aleksandr": ("Alexander", "Aleksander", "Alexandr"), "Sergei": ("Sergey", "Serguei"),
    "Dmitri": ("Dmitry", "Dmitriy"), "Andrei": ("Andrey",), "Yuri": ("Yury", "Iouri"),
    "Alexei": ("Aleksei", "Alexey"), "Mikhail": ("Michail",), "Tatiana": ("Tatyana",),
    "Natalia": ("Natalya",), "Yelena": ("Elena", "Jelena"), "Hüseyin": ("Huseyin", "Hussein"),
    "İbrahim": ("Ibrahim",), "Khalid": ("Khaled",), "Ahmed": ("Ahmad",),
    "Ivanov": ("Ivanoff",), "Vasiliev": ("Vasilyev", "Wassiljew"), "Fedorov": ("Fyodorov",),
    "Al-Mansouri": ("Al Mansouri", "Almansouri"), "Al-Hashimi": ("Al Hashemi", "Alhashimi"),
    "Al-Rashid": ("Al Rashid", "Alrashid"), "Al-Farsi": ("Al Farsi",),
}  # fmt: skip

# Company name words.
PREFIXES = _words(
    "Atlas, Meridian, Orion, Northgate, Silverline, Bluewater, Crown, Summit, Pioneer, "
    "Evergreen, Harbour, Keystone, Vanguard, Pacific, Continental, Premier, Royal, Golden, "
    "Eastern, Western, Nordic, Baltic, Alpine, Delta, Sigma, Zenith, Phoenix, Falcon, Oakwood, "
    "Cedar, Granite, Coastal, Riverside, Highland, Sterling, Horizon, Liberty, Unity, Apex, "
    "Beacon, Compass, Everest, Monarch, Regent, Trident, Albion, Aurora, Polaris, Sapphire, "
    "Emerald, Kingfisher, Lighthouse, Redwood, Silverstone, Sunrise, Westbrook, Ashford, "
    "Brookfield, Carlton, Fairview, Greenfield, Hillcrest"
)
# Sector words per HS chapter, in English and a few local languages.
SECTOR_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "03": ("Seafood", "Fisheries"), "08": ("Fruit", "Fresh Produce"),
        "09": ("Coffee", "Spices", "Tea"), "10": ("Grain", "Cereals"), "17": ("Sugar",),
        "22": ("Beverages", "Wines"), "27": ("Energy", "Petroleum"), "28": ("Chemicals",),
        "29": ("Chemicals", "Chemical"), "30": ("Pharma", "Pharmaceuticals"),
        "39": ("Plastics", "Polymers"), "40": ("Rubber", "Tyres"), "44": ("Timber", "Wood"),
        "48": ("Paper", "Packaging"), "52": ("Cotton",), "61": ("Textiles", "Apparel"),
        "62": ("Fashion", "Garments"), "64": ("Footwear", "Shoes"), "71": ("Gold", "Jewellery"),
        "72": ("Steel", "Metals"), "73": ("Steel Products", "Metalworks"), "76": ("Aluminium",),
        "84": ("Machinery", "Engineering"), "85": ("Electronics", "Electrical"),
        "87": ("Motors", "Auto Parts", "Automotive"), "90": ("Instruments", "Optics"),
        "94": ("Furniture", "Interiors"), "95": ("Toys", "Games"),
    },
    "de": {
        "44": ("Holz", "Holzhandel"), "61": ("Textil",), "62": ("Mode", "Textil"),
        "72": ("Stahl", "Stahlhandel"), "73": ("Metallbau",), "84": ("Maschinenbau", "Maschinen"),
        "85": ("Elektronik", "Elektrotechnik"), "87": ("Automobil", "Fahrzeugteile"),
        "28": ("Chemie",), "29": ("Chemie",), "22": ("Getränke",), "94": ("Möbel",),
        "09": ("Kaffee", "Gewürze"), "39": ("Kunststoff", "Kunststoffe"),
    },
    "fr": {
        "44": ("Bois",), "61": ("Textiles",), "62": ("Mode", "Confection"),
        "72": ("Aciers", "Métaux"), "84": ("Mécanique", "Machines"), "85": ("Électronique",),
        "22": ("Vins", "Boissons"), "28": ("Chimie",), "29": ("Chimie",),
        "08": ("Primeurs", "Fruits"), "03": ("Marée", "Pêcheries"), "94": ("Meubles",),
    },
    "it": {
        "62": ("Moda", "Tessuti"), "61": ("Tessile",), "84": ("Meccanica", "Macchine"),
        "22": ("Vini", "Bevande"), "94": ("Arredamenti", "Mobili"), "64": ("Calzature",),
        "72": ("Acciai", "Metalli"),
    },
    "es": {
        "08": ("Frutas", "Agrícola"), "22": ("Vinos", "Bebidas"), "03": ("Pescados",),
        "72": ("Aceros",), "62": ("Moda", "Confecciones"), "87": ("Automoción",),
    },
    "sv": {"44": ("Trä", "Timber", "Skog"), "48": ("Papper",), "72": ("Stål",)},
    "fi": {"44": ("Puu", "Timber"), "48": ("Paperi",), "72": ("Teräs",)},
    "tr": {
        "61": ("Tekstil",), "62": ("Tekstil", "Konfeksiyon"), "72": ("Çelik", "Demir"),
        "08": ("Gıda", "Tarım"), "71": ("Kuyumculuk", "Altın"),
    },
    "ru": {
        "72": ("Metall", "Stal"), "27": ("Neft", "Energo"), "44": ("Les", "Lesprom"),
        "10": ("Zerno", "Agro"),
    },
}  # fmt: skip
GENERIC_WORDS = _words(
    "Trading, International, Import Export, Group, Industries, Supply, Distribution, "
    "Solutions, Global, Enterprises"
)
DOMESTIC_WORDS = _words(
    "Services, Consulting, Property, Catering, Retail, Restaurants, Construction, Car Sales, "
    "Care Homes, Cleaning"
)
ABBREVIATIONS: dict[str, str] = {
    "Trading": "TRDG", "International": "INTL", "Import Export": "IMP EXP",
    "Industries": "IND", "Distribution": "DISTR", "Engineering": "ENG", "Enterprises": "ENT",
    "Company": "CO", "Group": "GRP", "Products": "PRODS", "Holdings": "HLDGS",
    "Logistics": "LOGS", "Services": "SVCS",
}  # fmt: skip
STREETS: dict[str, tuple[str, ...]] = {
    "en": _words("High Street, Station Road, Church Lane, Victoria Road, Mill Lane, "
                 "Park Avenue, Dock Road, Commercial Road, Industrial Estate, King Street, "
                 "Queens Road, Bridge Street, Harbour Way, Trade Park"),
    "de": _words("Hauptstraße, Bahnhofstraße, Industriestraße, Hafenstraße, Gewerbepark"),
    "fr": _words("Rue de la République, Avenue Jean Jaurès, Zone Industrielle, Quai du Port"),
    "nl": _words("Havenstraat, Industrieweg, Stationsweg, Kerkstraat"),
    "it": _words("Via Roma, Via Garibaldi, Zona Industriale, Via del Porto"),
    "es": _words("Calle Mayor, Avenida del Puerto, Polígono Industrial, Calle Real"),
    "other": _words("Industrial Zone, Port Road, Free Zone, Business Park, Trade Centre, "
                    "Harbour Road, Main Road"),
}  # fmt: skip


@dataclass(frozen=True)
class Chapter:
    """An HS chapter as a product line: median price per unit and its unit."""

    code: str
    weight: float  # share of traders dealing in it
    price_usd: float  # median unit value in USD per quantity unit
    unit: str  # KGM, NAR (articles) or LTR
    kg_per_unit: float  # net mass of one unit (1 for KGM)
    seasonal_peak: int | None  # month of the yearly peak, or None


# fmt: off
CHAPTERS: dict[str, Chapter] = {c.code: c for c in (
    Chapter("03", 2, 8.0, "KGM", 1, 12), Chapter("08", 3, 1.6, "KGM", 1, 7),
    Chapter("09", 2, 5.5, "KGM", 1, None), Chapter("10", 2, 0.32, "KGM", 1, 9),
    Chapter("17", 1, 0.6, "KGM", 1, None), Chapter("22", 3, 4.0, "LTR", 1.3, 11),
    Chapter("27", 2, 0.75, "KGM", 1, 1), Chapter("28", 2, 1.1, "KGM", 1, None),
    Chapter("29", 3, 3.5, "KGM", 1, None), Chapter("30", 3, 65.0, "KGM", 1, None),
    Chapter("39", 5, 2.6, "KGM", 1, None), Chapter("40", 2, 3.2, "KGM", 1, None),
    Chapter("44", 3, 0.65, "KGM", 1, 5), Chapter("48", 3, 1.2, "KGM", 1, None),
    Chapter("52", 2, 3.0, "KGM", 1, None), Chapter("61", 5, 7.5, "NAR", 0.25, 10),
    Chapter("62", 5, 12.0, "NAR", 0.35, 10), Chapter("64", 3, 14.0, "NAR", 0.9, 9),
    Chapter("71", 0.7, 2500.0, "KGM", 1, None), Chapter("72", 4, 0.9, "KGM", 1, None),
    Chapter("73", 4, 3.5, "KGM", 1, None), Chapter("76", 2, 3.2, "KGM", 1, None),
    Chapter("84", 8, 420.0, "NAR", 18.0, None), Chapter("85", 8, 95.0, "NAR", 2.5, 11),
    Chapter("87", 4, 11500.0, "NAR", 1400.0, 3), Chapter("90", 3, 160.0, "NAR", 1.5, None),
    Chapter("94", 4, 5.5, "KGM", 1, 10), Chapter("95", 3, 9.0, "KGM", 1, 10),
)}
# fmt: on

# Ports of entry for travellers, and where their journeys go.
PORTS = ("LHR", "LGW", "MAN", "STN", "BHX", "EDI", "LTN", "DVR", "GLA", "BRS")
CASH_ROUTES = ("AE", "TR", "ES", "NG", "PK", "IN", "MA", "CN", "US", "FR", "NL", "DE", "CY")
