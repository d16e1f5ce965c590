"""`harness synth PRESET ...` and `harness synth ls`: seeded synthetic tapes into the tick store.

Every preset is a subcommand of its own, so `harness synth calm -h` lists that preset's knobs
with their defaults and ranges.
"""

from __future__ import annotations

import time
from typing import Any

import click

from harness.cli.context import Ctx, db_option
from harness.cli.help import PipelineGroup
from harness.cli.timefmt import iso, parse_time
from harness.data.errors import IngestError
from harness.data.store import connect
from harness.synth.generate import SymbolDone, describe, synthesize
from harness.synth.presets import PRESETS, Knob, Preset


def _knob_option(knob: Knob) -> click.Option:
    kind: click.IntRange | click.FloatRange
    if isinstance(knob.default, int):
        kind = click.IntRange(int(knob.low), int(knob.high))
    else:
        kind = click.FloatRange(knob.low, knob.high)
    return click.Option(
        [f"--{knob.name.replace('_', '-')}", knob.name],
        type=kind,
        default=knob.default,
        show_default=True,
        help=knob.help,
    )


def _symbols(text: str | None, chosen: Preset) -> tuple[str, ...]:
    if text is None:
        return chosen.symbols
    return tuple(part.strip().upper() for part in text.split(",") if part.strip())


def _progress(done: SymbolDone) -> None:
    click.echo(
        f"  {done.symbol}: {done.depth_messages:,} depth messages, {done.trades:,} trades, "
        f"{done.rows:,} rows",
        err=True,
    )


def _preset_command(chosen: Preset) -> click.Command:
    @click.pass_obj
    def run(ctx: Ctx, /, **options: Any) -> None:
        knobs = {k.name: options[k.name] for k in chosen.knobs}
        try:
            request = chosen.request(
                options["seed"],
                parse_time(options["start"] or chosen.start),
                _symbols(options["symbols"], chosen),
                options["exchange"],
                **knobs,
            )
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"generating {describe(chosen, request)}", err=True)
        started = time.perf_counter()  # wall-clock ok: progress only
        con = connect(ctx.db)
        try:
            report = synthesize(
                con,
                chosen,
                request,
                force=options["force"],
                dry_run=options["dry_run"],
                on_symbol=_progress,
            )
        except (IngestError, ValueError) as exc:
            raise click.ClickException(str(exc)) from None
        finally:
            con.close()
        seconds = time.perf_counter() - started  # wall-clock ok
        rows = sum(report.rows.values())
        messages = sum(report.messages.values())
        where = "dry run, nothing written" if options["dry_run"] else f"written to {ctx.db}"
        click.echo(
            f"{rows:,} rows ({messages:,} messages) {iso(report.first_ts)} .. "
            f"{iso(report.last_ts)} [{request.exchange}], {where} in {seconds:.1f} s"
        )

    params: list[click.Parameter] = [
        click.Option(
            ["--seed"],
            type=click.IntRange(min=0),
            default=1,
            show_default=True,
            help="Random seed: same seed and settings, same rows, byte for byte.",
        ),
        click.Option(
            ["--start"],
            default=None,
            metavar="ISO",
            help=f"First instant of the tape (default {chosen.start}).",
        ),
        click.Option(
            ["--symbols"],
            default=None,
            metavar="A,B",
            help=f"Comma-separated symbols (default {','.join(chosen.symbols)}; "
            f"known: {','.join(chosen.allowed)}).",
        ),
        click.Option(
            ["--exchange"],
            default="synthetic",
            show_default=True,
            help="Exchange name stored on every row; scenarios select it in [data].",
        ),
        *(_knob_option(knob) for knob in chosen.knobs),
        click.Option(
            ["--force"],
            is_flag=True,
            help="Write even if the same preset, version and settings are in the store.",
        ),
        click.Option(["--dry-run"], is_flag=True, help="Generate and validate; write nothing."),
    ]
    command = click.Command(
        chosen.name,
        callback=run,
        params=params,
        help=f"{chosen.description}\n\nVersion {chosen.version}.",
        short_help=chosen.description.split(":")[0],
    )
    return db_option(command)


class SynthGroup(PipelineGroup):
    """`ls` plus one subcommand per preset, built from the preset's knobs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return ["ls", *PRESETS]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in PRESETS:
            return _preset_command(PRESETS[cmd_name])
        return super().get_command(ctx, cmd_name)


@click.group(
    cls=SynthGroup, short_help="Write a seeded synthetic tape into the tick store, like real data."
)
def synth() -> None:
    """Generate a seeded synthetic tape and write it to the tick store like real data.

    \b
    Examples:
      harness synth ls
      harness synth altcoin-crash-2025-10-10 --seed 7
      harness synth calm --duration-s 60 --symbols BTCUSDT,ETHUSDT --dry-run
    """


@synth.command("ls", short_help="List the presets with their versions and descriptions.")
def synth_ls() -> None:
    """List the presets with their versions and descriptions."""
    for chosen in PRESETS.values():
        click.echo(f"{chosen.name}  (v{chosen.version}, default start {chosen.start})")
        click.echo(f"    {chosen.description}")
        knobs = ", ".join(f"--{k.name.replace('_', '-')} {k.default}" for k in chosen.knobs)
        click.echo(f"    knobs: {knobs}")
