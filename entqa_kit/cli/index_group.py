"""``entqa-kit index``: build an index (``index KB --out IDX``, the ``build`` command) or change one
in place (``index add|remove|compact IDX ...``)."""

from __future__ import annotations

import typer
from typer.core import TyperGroup

from entqa_kit.cli.index_cmd import index_cli
from entqa_kit.cli.index_update_cmd import index_add_cli, index_compact_cli, index_remove_cli

CHANGES = (
    "Change a built index in place: 'entqa-kit index add IDX NEW.jsonl', 'entqa-kit index remove IDX "
    "ids.txt', 'entqa-kit index compact IDX' (each has --help)."
)


class IndexGroup(TyperGroup):
    """Anything that is not a subcommand name is the build command's arguments, so the documented
    ``entqa-kit index KB --out IDX`` (and ``index --help``: the build options) keep working."""

    def parse_args(self, ctx, args):
        if not args or args[0] not in self.commands:
            args = ["build", *args]
        return super().parse_args(ctx, args)


index_app = typer.Typer(
    cls=IndexGroup,
    help="Build a dense index of a KB file (index KB --out IDX), or change one: index add|remove|compact.",
    add_completion=False,
    pretty_exceptions_enable=False,
)
index_app.command("build", epilog=CHANGES)(index_cli)
index_app.command("add")(index_add_cli)
index_app.command("remove")(index_remove_cli)
index_app.command("compact")(index_compact_cli)
