"""A table part (``xl/tables/tableN.xml``): its name, range and columns read, and written again
for the range and header a refresh gives it (calculated columns and the person's filter kept)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..base import Rect, range_ref
from .xml import NS_MAIN, attrs, col_of, escape, escape_text, unescape_text, xml_text

REL_TABLE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/table"
CT_TABLE = "application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml"
TABLE_STYLE = "TableStyleMedium2"


@dataclass
class TablePart:
    path: str
    xml: str
    rid: str | None = None
    new_rect: Rect | None = None
    header: list[str] | None = None
    calculated: list[tuple[str, str]] = field(default_factory=list)
    changed: bool = False

    @property
    def name(self) -> str:
        return attrs(re.search(r"<table\b([^>]*)>", self.xml).group(1)).get("displayName", "")

    @property
    def rect(self) -> Rect:
        ref = attrs(re.search(r"<table\b([^>]*)>", self.xml).group(1))["ref"]
        a, _, b = ref.partition(":")
        m1, m2 = re.match(r"([A-Z]+)(\d+)", a), re.match(r"([A-Z]+)(\d+)", b or a)
        return int(m1.group(2)), col_of(m1.group(1)), int(m2.group(2)), col_of(m2.group(1))

    def columns(self) -> list[tuple[str, str | None]]:
        out = []
        for m in re.finditer(r"<tableColumn\b([^>]*?)(?:/>|>(.*?)</tableColumn>)", self.xml, re.S):
            f = re.search(r"<calculatedColumnFormula\b[^>]*>(.*?)</calculatedColumnFormula>", m.group(2) or "", re.S)
            out.append((unescape_text(attrs(m.group(1)).get("name", "")), xml_text(f.group(1)) if f else None))
        return out

    def to_xml(self) -> str:
        r1, c1, r2, c2 = self.new_rect
        ref = range_ref(self.new_rect)
        names = [*(self.header or []), *(n for n, _ in self.calculated)]
        cols = []
        for i, name in enumerate(names, start=1):
            formula = dict(self.calculated).get(name) if i > len(self.header or []) else None
            inner = (f"<calculatedColumnFormula>{escape(formula)}</calculatedColumnFormula>"
                     if formula else "")
            cols.append(f'<tableColumn id="{i}" name="{escape_text(name)}"'
                        + (f">{inner}</tableColumn>" if inner else "/>"))
        xml = self.xml
        same_columns = [n for n, _ in self.columns()] == names
        start = re.search(r"<table\b[^>]*>", xml)
        xml = xml[: start.start()] + re.sub(r'\bref="[^"]*"', f'ref="{ref}"', start.group(0), count=1) + xml[start.end():]
        af = re.search(r"<autoFilter\b[^>]*?(?:/>|>.*?</autoFilter>)", xml, re.S)
        if af:
            keep = af.group(0) if same_columns else f'<autoFilter ref="{ref}"/>'
            keep = re.sub(r'\bref="[^"]*"', f'ref="{ref}"', keep, count=1)
            xml = xml[: af.start()] + keep + xml[af.end():]
        block = f'<tableColumns count="{len(names)}">{"".join(cols)}</tableColumns>'
        xml = re.sub(r"<tableColumns\b.*?</tableColumns>", lambda _: block, xml, count=1, flags=re.S)
        return xml


def new_table_xml(table_id: int, name: str) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<table xmlns="{NS_MAIN}" id="{table_id}" '
            f'name="{name}" displayName="{name}" ref="A1:A2" totalsRowShown="0"><autoFilter ref="A1:A2"/>'
            f'<tableColumns count="1"><tableColumn id="1" name="Column1"/></tableColumns>'
            f'<tableStyleInfo name="{TABLE_STYLE}" showFirstColumn="0" showLastColumn="0" '
            f'showRowStripes="1" showColumnStripes="0"/></table>')

