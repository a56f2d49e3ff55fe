"""DrawingML parts for native Excel charts: one chart part per chart, one drawing part per sheet.

The series point at cell ranges of the analysis sheet (``'RFI Analysis'!$B$20:$B$29``), with no
cached values: Excel and LibreOffice read the cells when they draw. Written as Excel writes them
(``c:chartSpace`` with ``c:barChart`` / ``c:lineChart`` / ``c:pieChart``; ``xdr:twoCellAnchor``
with ``xdr:graphicFrame``).
"""
from __future__ import annotations

from xml.sax.saxutils import escape

from openpyxl.utils import quote_sheetname

from ..base import Rect, range_ref

NS_C = "http://schemas.openxmlformats.org/drawingml/2006/chart"
NS_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
CT_CHART = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
CT_DRAWING = "application/vnd.openxmlformats-officedocument.drawing+xml"
REL_CHART = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/chart"
REL_DRAWING = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/drawing"
KINDS = ("column", "bar", "stacked", "line", "pie")
_COLORS = ("4472C4", "ED7D31", "A5A5A5", "FFC000", "5B9BD5", "70AD47")


def ref(sheet: str, rect: Rect) -> str:
    return f"{quote_sheetname(sheet)}!{range_ref(rect, absolute=True)}"


def _title(text: str) -> str:
    return (f'<c:title><c:tx><c:rich><a:bodyPr/><a:p><a:pPr><a:defRPr sz="1200" b="1"/></a:pPr>'
            f'<a:r><a:rPr lang="en-US" sz="1200" b="1"/><a:t>{escape(text)}</a:t></a:r></a:p></c:rich></c:tx>'
            f'<c:overlay val="0"/></c:title>')


def _series(i: int, sheet: str, name: Rect, categories: Rect, values: Rect, kind: str, dates: bool) -> str:
    color = _COLORS[i % len(_COLORS)]
    fill = (f'<c:spPr><a:ln w="28575"><a:solidFill><a:srgbClr val="{color}"/></a:solidFill></a:ln></c:spPr>'
            f'<c:marker><c:symbol val="circle"/><c:size val="5"/></c:marker>' if kind == "line" else
            "" if kind == "pie" else
            f'<c:spPr><a:solidFill><a:srgbClr val="{color}"/></a:solidFill></c:spPr><c:invertIfNegative val="0"/>')
    return (f'<c:ser><c:idx val="{i}"/><c:order val="{i}"/>'
            f'<c:tx><c:strRef><c:f>{escape(ref(sheet, name))}</c:f></c:strRef></c:tx>{fill}'
            + (f'<c:cat><c:numRef><c:f>{escape(ref(sheet, categories))}</c:f></c:numRef></c:cat>' if dates else
               f'<c:cat><c:strRef><c:f>{escape(ref(sheet, categories))}</c:f></c:strRef></c:cat>')
            + f'<c:val><c:numRef><c:f>{escape(ref(sheet, values))}</c:f></c:numRef></c:val>'
            + ('<c:smooth val="0"/>' if kind == "line" else "") + "</c:ser>")


def chart_xml(kind: str, title: str, sheet: str, categories: Rect, series: list[tuple[Rect, Rect]],
              date_format: str | None = None) -> str:
    """A chart part: ``series`` = [(name cell, values range)] over ``categories`` (dates shown
    in ``date_format`` when given)."""
    if kind not in KINDS:
        raise ValueError(f"chart kind {kind!r} (one of {', '.join(KINDS)})")
    sers = "".join(_series(i, sheet, n, categories, v, kind, date_format is not None)
                   for i, (n, v) in enumerate(series))
    axes = ('<c:axId val="500001"/><c:axId val="500002"/>')
    if kind == "pie":
        plot = f'<c:pieChart><c:varyColors val="1"/>{sers}<c:firstSliceAng val="0"/></c:pieChart>'
    elif kind == "line":
        plot = f'<c:lineChart><c:grouping val="standard"/><c:varyColors val="0"/>{sers}<c:marker val="1"/>{axes}</c:lineChart>'
    else:
        grouping = "stacked" if kind == "stacked" else "clustered"
        overlap = '<c:overlap val="100"/>' if kind == "stacked" else ""
        plot = (f'<c:barChart><c:barDir val="{"bar" if kind == "bar" else "col"}"/><c:grouping val="{grouping}"/>'
                f'<c:varyColors val="0"/>{sers}<c:gapWidth val="80"/>{overlap}{axes}</c:barChart>')
    if kind != "pie":
        cat_pos, val_pos = ("l", "b") if kind == "bar" else ("b", "l")
        plot += (f'<c:catAx><c:axId val="500001"/><c:scaling>'
                 f'<c:orientation val="{"maxMin" if kind == "bar" else "minMax"}"/></c:scaling>'
                 f'<c:delete val="0"/><c:axPos val="{cat_pos}"/>'
                 + (f'<c:numFmt formatCode="{escape(date_format)}" sourceLinked="0"/>' if date_format else
                    '<c:numFmt formatCode="General" sourceLinked="1"/>')
                 + f'<c:majorTickMark val="out"/><c:minorTickMark val="none"/><c:tickLblPos val="low"/>'
                 f'<c:crossAx val="500002"/><c:crosses val="autoZero"/><c:auto val="{0 if date_format else 1}"/><c:lblAlgn val="ctr"/>'
                 f'<c:lblOffset val="100"/><c:noMultiLvlLbl val="0"/></c:catAx>'
                 f'<c:valAx><c:axId val="500002"/><c:scaling><c:orientation val="minMax"/></c:scaling>'
                 f'<c:delete val="0"/><c:axPos val="{val_pos}"/><c:majorGridlines/>'
                 f'<c:numFmt formatCode="General" sourceLinked="1"/><c:majorTickMark val="out"/>'
                 f'<c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/><c:crossAx val="500001"/>'
                 f'<c:crosses val="{"max" if kind == "bar" else "autoZero"}"/><c:crossBetween val="between"/></c:valAx>')
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<c:chartSpace xmlns:c="{NS_C}" xmlns:a="{NS_A}" xmlns:r="{NS_R}">'
            f'<c:roundedCorners val="0"/><c:chart>{_title(title)}<c:autoTitleDeleted val="0"/>'
            f'<c:plotArea><c:layout/>{plot}</c:plotArea>'
            f'<c:legend><c:legendPos val="{"r" if kind == "pie" else "b"}"/><c:overlay val="0"/></c:legend>'
            f'<c:plotVisOnly val="1"/><c:dispBlanksAs val="gap"/></c:chart></c:chartSpace>')


def drawing_xml(anchors: list[tuple[Rect, str, str]]) -> str:
    """A drawing part: one chart frame per (cells covered, relationship id, name)."""
    frames = []
    for i, ((r1, c1, r2, c2), rid, name) in enumerate(anchors, start=1):
        frames.append(
            f'<xdr:twoCellAnchor editAs="oneCell">'
            f'<xdr:from><xdr:col>{c1 - 1}</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>{r1 - 1}</xdr:row>'
            f'<xdr:rowOff>0</xdr:rowOff></xdr:from>'
            f'<xdr:to><xdr:col>{c2}</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>{r2}</xdr:row>'
            f'<xdr:rowOff>0</xdr:rowOff></xdr:to>'
            f'<xdr:graphicFrame macro=""><xdr:nvGraphicFramePr><xdr:cNvPr id="{i + 1}" name="{escape(name, {chr(34): "&quot;"})}"/>'
            f'<xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr>'
            f'<xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm>'
            f'<a:graphic><a:graphicData uri="{NS_C}"><c:chart xmlns:c="{NS_C}" r:id="{rid}"/></a:graphicData>'
            f'</a:graphic></xdr:graphicFrame><xdr:clientData/></xdr:twoCellAnchor>')
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<xdr:wsDr xmlns:xdr="{NS_XDR}" xmlns:a="{NS_A}" xmlns:r="{NS_R}">{"".join(frames)}</xdr:wsDr>')
