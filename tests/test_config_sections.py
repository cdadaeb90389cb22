"""What the reader is, how it is trained and how it links are separate sections; old files still load."""

from __future__ import annotations

import json
import shutil

import pytest

from entqa_kit.core.config import LinkConfig, ReaderConfig, ReaderTrainConfig, Recipe
from entqa_kit.core.errors import EntQAError
from tests.conftest import FIXTURES


def test_a_model_config_written_before_the_split_loads_into_the_three_sections(tmp_path):
    from entqa_kit.models.model_dir import read_model_config

    shutil.copy(FIXTURES / "legacy_entqa_config.json", tmp_path / "entqa_config.json")
    legacy = json.loads((tmp_path / "entqa_config.json").read_text())
    assert "threshold" in legacy["reader"] and "link" not in legacy, "the fixture is the old flat layout"
    config = read_model_config(tmp_path)
    assert config.reader == ReaderConfig(kind="pair", model="minilm", max_entity_tokens=64)
    assert config.reader_train.train_k == legacy["reader"]["train_k"]
    assert config.reader_train.max_train_passages == legacy["reader"]["max_train_passages"]
    assert config.link.threshold == legacy["reader"]["threshold"]
    assert (config.link.test_k, config.link.test_stride, config.link.test_entity_tokens) == (8, 24, 32)
    assert config.recipe.link.test_k == legacy["recipe"]["reader"]["test_k"]


def test_a_flat_reader_section_in_a_recipe_is_split_and_new_sections_win():
    recipe = Recipe.model_validate(
        {
            "data": {"kb": "kb.jsonl", "index": "idx", "train": "t.jsonl"},
            "reader": {"model": "m", "train_k": 3, "test_k": 5, "epochs": 4},
            "link": {"test_k": 7},
        }
    )
    assert recipe.reader.model == "m" and recipe.reader_train.train_k == 3 and recipe.reader_train.epochs == 4
    assert recipe.link.test_k == 7, "an explicit [link] value is not overwritten by the old key"


def test_sections_refuse_each_others_keys():
    with pytest.raises(ValueError):
        LinkConfig(epochs=3)
    with pytest.raises(ValueError):
        ReaderTrainConfig(threshold=0.1)


def test_recipe_override_with_an_unknown_key_is_one_coded_error(tmp_path):
    from entqa_kit.training.recipes import load_recipe
    from tests.conftest import toy_recipe

    path = toy_recipe(tmp_path, tmp_path / "no-model", tmp_path / "idx")
    with pytest.raises(EntQAError) as caught:
        load_recipe(path, ["link.epochs=2"])
    assert caught.value.code == "E040" and "link.epochs" in caught.value.message
