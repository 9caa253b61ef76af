"""Exports for FIU liaison officers and case teams: one material, many formats, one manifest.

:mod:`app.exports.material` gathers what the caller may see (through the query layer, so the
compartments are already applied) into an :class:`~app.exports.model.ExportMaterial`; the
writers turn that one model into files (goAML XML, FollowTheMoney JSON lines, GraphML, GEXF,
i2 Analyst's Notebook CSV, CSV / XLSX tables, an HTML case brief) without touching the store;
:mod:`app.exports.bundle` writes the chosen files with a SHA-256 manifest and zips them.
"""
