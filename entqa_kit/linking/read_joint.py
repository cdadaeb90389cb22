"""Reading with the joint reader: one pass per passage with all its candidates."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from entqa_kit.core.config import LinkConfig, PassageConfig, ReaderConfig
from entqa_kit.core.device import autocast
from entqa_kit.core.records import Passage
from entqa_kit.kb.store import KnowledgeBase
from entqa_kit.linking.positions import token_span
from entqa_kit.reading.candidates import CandidateTokenCache
from entqa_kit.reading.reader_io import ReaderBundle
from entqa_kit.reading.spans import ScoredSpan


class JointReading:
    """Lays out each passage with its candidates, reads batches of similar length, decodes spans."""

    def __init__(
        self,
        reader: ReaderBundle,
        reader_config: ReaderConfig,
        config: LinkConfig,
        kb: KnowledgeBase,
        passage_config: PassageConfig,
        trained_slots: int | None = None,
    ) -> None:
        from entqa_kit.reading.joint import marker_token_ids

        self.trained_slots = trained_slots

        self.reader, self.config, self.kb = reader, config, kb
        most = config.test_k + (config.name_candidates if config.candidates == "dense+names" else 0)
        if most > reader_config.max_candidates:
            from entqa_kit.core.errors import EntQAError

            detail = (
                f"{most} candidates per passage > the joint reader's {reader_config.max_candidates} markers"
            )
            raise EntQAError("E040", detail=detail)
        self.entity_tokens = CandidateTokenCache(
            kb,
            reader.tokenizer,
            reader_config.candidate_title_tokens,
            reader_config.candidate_description_tokens,
        )
        self.markers = marker_token_ids(reader.tokenizer, reader_config.max_candidates + 1)

    def _candidates(self, rows: np.ndarray, read: np.ndarray) -> list[list[int]]:
        """Each passage's candidates: the dense top-K, then any KB-name matches (columns past K).

        The reader only ever saw ``trained_slots`` markers in training, so a longer list keeps the
        name matches and the best dense candidates that fit, as training did (names before the
        dense tail)."""
        k = self.config.test_k
        per_passage = []
        for found, keep in zip(rows, read):
            dense = [int(r) for r, ok in zip(found[:k], keep[:k]) if ok]
            names = [int(r) for r, ok in zip(found[k:], keep[k:]) if ok]
            if self.trained_slots is not None and len(dense) + len(names) > self.trained_slots:
                names = names[: self.trained_slots]
                dense = dense[: self.trained_slots - len(names)]
            per_passage.append(dense + names)
        self.entity_tokens.fill([r for c in per_passage for r in c])
        return per_passage

    def _batches(self, passages: Sequence[Passage], candidates: list[list[int]], batch_size: int):
        """Yield ``(indices, inputs)`` over passages, batched by input length, on the reader's device."""
        from entqa_kit.reading.joint import batch_layouts, joint_layout

        layouts = [
            joint_layout(p, [self.entity_tokens[r] for r in c], self.markers, self.reader.tokenizer)
            for p, c in zip(passages, candidates)
        ]
        order = np.argsort([len(x.input_ids) for x in layouts], kind="stable")
        pad = self.reader.tokenizer.pad_token_id or 0
        step = max(1, batch_size // 4)  # a joint input is several pair inputs long
        device = self.reader.device
        for begin in range(0, len(order), step):
            chunk = order[begin : begin + step]
            yield chunk, batch_layouts([layouts[i] for i in chunk], pad).to(device)

    def _autocast(self):
        return autocast(self.reader.device, enabled=self.reader.compute_dtype == "bfloat16")

    def spans(
        self, passages: list[Passage], rows: np.ndarray, read: np.ndarray, batch_size: int, profile: Counter
    ) -> list[tuple[int, ScoredSpan]]:
        """``(passage index, span)`` for every span kept above the threshold."""
        import torch

        from entqa_kit.reading.joint import decode_joint

        candidates = self._candidates(rows, read)
        found: list[tuple[int, int, int, int, float]] = []
        with torch.inference_mode(), self._autocast():
            for chunk, inputs in self._batches(passages, candidates, batch_size):
                profile["passes"] += len(chunk)
                decoded = decode_joint(
                    self.reader.model,
                    inputs,
                    self.config.min_start_probability,
                    self.config.max_span_tokens,
                    self.config.threshold,
                )
                found += [(int(chunk[s.example]), s.start, s.end, s.slot, s.score) for s in decoded]
        ids = self.kb.ids_of_rows({candidates[p][slot - 1] for p, _, _, slot, _ in found})
        out = []
        for p, start, end, slot, score in found:
            offsets = passages[p].offsets
            entity = ids[candidates[p][slot - 1]]
            out.append((p, ScoredSpan(offsets[start - 1][0], offsets[end - 1][1], entity, score)))
        return out

    def given_spans(
        self,
        passages: list[Passage],
        rows: np.ndarray,
        read: np.ndarray,
        mentions: Sequence[tuple[int, int]],
        batch_size: int,
        profile: Counter,
    ) -> list[ScoredSpan]:
        """Each candidate's entity probability at each given span, in every passage that holds it."""
        import torch

        candidates = self._candidates(rows, read)
        wanted = {
            p: [(m, pos) for m in mentions if (pos := token_span(passage, *m)) is not None]
            for p, passage in enumerate(passages)
        }
        keep = [p for p in range(len(passages)) if wanted[p]]
        found: list[tuple[tuple[int, int], int, int, float]] = []
        model = self.reader.model
        with torch.inference_mode(), self._autocast():
            sub_passages = [passages[p] for p in keep]
            for chunk, inputs in self._batches(sub_passages, [candidates[p] for p in keep], batch_size):
                profile["passes"] += len(chunk)
                hidden = model.hidden_states(inputs)
                items = [(row, m, pos) for row, i in enumerate(chunk) for m, pos in wanted[keep[i]]]
                if not items:
                    continue
                device = hidden.device
                rows_t = torch.tensor([row for row, _, _ in items], device=device)
                starts = torch.tensor([pos[0] for _, _, pos in items], device=device)
                ends = torch.tensor([pos[1] for _, _, pos in items], device=device)
                logits = model.entity_logits(hidden, inputs, rows_t, starts, ends)
                probability = logits.softmax(-1).float().cpu()
                for (row, mention, _), probs in zip(items, probability):
                    p = keep[int(chunk[row])]
                    found += [
                        (mention, p, slot, float(probs[slot])) for slot in range(1, len(candidates[p]) + 1)
                    ]
        ids = self.kb.ids_of_rows({candidates[p][slot - 1] for _, p, slot, _ in found})
        return [ScoredSpan(m[0], m[1], ids[candidates[p][slot - 1]], s) for m, p, slot, s in found]
