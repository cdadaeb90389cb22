from pathlib import Path

import pytest

from entqa_kit.core.config import Recipe
from entqa_kit.training.recipes import apply_overrides, load_recipe

RECIPES = sorted((Path(__file__).parents[1] / "recipes").glob("*.toml"))


@pytest.mark.parametrize("path", RECIPES, ids=[p.stem for p in RECIPES])
def test_every_shipped_recipe_validates(path):
    recipe = load_recipe(path)
    assert isinstance(recipe, Recipe) and recipe.name == path.stem


def test_paper_recipe_matches_the_paper():
    recipe = load_recipe(Path(__file__).parents[1] / "recipes" / "paper-gpu.toml")
    assert (recipe.passages.length, recipe.passages.stride) == (32, 16)
    assert (recipe.reader_train.train_k, recipe.link.test_k, recipe.link.top_p) == (64, 100, 3)
    assert recipe.link.threshold == 0.05 and recipe.retriever.hard_fraction == 0.1


def test_overrides_parse_values():
    values = apply_overrides({"a": {"b": 1}}, ["a.b=2", "a.c=true", "a.d=none", "e.f=text", 'g="quoted"'])
    assert values == {"a": {"b": 2, "c": True, "d": None}, "e": {"f": "text"}, "g": "quoted"}


def test_overrides_of_a_loaded_recipe_are_validated_and_named(tmp_path, tiny_model, write_recipe):
    from entqa_kit.core.errors import EntQAError
    from entqa_kit.training.recipes import load_recipe, overridden

    recipe = load_recipe(write_recipe(tmp_path, tiny_model, tmp_path / "index"))
    assert overridden(recipe, ["reader_train.labelled_repeat=4"], "--set ").reader_train.labelled_repeat == 4
    with pytest.raises(EntQAError) as raised:
        overridden(recipe, ["reader_train.labelled_repeat=0"], "--set ")
    assert raised.value.code == "E040"
    expected = "--set reader_train.labelled_repeat: Input should be greater than or equal to 1"
    assert expected in raised.value.message
