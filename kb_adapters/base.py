"""The adapter surface, re-exported for plug-ins: the protocol, read options and the bad-row log.

The definitions live in the package's lower layers (``entqa_kit.kb.protocol``,
``entqa_kit.io``); adapters import them from here or from there.
"""

from entqa_kit.io.bad_rows import BadRow, BadRowLog
from entqa_kit.io.read_options import ReadOptions, TableColumns
from entqa_kit.kb.protocol import KBAdapter

__all__ = ["BadRow", "BadRowLog", "KBAdapter", "ReadOptions", "TableColumns"]
