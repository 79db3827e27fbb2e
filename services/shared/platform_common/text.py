"""Free-text fields (names) refuse control characters, with the offending one named."""

from __future__ import annotations

import unicodedata

from pydantic import AfterValidator

# Cc: C0/C1 controls and DEL; Cs: lone surrogates (JSON "\ud800" escapes); Zl/Zp: line and
# paragraph separators. Bidirectional overrides and isolates (Cf) reorder displayed text
# ("Trojan Source", CVE-2021-42574), so they are refused too; other Cf such as the
# zero-width joiner stay, as scripts and emoji sequences need them.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def refuse_control_characters(value: str) -> str:
    """Return `value` unchanged, or fail naming the first control character and where it is."""
    for position, char in enumerate(value):
        if unicodedata.category(char) in _REFUSED_CATEGORIES or char in _BIDI_CONTROLS:
            name = unicodedata.name(char, "control character")
            raise ValueError(
                f"must not contain control characters: found U+{ord(char):04X} ({name}) at "
                f"position {position}; use printable text without line breaks or tabs"
            )
    return value


NoControlCharacters = AfterValidator(refuse_control_characters)
"""Annotate a `str` field with this to refuse control characters with a clear 422."""
