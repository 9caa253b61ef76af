"""A safe, streaming walk over a goAML XML file.

goAML files come from reporting entities, so they are parsed as hostile input: no DTD is
loaded, no entity is substituted, nothing is fetched from the network, a DOCTYPE that
declares entities or points at an external DTD is refused (XXE, billion laughs), libxml2's
own size guards stay on (``huge_tree=False``), and every record (one transaction, or the
header of one report) is limited in elements and text. Memory stays bounded whatever the
file size: an element is cleared, and its finished siblings deleted, as soon as it has been
handed out.

The walk only knows goAML's envelope (``reports`` > ``report`` > header fields and
``transaction`` elements) and turns each finished element into plain data
(:func:`element_data`); what the data means is :mod:`loaders.goaml`'s business.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree
from pydantic import BaseModel, ConfigDict, Field

from loaders.base import LoadError

ROOTS = ("report", "reports")
TRANSACTION = "transaction"

# Elements goAML allows to repeat, as (parent, child); "*" is any parent. They always become
# lists, so a model sees the same shape for one phone as for three. Any other element that
# repeats also becomes a list, which a model expecting one value then rejects.
_REPEATED = frozenset(
    {
        ("addresses", "address"),
        ("phones", "phone"),
        ("report_indicators", "indicator"),
        ("*", "signatory"),
        ("*", "director_id"),
        ("*", "email"),
    }
)


class XmlLimits(BaseModel):
    """Bounds a hostile file cannot exceed; a file that does is refused whole (LoadError).

    A record is one transaction, or the header of one report (all its other children).
    Text counts every character inside the record, whitespace between elements included.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_elements: int = Field(default=10_000, gt=0, description="elements per record")
    max_text: int = Field(default=1_000_000, gt=0, description="characters per record")
    max_transactions: int = Field(default=100_000, gt=0, description="per report")


@dataclass(frozen=True)
class ReportStart:
    path: str
    position: int


@dataclass(frozen=True)
class HeaderField:
    """A finished child of ``report`` that is not a transaction."""

    name: str
    value: Any
    after_transactions: bool


@dataclass(frozen=True)
class TransactionEnd:
    path: str
    data: Any
    first: bool


@dataclass(frozen=True)
class ReportEnd:
    path: str
    position: int


@dataclass(frozen=True)
class Stray:
    """A child of ``reports`` that is not a ``report``: quarantined, never skipped silently."""

    path: str
    name: str


Item = ReportStart | HeaderField | TransactionEnd | ReportEnd | Stray
_NOTHING: list[Item] = []  # returned, never mutated


def local_name(tag: Any) -> str:
    return str(tag).rpartition("}")[2]


def element_data(elem: etree._Element) -> Any:
    """An element as plain data: its stripped text (None when empty) if it has no child
    elements, else a dict of child name -> data (a list where the child repeats)."""
    children = [c for c in elem if isinstance(c.tag, str)]
    name = local_name(elem.tag)
    if not children:
        # itertext skips comments but keeps the text around them.
        text = "".join(str(t) for t in elem.itertext()).strip()
        return text or None
    out: dict[str, Any] = {}
    for child in children:
        merge_child(out, name, local_name(child.tag), element_data(child))
    return out


def merge_child(out: dict[str, Any], parent: str, name: str, value: Any) -> None:
    """Add one child's data to its parent's dict, turning repeated children into lists."""
    if (parent, name) in _REPEATED or ("*", name) in _REPEATED:
        out.setdefault(name, []).append(value)
    elif name in out:
        # element_data never returns a list, so a list here is this merge's own doing.
        previous = out[name]
        out[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
    else:
        out[name] = value


def looks_like_xml(path: Path) -> str | None:
    """None if the file starts like XML, else what it looks like instead."""
    with path.open("rb") as fh:
        head = fh.read(512)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    stripped = head.removeprefix(codecs.BOM_UTF8).lstrip()
    if not stripped:
        return "an empty file"
    if stripped.startswith(b"<"):
        return None
    if head.startswith(b"PK\x03\x04"):
        return "a zip archive or XLSX workbook"
    first_line = stripped.split(b"\n", 1)[0]
    if b"," in first_line or b";" in first_line or b"\t" in first_line:
        return "a CSV or other delimited text file"
    return "a text file"


class _CountingReader(io.RawIOBase):
    """A binary reader that remembers how many bytes it has handed out (for progress)."""

    def __init__(self, path: Path) -> None:
        self._fh = path.open("rb")
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._fh.readinto(buffer) or 0
        self.count += n
        return n

    def close(self) -> None:
        self._fh.close()
        super().close()


class GoamlWalk:
    """One pass over a goAML file, yielding envelope items; LoadError for file problems.

    ``convert=False`` is the cheap pre-pass: transactions are counted and checked against
    the limits but not turned into data.
    """

    def __init__(self, path: Path, limits: XmlLimits, *, convert: bool = True) -> None:
        self.path = path
        self.limits = limits
        self.convert = convert
        self.bytes_read = 0

    def __iter__(self) -> Iterator[Item]:
        reader = _CountingReader(self.path)
        state = _State(self.path, self.limits, self.convert)
        try:
            for event, elem in etree.iterparse(
                reader,
                events=("start", "end"),
                resolve_entities=False,
                load_dtd=False,
                dtd_validation=False,
                no_network=True,
                huge_tree=False,
                remove_comments=True,
                remove_pis=True,
            ):
                self.bytes_read = reader.count
                if event == "start":
                    yield from state.start(elem)
                else:
                    yield from state.end(elem)
        except etree.XMLSyntaxError as e:
            line, column = e.position
            raise LoadError(
                self.path,
                f"malformed XML: {e.msg}",
                location=f"line {line}, column {column}",
            ) from e
        finally:
            reader.close()


class _State:
    """Where the walk is: the depth, the current report and the record being read."""

    def __init__(self, path: Path, limits: XmlLimits, convert: bool) -> None:
        self.path = path
        self.limits = limits
        self.convert = convert
        self.depth = -1
        self.root = ""
        self.report_depth = 0  # 0 when the root is a single <report>, 1 under <reports>
        self.position = 0
        self.report_path = ""
        self.transactions = 0
        self.strays: dict[str, int] = {}
        self.in_record: str | None = None  # "transaction", "header" or "stray"
        self.record = _Budget(limits, path)
        self.header = _Budget(limits, path)

    def _budget(self) -> _Budget:
        return self.header if self.in_record == "header" else self.record

    def start(self, elem: etree._Element) -> list[Item]:
        self.depth += 1
        if self.in_record is not None and self.depth > self.report_depth + 1:
            self._budget().element(elem)  # the hot path: deep inside a record
            return _NOTHING
        name = local_name(elem.tag)
        items: list[Item] = []
        if self.depth == 0:
            self.root = _check_root(self.path, elem, name)
            self.report_depth = 0 if self.root == "report" else 1
        if self.depth == self.report_depth:
            if name == "report":
                self.position += 1
                self.transactions = 0
                self.report_path = (
                    "/report" if self.report_depth == 0 else f"/reports/report[{self.position}]"
                )
                self.header.reset(f"{self.report_path} (its header)")
                items.append(ReportStart(self.report_path, self.position))
            else:
                self.strays[name] = self.strays.get(name, 0) + 1
                self.in_record = "stray"
                self.record.reset(f"/{self.root}/{name}[{self.strays[name]}]")
        elif self.depth == self.report_depth + 1 and self.in_record is None:
            if name == TRANSACTION:
                self._next_transaction(elem)
            else:
                self.in_record = "header"
        if self.in_record is not None:
            self._budget().element(elem)
        return items

    def _next_transaction(self, elem: etree._Element) -> None:
        self.transactions += 1
        if self.transactions > self.limits.max_transactions:
            raise LoadError(
                self.path,
                f"{self.report_path} has more than {self.limits.max_transactions}"
                " transactions (the max_transactions limit)",
                location=f"line {elem.sourceline}",
            )
        self.in_record = "transaction"
        self.record.reset(f"{self.report_path}/transaction[{self.transactions}]")

    def end(self, elem: etree._Element) -> list[Item]:
        kind = self.in_record
        if kind is not None:
            self._budget().text(elem)
            if self.depth > self.report_depth + 1:  # the hot path: deep inside a record
                if kind == "stray" or (kind == "transaction" and not self.convert):
                    elem.clear()  # never converted: free each descendant once counted
                self.depth -= 1
                return _NOTHING
        name = local_name(elem.tag)
        items: list[Item] = []
        if self.depth == self.report_depth + 1 and kind in ("transaction", "header"):
            if kind == "transaction":
                data = element_data(elem) if self.convert else None
                items.append(TransactionEnd(self.record.where, data, self.transactions == 1))
            else:
                items.append(HeaderField(name, element_data(elem), self.transactions > 0))
            self.in_record = None
            _release(elem)
        elif self.depth == self.report_depth and kind == "stray":
            items.append(Stray(self.record.where, name))
            self.in_record = None
            _release(elem)
        elif self.depth == self.report_depth and name == "report":
            items.append(ReportEnd(self.report_path, self.position))
            _release(elem)
        self.depth -= 1
        return items


def _check_root(path: Path, elem: etree._Element, name: str) -> str:
    """Refuse entity-declaring or external DTDs and roots that are not goAML's."""
    # lxml-stubs lack DTD.iterentities and DocInfo.system_url, hence Any.
    info: Any = elem.getroottree().docinfo
    dtd: Any = info.internalDTD
    entities = sorted({str(e.name) for e in dtd.iterentities()}) if dtd is not None else []
    if entities or info.system_url or info.public_id:
        what = (
            f"declares entities ({', '.join(entities[:5])})"
            if entities
            else f"points at an external DTD ({info.system_url or info.public_id})"
        )
        raise LoadError(
            path,
            f"refused: the DOCTYPE {what}; goAML files need no DTD, and entities are how"
            " XML external-entity and entity-expansion attacks work",
            location="DOCTYPE",
        )
    if name not in ROOTS:
        raise LoadError(
            path,
            f"not a goAML XML file: the root element is <{name}>, expected <report> or <reports>",
            location=f"line {elem.sourceline}",
        )
    return name


class _Budget:
    """Counts the elements and characters of text of one record against the limits."""

    def __init__(self, limits: XmlLimits, path: Path) -> None:
        self.limits = limits
        self.path = path
        self.where = ""
        self.elements = 0
        self.chars = 0

    def reset(self, where: str) -> None:
        self.where = where
        self.elements = 0
        self.chars = 0

    def element(self, elem: etree._Element) -> None:
        self.elements += 1
        if self.elements > self.limits.max_elements:
            raise LoadError(
                self.path,
                f"{self.where} has more than {self.limits.max_elements} elements"
                " (the max_elements limit)",
                location=f"line {elem.sourceline}",
            )

    def text(self, elem: etree._Element) -> None:
        self.chars += len(elem.text or "") + len(elem.tail or "")
        if self.chars > self.limits.max_text:
            raise LoadError(
                self.path,
                f"{self.where} has more than {self.limits.max_text} characters of text"
                " (the max_text limit)",
                location=f"line {elem.sourceline}",
            )


def _release(elem: etree._Element) -> None:
    """Free a handled element and the finished siblings before it (streaming idiom)."""
    elem.clear()  # tail too: lxml clears it by default
    parent = elem.getparent()
    if parent is not None:
        while elem.getprevious() is not None:
            del parent[0]
