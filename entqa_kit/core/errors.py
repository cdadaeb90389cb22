"""One catalogue of user-facing errors, each with a stable code.

Every failure a user can cause is an :class:`EntQAError` rendered as one line:
``[E012] what happened; what to do``. The CLI prints it as ``error: ...`` and
exits with status 1.
"""

from __future__ import annotations

from pathlib import Path

CATALOGUE: dict[str, str] = {
    # input files
    "E001": "{path}: file not found; check the path",
    "E002": "{path}: the file is empty; give a file with at least one record",
    "E003": "{path}:{line}: not valid UTF-8 ({detail}); re-encode the file as UTF-8",
    "E004": "{path}:{line}: malformed JSON ({detail}); fix the line or pass --skip-bad",
    "E005": "{path}:{line}: truncated last line (no newline, invalid JSON); the file was cut off, "
    "re-export it or pass --skip-bad",
    "E006": "{path}:{line}: record has no title (field {field!r}); add one or pass --skip-bad",
    "E007": "{path}:{line}: duplicate id {entity_id!r}, first seen on line {first_line}; "
    "ids must be unique, fix one of them or pass --skip-bad",
    "E008": "{path}:{line}: record has no id (field {field!r}); add one or pass --skip-bad",
    "E009": "{path}:{line}: expected a JSON object, got {kind}; fix the line or pass --skip-bad",
    "E010": "{path}:{line}: field {field!r} must be {expected}, got {kind}; fix it or pass --skip-bad",
    "E011": "{path}: unknown KB format {fmt!r}; use one of: {known}",
    "E012": "{path}: cannot tell the KB format from the extension or the first record; "
    "pass --format with one of: {known}",
    "E013": "{path}: column {column!r} not found in the header ({header}); "
    "name an existing column with {option}",
    "E014": "{path}:{line}: row has {got} columns but the header has {expected}; "
    "fix the row or pass --skip-bad",
    "E015": "{path}: no usable records ({skipped} skipped as bad); see {sidecar}",
    "E016": "KB adapter plug-in {name!r} ({target}) failed to load ({reason}); fix or uninstall the "
    "package that registers it; the built-in formats still work",
    "E017": "{path}: is a directory, not a file; give the KB file itself",
    # models
    "E020": "model {model!r} is neither a local directory nor a cached Hugging Face id "
    "(no network here); give a path to a model directory",
    "E021": "model {model!r} could not be loaded ({detail}); give a transformers model "
    "directory with safetensors weights and a fast tokenizer",
    "E022": "unknown pooling {pooling!r}; use 'cls' or 'mean'",
    "E023": "{path}: the shipped default model is missing (an install without package data?); "
    "reinstall entqa-kit or pass --model",
    # index
    "E030": "{path}: not an index directory (no manifest.json); build one with 'entqa-kit index'",
    "E031": "{path}: index was built with a different {what} ({stored} != {given}); "
    "rebuild the index with 'entqa-kit index' or use the matching {what}",
    "E032": "{path}: the index build is incomplete ({done}/{total} entities encoded); "
    "rerun the same 'entqa-kit index' command to resume",
    "E033": "{path}: an unfinished build here used a different {what} ({stored} != {given}); "
    "use another --out directory or pass --overwrite",
    "E034": "unknown index type {index_type!r}; use one of: {known}",
    "E035": "{path}: index files are damaged ({detail}); rebuild the index",
    "E036": "{path}: already holds a complete index for other inputs; pass --overwrite to replace it",
    # documents
    "E050": "{path}:{line}: document has no {field!r}; add it or pass --skip-bad",
    "E051": "{path}:{line}: mention [{start}, {end}) is outside the text (length {length}); fix its offsets",
    "E052": "{path}:{line}: unexpected AIDA-YAGO2 line ({detail}); check that this is the AIDA-YAGO2 tsv",
    "E053": "{path}:{line}: unexpected PubTator line ({detail}); check that this is a PubTator file",
    "E054": "{path}: unknown document format {fmt!r}; use one of: {known}",
    "E055": "{path}: no documents found{detail}; check the path, --format and --split",
    "E042": "{path}: the model has no trained reader; run 'entqa-kit train --stage reader' (or 'all')",
    "E043": "{model}: the reader and the retriever use different wordpiece vocabularies; "
    "use a reader whose tokenizer matches the retriever's",
    # linking
    "E060": "{failed} of {total} documents failed and were skipped (listed above); "
    "fix them and link those again",
    "E061": "{source}: document {doc_id!r} is empty; nothing to link",
    "E062": "{source}: document {doc_id!r} has {chars:,} characters, over --max-chars {limit:,}; "
    "split it or raise the limit",
    "E063": "{data}: no predicted span scored above the floor {floor:g}, so there is no threshold to "
    "choose; lower --floor or check that the data has gold mentions the model can find",
    # configuration
    "E040": "invalid configuration: {detail}; fix the value",
    "E041": "{what} must be {expected}, got {value!r}; fix the value",
}


class EntQAError(Exception):
    """A user-facing error with a catalogue code.

    ``EntQAError("E004", path=p, line=3, detail="...")`` renders as
    ``[E004] p:3: malformed JSON (...); ...``.
    """

    def __init__(self, code: str, **fields: object) -> None:
        if code not in CATALOGUE:
            raise KeyError(f"unknown error code {code}")
        self.code = code
        self.fields = {k: str(v) if isinstance(v, Path) else v for k, v in fields.items()}
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return f"[{self.code}] " + CATALOGUE[self.code].format(**self.fields)

    @property
    def line(self) -> int | None:
        line = self.fields.get("line")
        return int(line) if line is not None else None  # type: ignore[arg-type]

    def __str__(self) -> str:
        return self.message
