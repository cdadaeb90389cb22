"""Character spans to passage wordpiece positions."""

from __future__ import annotations

from entqa_kit.core.records import Passage


def token_span(passage: Passage, char_start: int, char_end: int) -> tuple[int, int] | None:
    """1-based positions of the first and last wordpiece of ``[char_start, char_end)`` in the passage.

    None when the span is not wholly inside the passage or covers no wordpiece.
    """
    if char_start < passage.char_start or char_end > passage.char_end:
        return None
    inside = [i for i, (s, e) in enumerate(passage.offsets) if s < char_end and e > char_start and e > s]
    if not inside:
        return None
    return inside[0] + 1, inside[-1] + 1
