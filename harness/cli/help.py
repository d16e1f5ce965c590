"""Command groups whose `--help` reads in pipeline order with whole one-line helps.

Click lists subcommands alphabetically and cuts each help to what fits beside the longest name,
with "..." halfway through a sentence. Here a group lists its commands in the order they were
added (the order a session uses them) and shows each command's first sentence whole, wrapped
when the terminal is narrow.
"""

from __future__ import annotations

import click

WHOLE_SENTENCE = 1_000


class PipelineGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(WHOLE_SENTENCE)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
