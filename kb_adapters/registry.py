"""Compatibility re-export: adapter discovery lives in :mod:`entqa_kit.kb.registry`."""

from entqa_kit.kb.registry import ENTRY_POINT_GROUP, available_adapters, broken_plugins, get_adapter

__all__ = ["ENTRY_POINT_GROUP", "available_adapters", "broken_plugins", "get_adapter"]
