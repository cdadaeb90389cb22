"""The ``entqa-kit`` Typer app. Commands import their heavy parts lazily."""

from __future__ import annotations

import typer

from entqa_kit import __version__
from entqa_kit.cli.adapt_cmd import adapt_cli
from entqa_kit.cli.calibrate_cmd import calibrate_cli
from entqa_kit.cli.evaluate_cmd import evaluate_cli
from entqa_kit.cli.export_cmd import export_cli
from entqa_kit.cli.index_group import index_app
from entqa_kit.cli.link_cmd import link_cli
from entqa_kit.cli.search_cmd import search_cli
from entqa_kit.cli.serve_cmd import serve_cli
from entqa_kit.cli.silver_cmd import silver_cli
from entqa_kit.cli.train_cmd import train_cli

app = typer.Typer(
    name="entqa-kit",
    help="EntQA entity linking for your own knowledge base: index, train, link, evaluate, calibrate.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(index_app, name="index")
app.command("search")(search_cli)
app.command("serve")(serve_cli)
app.command("train")(train_cli)
app.command("link")(link_cli)
app.command("evaluate")(evaluate_cli)
app.command("calibrate")(calibrate_cli)
app.command("export")(export_cli)
app.command("silver")(silver_cli)
app.command("adapt")(adapt_cli)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"entqa-kit {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """EntQA entity linking for your own knowledge base."""
