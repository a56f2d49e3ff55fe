"""Text as files can hold it: Procore's text may carry lone surrogates (halves of a UTF-16 pair),
which JSON allows and UTF-8 cannot encode. Used by every writer of text (CSV, JSON, the warehouse)."""
from __future__ import annotations

import re

# a surrogate encoded anyway ("surrogatepass"): ED A0..BF xx, bytes no valid UTF-8 holds
_SURROGATE_BYTES = re.compile(b"\xed[\xa0-\xbf][\x80-\xbf]")


def encodable(text: str) -> tuple[str, int]:
    """``text`` with every lone surrogate (the only thing UTF-8 cannot encode) as U+FFFD, and how many.
    Looked for in the text's bytes (a search for one byte) rather than its characters (a regex
    class tried at every character, several times slower on a block of a CSV)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        data, n = _SURROGATE_BYTES.subn(b"\xef\xbf\xbd", text.encode("utf-8", "surrogatepass"))
        return data.decode("utf-8"), n
    return text, 0
