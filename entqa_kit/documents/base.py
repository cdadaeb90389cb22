"""What every document reader returns: documents plus resolution counts."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from entqa_kit.core.records import Document


@dataclass
class DocumentSet:
    """Documents read from one source, and how many gold mentions resolved to the KB."""

    documents: list[Document] = field(default_factory=list)
    num_mentions: int = 0
    num_in_kb: int = 0
    unresolved_labels: Counter[str] = field(default_factory=Counter)

    @property
    def num_unresolved(self) -> int:
        return self.num_mentions - self.num_in_kb

    def add(self, document: Document) -> None:
        self.documents.append(document)
        for mention in document.mentions:
            self.num_mentions += 1
            if mention.in_kb:
                self.num_in_kb += 1
            else:
                self.unresolved_labels[mention.label] += 1

    def summary(self) -> str:
        return (
            f"{len(self.documents):,} documents, {self.num_mentions:,} gold mentions, "
            f"{self.num_in_kb:,} in the KB, {self.num_unresolved:,} out of KB"
        )

    def first(self, count: int | None) -> DocumentSet:
        """The first ``count`` documents (all when None), with their counts."""
        if count is None or count >= len(self.documents):
            return self
        subset = DocumentSet()
        for document in self.documents[:count]:
            subset.add(document)
        return subset
