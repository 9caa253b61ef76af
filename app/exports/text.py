"""Text made safe for the formats it lands in: the graph's strings come from hostile sources.

- XML 1.0 cannot carry most control characters; lxml refuses them and ElementTree (which the
  networkx writers use) writes them into files no parser reads back. They are dropped.
- A spreadsheet cell starting with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage return
  before one) is a formula to Excel and LibreOffice: a record name like
  ``=HYPERLINK("http://…")`` would run when an analyst opens the CSV. Such text gets a leading
  apostrophe (OWASP's advice for CSV injection); numbers stay numbers.
"""

from __future__ import annotations

import re

from graph_models.records import Scalar

# Characters XML 1.0 does not allow (everything below 0x20 but tab, newline, return; the
# surrogates; U+FFFE / U+FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def xml_text(value: object) -> str:
    """``value`` as text an XML 1.0 document can hold."""
    return _NOT_XML.sub("", str(value))


def cell_text(value: str) -> str:
    """A text cell that no spreadsheet evaluates as a formula."""
    value = xml_text(value)  # XLSX is XML too, and CSV readers choke on NULs
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def joined(value: Scalar | None) -> str:
    """A property value as one line of text (lists joined with "; ")."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
