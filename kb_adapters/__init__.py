"""KB adapters: stream entities from KILT, UMLS-style JSONL, CSV/TSV and native JSONL files."""

from kb_adapters.base import BadRowLog, KBAdapter, ReadOptions, TableColumns

__all__ = ["BadRowLog", "KBAdapter", "ReadOptions", "TableColumns"]
