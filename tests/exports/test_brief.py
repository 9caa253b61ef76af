"""The HTML case brief: parsed back with lxml.html; self-contained; hostile names inert."""

from __future__ import annotations

from lxml import html

from app.exports.brief import write_brief
from app.exports.model import ExportMaterial
from tests.exports.conftest import NORDWIND, REPORT, SCRIPT_NAME, TXN, material


def _doc(m: ExportMaterial) -> html.HtmlElement:
    return html.fromstring(write_brief(m)["brief.html"])


def _section(doc: html.HtmlElement, name: str) -> html.HtmlElement:
    (found,) = doc.xpath(f"//section[@id='{name}']")
    return found


def test_the_brief_has_a_network_picture_timeline_alerts_and_evidence(
    material: ExportMaterial,
) -> None:
    doc = _doc(material)
    network = _section(doc, "network")
    (svg,) = network.xpath(".//svg")
    assert len(svg.xpath(".//circle")) == len(material.nodes)
    assert len(svg.xpath(".//line")) > 0
    labels = [t.text_content() for t in svg.xpath(".//text")]
    assert "Nordwind Trading GmbH" in labels
    timeline = _section(doc, "timeline")
    rows = timeline.xpath(".//table//tr[td]")
    assert [r.xpath("td")[0].text_content() for r in rows] == ["2024-02-01", "2024-03-01"]
    assert len(timeline.xpath(".//svg//circle")) == len(material.events)
    alerts = _section(doc, "alerts")
    assert "structuring" in alerts.text_content()
    indicator = alerts.xpath(".//table[1]//tr[td]")[0]
    assert [td.text_content() for td in indicator.xpath("td")][:3] == ["transfers", "4.0", "3.0"]
    evidence = _section(doc, "evidence").text_content()
    for node in material.nodes:
        assert node.key in evidence
    assert "str.xml|/reports/report[1]/transaction[1]" in evidence  # record ids
    assert "fiu|str.xml|load-1" in evidence  # sources
    assert "disseminated: AMLD art. 53" in evidence  # the report came by dissemination
    withheld = _section(doc, "withheld").text_content()
    assert "held by the tax administration" in withheld
    assert "Check the Hamburg address" in _section(doc, "notes").text_content()
    assert REPORT in evidence
    assert TXN in evidence
    assert NORDWIND in evidence


def test_a_script_in_a_name_is_shown_as_text_and_never_runs(material: ExportMaterial) -> None:
    raw = write_brief(material)["brief.html"].decode("utf-8")
    assert "<script" not in raw
    assert "&lt;script&gt;" in raw
    doc = _doc(material)
    assert doc.xpath("//script") == []
    assert SCRIPT_NAME in doc.text_content()


def test_the_brief_is_self_contained(material: ExportMaterial) -> None:
    doc = _doc(material)
    # No script, stylesheet, image, font or frame is fetched from anywhere.
    assert doc.xpath("//script | //link | //img | //iframe | //object | //embed") == []
    assert [a for a in doc.xpath("//@src | //@href") if not str(a).startswith("#")] == []
    (csp,) = doc.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")
    assert "default-src 'none'" in csp


def test_a_brief_of_a_big_network_says_what_the_picture_leaves_out() -> None:
    m = material()
    extra = m.nodes[-1]
    m.nodes += [
        extra.model_copy(update={"key": f"company:customs:name:-:n{i}"}) for i in range(130)
    ]
    doc = _doc(m)
    network = _section(doc, "network")
    assert len(network.xpath(".//svg//circle")) == 120
    assert "26 less connected nodes are left out" in " ".join(network.text_content().split())
