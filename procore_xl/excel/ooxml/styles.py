"""``xl/styles.xml``: the cell formats a sheet's cells point at, and new ones added on demand."""
from __future__ import annotations

import re

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

from .xml import NS_MAIN, attrs, escape, insert_before

EMPTY_STYLES = (f'<styleSheet xmlns="{NS_MAIN}"><fonts count="1"><font/></fonts><cellXfs count="1"><xf/></cellXfs>'
                f"</styleSheet>")      # what a package without a styles part is read as
_STYLE_ORDER = ["numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs",
                "tableStyles", "colors", "extLst"]
_DXFS = re.compile(r"<dxfs\b[^>]*?(/>|>(.*?)</dxfs>)", re.S)


class Styles:
    """``xl/styles.xml``: the cell formats in use, and new ones (number format, bold) on demand."""

    def __init__(self, xml: str):
        self.xml = xml
        self.codes = dict(BUILTIN_FORMATS)
        for m in re.finditer(r"<numFmt\b([^>]*?)/?>", xml):
            a = attrs(m.group(1))
            self.codes[int(a["numFmtId"])] = a.get("formatCode", "")
        self.fonts = re.findall(r"<font\b[^>]*?(?:/>|>.*?</font>)", self._block("fonts"), re.S)
        self.xfs = re.findall(r"<xf\b[^>]*?(?:/>|>.*?</xf>)", self._block("cellXfs"), re.S)
        self.new_fonts: list[str] = []
        self.new_xfs: list[str] = []
        self.new_codes: dict[int, str] = {}
        self._cache: dict[tuple[str | None, bool], int] = {}

    def _block(self, name: str) -> str:
        m = re.search(rf"<{name}\b[^>]*?(?:/>|>(.*?)</{name}>)", self.xml, re.S)
        return (m.group(1) or "") if m else ""

    def number_format(self, index: int) -> str:
        xfs = self.xfs + self.new_xfs
        if not 0 <= index < len(xfs):
            return "General"
        fid = int(attrs(xfs[index].split(">", 1)[0]).get("numFmtId", 0))
        return self.codes.get(fid, "General")

    def is_date(self, index: int) -> bool:
        return is_date_format(self.number_format(index))

    def __call__(self, fmt: str | None, bold: bool) -> int:
        """The ``cellXfs`` index for (number format, bold), added when missing."""
        key = (fmt, bold)
        if key not in self._cache:
            self._cache[key] = self._find_or_add(fmt, bold)
        return self._cache[key]

    def _format_id(self, fmt: str | None) -> int:
        if fmt in (None, "General"):
            return 0
        for fid, code in self.codes.items():
            if code == fmt:
                return fid
        fid = max([163, *(k for k in self.codes if k >= 164)]) + 1
        self.codes[fid] = self.new_codes[fid] = fmt
        return fid

    def _bold_font(self) -> int:
        fonts = self.fonts + self.new_fonts
        base = fonts[0] if fonts else "<font/>"
        if "<b/>" in base:
            return 0
        bold = base.replace("<font>", "<font><b/>", 1) if base.startswith("<font>") else "<font><b/></font>"
        if bold in fonts:
            return fonts.index(bold)
        self.new_fonts.append(bold)
        return len(fonts)

    def _find_or_add(self, fmt: str | None, bold: bool) -> int:
        fid = self._format_id(fmt)
        font = self._bold_font() if bold else 0
        xfs = self.xfs + self.new_xfs
        for i, xf in enumerate(xfs):
            if not xf.endswith("/>"):
                continue                            # alignment or protection: not a plain format
            a = attrs(xf)
            if (int(a.get("numFmtId", 0)), int(a.get("fontId", 0)), a.get("fillId", "0"),
                    a.get("borderId", "0")) == (fid, font, "0", "0"):
                return i
        apply = (' applyNumberFormat="1"' if fid else "") + (' applyFont="1"' if font else "")
        self.new_xfs.append(f'<xf numFmtId="{fid}" fontId="{font}" fillId="0" borderId="0" xfId="0"{apply}/>')
        return len(xfs)

    @property
    def changed(self) -> bool:
        """Whether a number format, font or cell format was added (else the part is copied)."""
        return bool(self.new_codes or self.new_fonts or self.new_xfs)

    def to_xml(self) -> str:
        xml = self.xml
        if self.new_codes:
            fmts = "".join(f'<numFmt numFmtId="{k}" formatCode="{escape(v)}"/>'
                           for k, v in self.new_codes.items())
            if re.search(r"<numFmts\b[^>]*/>", xml):
                xml = re.sub(r"<numFmts\b[^>]*/>", f"<numFmts>{fmts}</numFmts>", xml, count=1)
            elif "<numFmts" in xml:
                xml = xml.replace("</numFmts>", fmts + "</numFmts>", 1)
            else:
                xml = re.sub(r"(<styleSheet\b[^>]*>)", rf"\1<numFmts>{fmts}</numFmts>", xml, count=1)
        for name, items in (("fonts", self.new_fonts), ("cellXfs", self.new_xfs)):
            if items:
                xml = xml.replace(f"</{name}>", "".join(items) + f"</{name}>", 1)
        for name, pattern in (("numFmts", r"<numFmt\b"), ("fonts", r"<font\b"), ("cellXfs", r"<xf\b")):
            m = re.search(rf"<{name}\b[^>]*>(.*?)</{name}>", xml, re.S)
            if m:
                count = len(re.findall(pattern, m.group(1)))
                start = xml[m.start(): m.start() + len(name) + 1 + m.group(0)[len(name) + 1:].index(">") + 1]
                fixed = re.sub(r'\scount="\d+"', "", start)[:-1] + f' count="{count}">'
                xml = xml[: m.start()] + fixed + xml[m.start() + len(start):]
        return xml


def dxf_count(xml: str | None) -> int:
    """How many differential formats (``dxfs``: what conditional formats apply) ``xml`` has: the
    index the next one gets."""
    m = _DXFS.search(xml or "")
    return len(re.findall(r"<dxf\b", m.group(2) or "")) if m else 0


def with_dxf(xml: str, dxf: str) -> str:
    """``xml`` (``xl/styles.xml``) with the differential format ``dxf`` added last."""
    m = _DXFS.search(xml)
    if m:
        body = (m.group(2) or "") + dxf
        count = len(re.findall(r"<dxf\b", body))
        return xml[: m.start()] + f'<dxfs count="{count}">{body}</dxfs>' + xml[m.end():]
    return insert_before(xml, f'<dxfs count="1">{dxf}</dxfs>', _STYLE_ORDER[_STYLE_ORDER.index("dxfs") + 1:],
                         "</styleSheet>")
