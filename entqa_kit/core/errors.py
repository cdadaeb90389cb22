"""One catalogue of user-facing errors, each with a stable code.

Every failure a user can cause is an :class:`EntQAError` rendered as one line:
``[E012] what happened; what to do``. The CLI prints it as ``error: ...`` and
exits with status 1.
"""

from __future__ import annotations

from pathlib import Path

from entqa_kit.core.display import visible

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
    "E031": "{path}: index was built with a different {what}: {detail}; {todo}",
    "E032": "{path}: the index build is incomplete ({done}/{total} entities encoded); "
    "rerun the same 'entqa-kit index' command to resume",
    "E033": "{path}: an unfinished build here used different inputs: {detail}; "
    "use another --out directory or pass --overwrite",
    "E034": "unknown index type {index_type!r}; use one of: {known}",
    "E035": "{path}: index files are damaged ({detail}); rebuild the index with "
    "'entqa-kit index KB_FILE --out {path} --overwrite'",
    "E036": "{path}: already holds a complete index of other inputs ({detail}); "
    "pass --overwrite to replace it or use another --out directory",
    # documents
    "E050": "{path}:{line}: document has no {field!r}; add it or pass --skip-bad",
    "E051": "{path}:{line}: mention [{start}, {end}) is outside the text (length {length}); fix its offsets",
    "E052": "{path}:{line}: unexpected AIDA-YAGO2 line ({detail}); check that this is the AIDA-YAGO2 tsv",
    "E053": "{path}:{line}: unexpected PubTator line ({detail}); check that this is a PubTator file",
    "E054": "{path}: unknown document format {fmt!r}; use one of: {known}",
    "E055": "{path}: no documents found{detail}; check the path, --format and --split",
    "E042": "{path}: the model has no trained reader; run 'entqa-kit train --stage reader' (or 'all')",
    "E044": "{source}: no gold mention of the training data resolves to the KB ({docs} documents, {read} "
    "gold mentions read, {resolved} resolved); check --format (e.g. a PubTator file read as text) and "
    "that mention ids are KB ids",
    "E045": "{path}: cannot read the names learnt from labels ({detail}); rerun 'entqa-kit train "
    "--stage names' with the model's recipe, or set link.labelled_names = false",
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
    # more bad input (E070-E089)
    "E070": "{path}:{line}: not valid Unicode text ({detail}); fix the line or pass --skip-bad",
    "E071": "{path}:{line}: a quoted field opens on this line and is never closed, so the {lines:,} "
    "lines after it up to the end of the file were read as one cell; close the quote (write a literal "
    'quote as "")',
    "E072": "{path}: {option} names an existing file, but it must be a directory; give a directory path",
    "E073": "{path}: {option} names an existing directory, but it must be a file; give a file path",
    "E074": "{path}: the model configuration is damaged ({detail}); restore the file, or train or "
    "export the model again",
    "E075": "{path}: the training state is damaged ({detail}); delete {path} and train again "
    "without --resume",
    "E076": "{path}: none of its {count:,} predicted documents matches a document of {data} (prediction "
    "ids such as {examples}); score predictions of these documents (same ids, --format and --split)",
    "E077": "{path}:{line}: predicted mention [{start}, {end}) of document {doc_id!r} is outside its "
    "text (length {length}); fix the offsets or link the documents again",
    "E078": "{path}: broken symbolic link (its target {target} does not exist); fix or remove the link",
    "E079": "{path}: is a directory, not a file; give the {what} file itself",
    "E080": "{path}: cannot be read ({detail}); check that it is a readable file",
    "E081": "{what} is not valid text ({detail}); pass it as UTF-8",
    # first-hour checks (E090-E099)
    "E090": "{path}: no gold mentions in the {documents} read (as {fmt}), so there is nothing to "
    "score; give labelled documents, or name their format with --format (pubtator, aida or jsonl)",
    "E091": "{path}: none of the {mentions:,} gold mentions in the {documents} resolves to an "
    "entity of the index's KB (labels such as {examples}); use the index of the KB the labels come from",
    "E092": "{path}: is the shipped default model inside the installed package; calibrating it in place "
    "would change it for every user: copy it first ('entqa-kit export {path} --out MY_MODEL', then "
    "--model MY_MODEL), pass --no-write, or pass --write-default to change it anyway",
    "E093": "{model}: not an entqa-kit model directory (no entqa_config.json); {hint}",
    "E094": "{path}: already exists; choose a new --out directory or pass --overwrite to replace it",
    "E095": "{path}: column {column!r} not found in the header ({header}), which was read as one "
    "column but contains {delimiter_name}s; the file looks {delimiter_name}-separated: "
    "pass --delimiter {suggestion}",
    # options that cannot apply (E100-E109)
    "E100": "{options} cannot be used {context}; {remedy}",
    # name matching and silver mentions
    "E110": "{path}: is a directory but not an index (no {store}); give a KB file or an index directory",
    "E111": "{path}: no usable entities ({skipped} rows skipped as bad); rerun without --skip-bad "
    "to see the first bad row",
    "E112": "{path}: no KB names left to match after the filters ({detail}); lower --min-chars, "
    "pass --ambiguous all or check the KB's titles and aliases",
    "E113": "{path}: no usable documents ({skipped} skipped as bad); see {sidecar}",
    # serving (E120-E139)
    "E120": "request body is over the limit of {limit:,} bytes (--max-body-bytes); send less per request "
    "or raise the limit",
    "E121": "request has {count:,} documents, over the limit of {limit:,} (--max-docs); split it into "
    "several requests",
    "E122": "request body is not valid JSON ({detail}); send one JSON object",
    "E123": "request body is not valid UTF-8 ({detail}); encode the body as UTF-8",
    "E124": "invalid request: {detail}; see the request schema at /docs",
    "E125": "unknown entity id {entity_id!r}; use an id of the index's KB (POST /search finds them)",
    "E126": "NIF request is not valid Turtle ({detail}); send a NIF 2.0 document as text/turtle",
    "E127": "NIF request has no nif:Context with a nif:isString; send the document as a nif:Context",
    "E128": "NIF phrase {phrase} has offsets [{start}, {end}) outside its context (length {length}); "
    "fix its nif:beginIndex and nif:endIndex",
    "E129": "this linker cannot link given spans (D2KB needs Linker.link_document(..., mentions=...)); "
    "update entqa-kit or use A2KB (send no phrases)",
    "E130": "server busy: {queued:,} documents are queued (limit {limit:,}, --max-queue); retry later",
    "E131": "internal error while serving request {request_id}; the server log has the details",
    "E132": "unsupported Content-Type {content_type!r} for {path}; send {expected}",
    "E133": "{path}: cannot reload the index ({detail}); the server goes on serving the index it had "
    "({kb_size:,} entities): fix the index, then POST /admin/reload again",
    # adapting to a new KB (E160-E169)
    "E160": "{path}: already holds an adaptation run (recipe.toml); pass --resume to continue it, or "
    "choose another --out",
    "E161": "{path}: no KB name was found in its {documents:,} documents, so there are no silver mentions "
    "to train on, and no labelled documents were given; give documents of the KB's domain, lower "
    "--min-chars, or give --labelled",
    # changing an index in place (E150-E159)
    "E150": "{path}: {count:,} of its entities are already in the index {index} ({ids}); pass "
    "--on-duplicate update to re-encode them or --on-duplicate skip to leave them as they are",
    "E151": "{path}: {count:,} of its ids are not in the index {index} ({ids}); fix the ids or pass "
    "--ignore-missing",
    "E152": "{path}: another process is changing this index; wait for it to finish, then rerun",
    "E153": "{path}: no entity ids in the file (one id per line; blank lines and '#' comments are "
    "ignored); give the ids to remove",
    "E154": "{path}: removing these {count:,} entities would leave the index empty; remove fewer, or build "
    "a new index",
    "E155": "{path}: on-duplicate must be one of error, update, skip, got {value!r}; fix the value",
    "E156": "{path}: cannot change this index ({detail}); make the directory writable, or copy the index "
    "and change the copy",
    # scaling out: Ray, torch.distributed, GPUs (E140-E149)
    "E140": "--device {device} was asked for, but {detail}; install torch's CUDA build "
    "(README, 'Scaling out') or pass --device cpu",
    "E141": "Ray is not installed ({detail}); install it with: pip install 'entqa-kit[distributed]'",
    "E142": "cannot start or join the Ray cluster{where} ({detail}); check the address "
    "(host:6379 or ray://host:10001) or drop --ray-address to start a local cluster",
    "E143": "{source}: document {doc_id!r} was not linked: its Ray worker failed {attempts} times "
    "({detail}); rerun the command to retry it",
    "E144": "a Ray task failed on every attempt ({detail}); see the worker logs ('ray logs') and rerun",
    "E145": "distributed training with {nproc} processes failed (exit code {status}); the rank logs are "
    "above; rerun with --resume to continue from the last epoch",
    "E146": "torch.distributed could not start ({detail}); check MASTER_ADDR, MASTER_PORT and the "
    "number of processes",
    "E147": "document {doc_id!r} failed in its Ray worker ({detail}); link it alone without --ray to "
    "see the full error",
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
        """The one-line message; control characters in embedded user text are shown as escapes."""
        return visible(f"[{self.code}] " + CATALOGUE[self.code].format(**self.fields))

    @property
    def line(self) -> int | None:
        line = self.fields.get("line")
        return int(line) if line is not None else None  # type: ignore[arg-type]

    def __str__(self) -> str:
        return self.message


def reason(exc: BaseException) -> str:
    """A one-line reason for a parse or validation failure (the first error of a pydantic
    ValidationError, with its field), for the ``detail`` of a coded error."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            first = errors()[0]
        except Exception:  # not a pydantic error after all
            first = None
        if isinstance(first, dict) and "msg" in first:
            where = ".".join(str(part) for part in first.get("loc", ()))
            more = len(errors()) - 1
            extra = f" (and {more} more)" if more > 0 else ""
            return f"{where}: {first['msg']}{extra}" if where else f"{first['msg']}{extra}"
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
