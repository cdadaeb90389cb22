"""Say what differs between the encoder an index was built with and the one given now.

Fingerprints are hashes; to name the difference, an encoder fingerprint carries its parts
(model name, ``weights`` and ``tokenizer`` hashes, text settings) and the manifest stores them.
Indexes built before the parts were stored fall back to the manifest's encoder config.
"""

from __future__ import annotations

from entqa_kit.core.config import EncoderConfig

SETTINGS = ("pooling", "normalize", "max_entity_tokens", "include_aliases", "max_aliases")


def fingerprint_parts(fingerprint: object) -> dict[str, object] | None:
    """The parts an encoder fingerprint carries (None for a bare string)."""
    parts = getattr(fingerprint, "parts", None)
    return dict(parts) if isinstance(parts, dict) else None


def _stored_parts(stored_parts: dict | None, config: EncoderConfig | None) -> dict[str, object]:
    if stored_parts:
        return dict(stored_parts)
    if config is None:
        return {}
    known = {"model": config.model} | {name: getattr(config, name) for name in SETTINGS}
    return {k: v for k, v in known.items() if v is not None}


def encoder_differences(
    stored_parts: dict | None,
    stored_config: EncoderConfig | None,
    given: object,
    stored_fingerprint: str,
) -> str:
    """``"pooling 'mean' in the index, 'cls' now; max_entity_tokens 64 in the index, 32 now"``."""
    stored = _stored_parts(stored_parts, stored_config)
    now = fingerprint_parts(given) or {}
    found = []
    model_then, model_now = stored.get("model"), now.get("model")
    for part, label in (("weights", "encoder weights"), ("tokenizer", "tokenizer files")):
        if part in stored and part in now and stored[part] != now[part]:
            if model_then == model_now:
                found.append(f"the {label} of {model_now!r} changed since the build")
            else:
                found.append(f"{label} ({model_then!r} in the index, {model_now!r} now)")
    for name in SETTINGS:
        if name in stored and name in now and stored[name] != now[name]:
            found.append(f"{name} {stored[name]!r} in the index, {now[name]!r} now")
    if not found and model_then is not None and model_now is not None and model_then != model_now:
        found.append(f"encoder {model_then!r} in the index, {model_now!r} now")
    if not found:
        found.append(f"encoder weights or tokenizer (fingerprint {stored_fingerprint} != {given})")
    return "; ".join(found)


def input_differences(
    *,
    stored_model: str,
    given_model: object,
    stored_parts: dict | None,
    stored_config: EncoderConfig | None,
    stored_kb: str,
    given_kb: str,
    stored_source: str | None,
    given_source: object,
    stored_index_type: str | None = None,
    given_index_type: str | None = None,
    stored_alias_rows: int = 0,
    given_alias_rows: int = 0,
) -> str:
    """What differs between the inputs of a build found in a directory and those of this one."""
    found = []
    if stored_kb != given_kb:
        source = f"{stored_source} then, {given_source} now" if stored_source else f"now {given_source}"
        found.append(f"KB file content ({source})")
    if stored_model != given_model:
        found.append(encoder_differences(stored_parts, stored_config, given_model, stored_model))
    if stored_index_type is not None and stored_index_type != given_index_type:
        found.append(f"index type {stored_index_type!r} in the index, {given_index_type!r} now")
    if stored_alias_rows != given_alias_rows:
        found.append(f"alias rows {stored_alias_rows} in the index, {given_alias_rows} now")
    return "; ".join(found) or "no difference found"
