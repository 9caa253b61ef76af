"""Comparators: one small pure function per feature, returning a comparison level.

Each comparator looks at one feature of two records and says how well they agree, as one of a
few named levels (``exact``, ``close``, ``different``, ``missing``, ...). The model turns each
level into a match weight. A comparator's docstring is the explanation ``iffgraph resolve
explain`` shows next to the level, so it says, in an analyst's words, what each level means.

``missing`` always means "one side does not know": it weighs nothing either way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from resolution.features import COMPANY, PERSON, Record
from resolution.identifiers import Identifier, comparable
from resolution.normalize import form_family, phonetic

MISSING = "missing"
# Similarity cut-offs (0-100 for rapidfuzz ratios, 0-1 for Jaro-Winkler), named in the
# docstrings below.
NAME_CLOSE = 90.0
NAME_SIMILAR = 80.0
SHORT_WORD = 5
TOKEN_PHONETIC = 0.8
ADDRESS_CLOSE = 90.0
ADDRESS_SIMILAR = 75.0


# --- names ---------------------------------------------------------------------------------
def _token_match(a: str, b: str) -> bool:
    """One word written two ways: a typo or two (one for short words), or a phonetic
    variant that also looks alike (Mohammed / Muhammad, Aleksandr / Alexander)."""
    if a == b:
        return True
    edits = DamerauLevenshtein.distance(a, b)
    if edits <= (1 if min(len(a), len(b)) <= SHORT_WORD else 2):
        return True
    return phonetic(a) == phonetic(b) and JaroWinkler.similarity(a, b) >= TOKEN_PHONETIC


def _all_matched(short: Iterable[str], long: list[str]) -> bool:
    pool = list(long)
    for token in short:
        hit = next((t for t in pool if _token_match(token, t)), None)
        if hit is None:
            return False
        pool.remove(hit)
    return True


def _joins(tokens: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The token list with each pair of neighbours written as one word ("al hashimi" ->
    "alhashimi"), for names that agencies split differently."""
    return [
        (*tokens[:i], tokens[i] + tokens[i + 1], *tokens[i + 2 :]) for i in range(len(tokens) - 1)
    ]


def _words_close(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    if len(a) == len(b):
        return _all_matched(a, list(b))
    short, long = (a, b) if len(a) < len(b) else (b, a)
    if len(long) - len(short) == 1:
        return any(_all_matched(short, list(joined)) for joined in _joins(long))
    return False


def company_name(a: Record, b: Record) -> str:
    """Company name, compared on its core words (legal form apart, abbreviations expanded,
    accents and punctuation ignored). exact: the same words, in any order; close: every word
    matches a word of the other name, allowing one typo or a phonetic variant (Akme / Acme),
    or the names are at least 90% alike; similar: 80% alike, or one name's words all appear
    in the other; different: otherwise."""
    if not a.tokens or not b.tokens:
        return MISSING
    if a.tokens == b.tokens or sorted(a.tokens) == sorted(b.tokens):
        return "exact"
    x, y = " ".join(a.tokens), " ".join(b.tokens)
    if _words_close(a.tokens, b.tokens) or fuzz.token_sort_ratio(x, y) >= NAME_CLOSE:
        return "close"
    if fuzz.token_sort_ratio(x, y) >= NAME_SIMILAR or fuzz.token_set_ratio(x, y) >= 100.0:
        return "similar"
    return "different"


def _initial_match(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    pool = list(long)
    for token in short:
        if len(token) == 1:
            hit = next((t for t in pool if t[0] == token), None)
        else:
            hit = next((t for t in pool if _token_match(token, t)), None)
        if hit is None:
            return False
        pool.remove(hit)
    return True


def person_name(a: Record, b: Record) -> str:
    """Person name, compared word by word in any order ("SMITH John" = "John Smith").
    exact: the same words; close: every word matches, allowing a typo, a transliteration
    (Mohammed / Muhammad) or a split surname (Al-Hashimi / Alhashimi); initials: the same
    apart from a given name written as its initial (J. Smith); partial: all words of the
    shorter name are in the longer (a middle name left out); similar: 80% alike; different:
    otherwise."""
    if not a.tokens or not b.tokens:
        return MISSING
    if sorted(a.tokens) == sorted(b.tokens):
        return "exact"
    if _words_close(a.tokens, b.tokens):
        return "close"
    return _person_partly(a.tokens, b.tokens)


def _person_partly(x: tuple[str, ...], y: tuple[str, ...]) -> str:
    short, long = (x, y) if len(x) <= len(y) else (y, x)
    if any(len(t) == 1 for t in (*short, *long)):
        same_length = len(short) == len(long)
        if same_length and (_initial_match(short, long) or _initial_match(long, short)):
            return "initials"
    elif len(short) < len(long) and _all_matched(short, list(long)):
        return "partial"
    if fuzz.token_sort_ratio(" ".join(x), " ".join(y)) >= NAME_SIMILAR:
        return "similar"
    return "different"


# --- identifiers ---------------------------------------------------------------------------
def _close_digits(x: str, y: str) -> bool:
    return DamerauLevenshtein.distance(x, y) <= 2


def identifiers_with(noisy: frozenset[str]) -> Callable[[Record, Record], str]:
    """The identifier comparator, with ``noisy`` schemes (typed by hand, typos expected) that
    count near-equal values as close and never as a conflict."""

    def identifiers(a: Record, b: Record) -> str:
        """Identifiers (tax / VAT, registration, LEI, passport, national id), canonical form.
        strong_agree: a validated identifier is equal on both sides; weak_agree: an equal
        identifier that could not be validated; close: a hand-typed number differs by a typo
        or two; strong_conflict: both have a validated identifier of the same kind and
        country, and they differ (vetoes an automatic link); weak_conflict: both have one of
        the same kind and they differ, at least one unvalidated; missing: no comparable
        identifiers."""
        return identifier_level(a.ids, b.ids, noisy)

    return identifiers


def identifier_level(
    left: tuple[Identifier, ...], right: tuple[Identifier, ...], noisy: frozenset[str]
) -> str:
    if not left or not right:
        return MISSING
    best = MISSING
    rank = {MISSING: 0, "weak_conflict": 1, "strong_conflict": 2, "close": 3}
    for x in left:
        for y in right:
            if not comparable(x, y):
                continue
            if x.value == y.value:
                return "strong_agree" if x.strong and y.strong else "weak_agree"
            if x.scheme in noisy or y.scheme in noisy:
                level = "close" if _close_digits(x.value, y.value) else "weak_conflict"
            elif x.scheme == y.scheme != "id":
                level = "strong_conflict" if x.strong and y.strong else "weak_conflict"
            else:
                continue
            if rank[level] > rank[best]:
                best = level
    return best


# --- places and dates ----------------------------------------------------------------------
def country(a: Record, b: Record) -> str:
    """Country: a company's jurisdiction, a person's nationality (ISO codes). same / different
    / missing."""
    if not a.country or not b.country:
        return MISSING
    return "same" if a.country == b.country else "different"


def legal_form(a: Record, b: Record) -> str:
    """Legal form, canonical (Limited = Ltd = LTD.). same; compatible: different names for the
    same kind of company (Ltd / LLC, S.A. / AG); different: a different kind (Ltd / Sp. z o.o.);
    missing: one name carries no legal form."""
    if not a.form or not b.form:
        return MISSING
    if a.form == b.form:
        return "same"
    fa, fb = form_family(a.form), form_family(b.form)
    return "compatible" if fa is not None and fa == fb else "different"


def _date_close(x: str, y: str) -> bool:
    # ISO dates: one typed digit wrong, two neighbouring digits swapped (also across a
    # separator: 1955-03 typed 1950-53), or day and month swapped.
    if DamerauLevenshtein.distance(x.replace("-", ""), y.replace("-", "")) <= 1:
        return True
    xs, ys = x.split("-"), y.split("-")
    return len(xs) == len(ys) == 3 and xs[0] == ys[0] and xs[1] == ys[2] and xs[2] == ys[1]


def date(a: Record, b: Record) -> str:
    """Date of birth (persons) or incorporation (companies). exact; close: one digit mistyped,
    two digits swapped, or day and month swapped; year: only the year agrees; different;
    missing."""
    if not a.date or not b.date:
        return MISSING
    if a.date == b.date:
        return "exact"
    if _date_close(a.date, b.date):
        return "close"
    if a.date[:4] == b.date[:4]:
        return "year"
    return "different"


def address(a: Record, b: Record) -> str:
    """Registered or reported address (words normalised, street abbreviations expanded), the
    best-matching pair of the two records' addresses. exact: the same words; close: 90% alike
    (a typo, a missing postcode); similar: 75% alike; different; missing."""
    if not a.addresses or not b.addresses:
        return MISSING
    best = 0.0
    for x in a.addresses:
        for y in b.addresses:
            if x == y:
                return "exact"
            best = max(best, fuzz.token_sort_ratio(x, y), fuzz.token_set_ratio(x, y) - 5.0)
    if best >= ADDRESS_CLOSE:
        return "close"
    if best >= ADDRESS_SIMILAR:
        return "similar"
    return "different"


# --- shared contacts -----------------------------------------------------------------------
def _shared(x: tuple[str, ...], y: tuple[str, ...]) -> str:
    if not x or not y:
        return MISSING
    return "same" if set(x) & set(y) else "different"


def phone(a: Record, b: Record) -> str:
    """Phone numbers (E.164). same: a number in common; different: both have numbers, none in
    common; missing."""
    return _shared(a.phones, b.phones)


def email(a: Record, b: Record) -> str:
    """E-mail addresses (lower case). same: an address in common; different: both have
    addresses, none in common; missing."""
    return _shared(a.emails, b.emails)


def account(a: Record, b: Record) -> str:
    """Bank accounts (IBAN or institution and number) held, and for persons also those they
    paid cash into or drew cash from. shared: an account in common; none: no account in
    common (people and firms use several: not evidence against)."""
    return "shared" if set(a.accounts) & set(b.accounts) else "none"


def associates(a: Record, b: Record) -> str:
    """Associates: a company's directors and shareholders, a person's companies (names
    normalised, persons with birth year). shared: one in common; none: none in common."""
    return "shared" if set(a.associates) & set(b.associates) else "none"


# --- the comparisons of each kind ----------------------------------------------------------
@dataclass(frozen=True)
class Comparator:
    """A feature as the model compares it: name, levels in order, function, shown value."""

    name: str
    levels: tuple[str, ...]
    compare: Callable[[Record, Record], str]
    show: Callable[[Record], str]

    @property
    def explanation(self) -> str:
        return " ".join((self.compare.__doc__ or "").split())


def _join(values: Iterable[object]) -> str:
    return "; ".join(str(v) for v in values)


def comparators(kind: str, noisy: frozenset[str] = frozenset()) -> tuple[Comparator, ...]:
    """The comparators of a record kind, in the order explanations list them."""
    ids = Comparator(
        "identifiers",
        ("strong_agree", "weak_agree", "close", "weak_conflict", "strong_conflict", MISSING),
        identifiers_with(noisy),
        lambda r: _join(i.label() for i in r.ids),
    )
    contacts = (
        Comparator(
            "address", ("exact", "close", "similar", "different", MISSING), address,
            lambda r: _join(r.addresses),
        ),
        Comparator("phone", ("same", "different", MISSING), phone, lambda r: _join(r.phones)),
        Comparator("email", ("same", "different", MISSING), email, lambda r: _join(r.emails)),
        Comparator("account", ("shared", "none"), account, lambda r: _join(r.accounts)),
        Comparator(
            "associates", ("shared", "none"), associates, lambda r: _join(r.associates)
        ),
    )  # fmt: skip
    if kind == COMPANY:
        return (
            Comparator(
                "name", ("exact", "close", "similar", "different", MISSING), company_name,
                lambda r: f"{r.name} [{' '.join(r.tokens)}]",
            ),
            Comparator(
                "legal_form", ("same", "compatible", "different", MISSING), legal_form,
                lambda r: r.form or "",
            ),
            ids,
            Comparator(
                "country", ("same", "different", MISSING), country, lambda r: r.country or ""
            ),
            Comparator(
                "date", ("exact", "close", "year", "different", MISSING), date,
                lambda r: r.date or "",
            ),
            *contacts,
        )  # fmt: skip
    if kind == PERSON:
        return (
            Comparator(
                "name",
                ("exact", "close", "initials", "partial", "similar", "different", MISSING),
                person_name,
                lambda r: f"{r.name} [{' '.join(r.tokens)}]",
            ),
            Comparator(
                "date", ("exact", "close", "year", "different", MISSING), date,
                lambda r: r.date or "",
            ),
            ids,
            Comparator(
                "country", ("same", "different", MISSING), country, lambda r: r.country or ""
            ),
            *contacts,
        )  # fmt: skip
    raise ValueError(f"unknown record kind {kind!r}")
