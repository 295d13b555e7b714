"""What a free-text field (a name, a custody record, a reason) may hold.

Control characters are never meant in them, and they break what the text is written into:
a line break in a worker's name ends a calendar property early; an escape code rewrites a
terminal showing the log.
"""

from __future__ import annotations

import unicodedata


def has_control_characters(value: str) -> bool:
    """Whether the text holds a control character (line breaks and tabs included)."""
    return any(unicodedata.category(character) == "Cc" for character in value)


def one_line(value: str | None) -> str:
    """The text with its runs of spaces made one and its ends trimmed."""
    return " ".join(part for part in (value or "").split(" ") if part).strip()
