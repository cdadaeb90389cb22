"""What the joint reader reads of each candidate: title wordpieces, then the first description ones."""

from __future__ import annotations

from collections.abc import Iterable

from entqa_kit.kb.store import KnowledgeBase


class CandidateTokenCache:
    """Wordpieces of ``title`` (cut to ``title_tokens``) + ``description`` (cut), per KB row, made once."""

    def __init__(self, kb: KnowledgeBase, tokenizer, title_tokens: int, description_tokens: int) -> None:
        self.kb, self.tokenizer = kb, tokenizer
        self.title_tokens, self.description_tokens = title_tokens, description_tokens
        self._cache: dict[int, list[int]] = {}

    def __getitem__(self, row: int) -> list[int]:
        if row not in self._cache:
            self.fill([row])
        return self._cache[row]

    def __len__(self) -> int:
        return len(self._cache)

    def fill(self, rows: Iterable[int]) -> None:
        missing = sorted({int(r) for r in rows} - self._cache.keys())
        if not missing:
            return
        entities = self.kb.by_rows(missing)
        titles = self.tokenizer([e.title for e in entities], add_special_tokens=False)["input_ids"]
        if self.description_tokens:
            chars = 16 * self.description_tokens  # enough text for the wordpieces kept
            texts = [(e.description or "")[:chars] for e in entities]
            descriptions = self.tokenizer(texts, add_special_tokens=False)["input_ids"]
        else:
            descriptions = [[] for _ in entities]
        for row, title, description in zip(missing, titles, descriptions):
            self._cache[row] = title[: self.title_tokens] + description[: self.description_tokens]
