"""The case brief: one self-contained HTML file (``brief.html``).

It holds a network picture, a timeline, the alerts with their indicators and evidence, an
evidence list with provenance (agencies, sources, record ids) and the hit / no-hit markers
("held by …"); no script, font or stylesheet is fetched, so it opens offline and can be
attached to a letter as it is.

No PDF: the libraries that render HTML with SVG to PDF either need system libraries
(WeasyPrint: Pango, cairo) or do not draw inline SVG (xhtml2pdf); a browser's "print to PDF"
of this file gives the PDF instead.
"""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, StrictUndefined, Template

from app.exports.labels import Names
from app.exports.model import ExportMaterial, Files
from app.exports.picture import network, strip
from app.exports.template import BRIEF
from queries.access import rel_id


@cache
def _template() -> Template:
    # Autoescape on: every string in the brief comes from hostile sources.
    env = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True)
    return env.from_string(BRIEF)


def render_brief(material: ExportMaterial) -> str:
    return _template().render(
        m=material,
        names=Names(material),
        net=network(material),
        strip=strip(material),
        identity=rel_id,
        disseminated={d.key: d for d in material.disseminated},
    )


def write_brief(material: ExportMaterial) -> Files:
    return {"brief.html": render_brief(material).encode("utf-8")}
