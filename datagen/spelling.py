"""How agencies spell the same company or person differently.

A registry writes the legal name; customs brokers, bank clerks and tax officers key in what
they see: another form of the legal form (Ltd / Limited / LTD.), abbreviations (TRDG, INTL),
a one-character typo, accents dropped, words swapped, upper case. Most records stay clean: a
minority of entities get one or two variants, and records pick the clean spelling most of the
time, so the variation is realistic rather than uniform noise.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable

from datagen.world import ABBREVIATIONS, TRANSLIT

_KEYBOARD_NEIGHBOURS = {
    "a": "sqz", "b": "vn", "c": "xv", "d": "sf", "e": "wr", "f": "dg", "g": "fh", "h": "gj",
    "i": "uo", "j": "hk", "k": "jl", "l": "k", "m": "n", "n": "bm", "o": "ip", "p": "o",
    "q": "w", "r": "et", "s": "ad", "t": "ry", "u": "yi", "v": "cb", "w": "qe", "x": "zc",
    "y": "tu", "z": "x",
}  # fmt: skip


def strip_accents(text: str) -> str:
    """Accents dropped the way a US-keyboard clerk types them (ß and ø kept as they are)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def typo(rng: random.Random, text: str) -> str:
    """One edit in one word longer than three letters: swap, drop, double or a neighbour key."""
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) > 3 and w.isalpha()]
    if not candidates:
        return text
    i = rng.choice(candidates)
    word = words[i]
    pos = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        word = word[:pos] + word[pos + 1] + word[pos] + word[pos + 2 :]
    elif kind == 1:
        word = word[:pos] + word[pos + 1 :]
    elif kind == 2:
        word = word[:pos] + word[pos] + word[pos:]
    else:
        near = _KEYBOARD_NEIGHBOURS.get(word[pos].lower(), "e")
        sub = rng.choice(near)
        word = word[:pos] + (sub.upper() if word[pos].isupper() else sub) + word[pos + 1 :]
    words[i] = word
    return " ".join(words)


def abbreviate(base: str) -> str | None:
    """The base name with its common words abbreviated, or None when nothing abbreviates."""
    out = base
    for word, short in ABBREVIATIONS.items():
        out = out.replace(word, short)
    return out if out != base else None


class CompanyName:
    """A company's legal name in parts, so variants can recombine them."""

    __slots__ = ("base", "form", "form_first")

    def __init__(self, base: str, form: tuple[str, ...], *, form_first: bool = False) -> None:
        self.base = base
        self.form = form  # the registered legal form first, then its variants
        self.form_first = form_first

    def render(self, base: str | None = None, form: str | None = None) -> str:
        b = self.base if base is None else base
        f = self.form[0] if form is None else form
        if not f:
            return b
        return f"{f} {b}" if self.form_first else f"{b} {f}"

    @property
    def legal(self) -> str:
        return self.render()

    def variant(self, rng: random.Random) -> str:
        """One plausible way another agency writes the name (never the legal name itself)."""
        makers: list[Callable[[], str | None]] = [
            lambda: self.render(form=rng.choice(self.form[1:])) if len(self.form) > 1 else None,
            self._abbreviated,
            lambda: self.render(base=typo(rng, self.base)),
            lambda: strip_accents(self.legal),
            self.legal.upper,
            self._swapped,
            lambda: self.base,
            self._form_moved,
        ]
        weights = [5, 3, 3, 4, 3, 1, 2, 1]
        for _ in range(12):
            (maker,) = rng.choices(makers, weights)
            out = maker()
            if out and out != self.legal:
                return out
        return self.legal.upper()

    def _abbreviated(self) -> str | None:
        short = abbreviate(self.base)
        return self.render(base=short.upper()) if short else None

    def _swapped(self) -> str | None:
        words = self.base.split(" ")
        if len(words) < 2:
            return None
        return self.render(base=" ".join([*words[1:], words[0]]))

    def _form_moved(self) -> str | None:
        if not self.form[0]:
            return None
        other = CompanyName(self.base, self.form, form_first=not self.form_first)
        return other.legal


def person_first_variant(rng: random.Random, first: str) -> str:
    """Another spelling of a given name: a transliteration, an initial, or accents dropped."""
    options = list(TRANSLIT.get(first, ()))
    stripped = strip_accents(first)
    if stripped != first:
        options.append(stripped)
    options.append(first[0] + ".")
    return rng.choice(options)


def person_last_variant(rng: random.Random, last: str) -> str:
    options = list(TRANSLIT.get(last, ()))
    stripped = strip_accents(last)
    if stripped != last:
        options.append(stripped)
    options.append(last.upper())
    if not options or rng.random() < 0.3:
        return typo(rng, last)
    return rng.choice(options)


def full_name(first: str, last: str, style: int = 0) -> str:
    """One name in a single field: 0 plain, 1 SURNAME Given, 2 Surname, Given, 3 G. Surname."""
    if style == 1:
        return f"{last.upper()} {first}"
    if style == 2:
        return f"{last}, {first}"
    if style == 3:
        return f"{first[0]}. {last}"
    return f"{first} {last}"
