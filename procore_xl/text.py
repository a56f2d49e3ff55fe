"""Text as files can hold it: Procore's text may carry lone surrogates (halves of a UTF-16 pair),
which JSON allows and UTF-8 cannot encode. Used by every writer of text (CSV, JSON, the warehouse)."""
from __future__ import annotations

import re

_SURROGATES = re.compile("[\ud800-\udfff]")


def encodable(text: str) -> tuple[str, int]:
    """``text`` with every lone surrogate (the only thing UTF-8 cannot encode) as U+FFFD, and how many."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATES.subn("\ufffd", text)
    return text, 0
