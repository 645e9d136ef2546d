"""What every sub-command shares: the common options (each defined here once), their checks, the progress
bar, worker capping and the output claim.

A command adds the options it takes with :func:`add_options`, naming each and, where its meaning differs,
its default, help or metavar::

    add_options(parser, out={"default": Path("results/the_bet"), "help": "output folder (default: ...)"},
                workers={"default": 1}, quiet=True, seed=True)

and checks their values with :func:`check_options` before any work. Commands import this module, never
``sim.cli.main`` (which imports them).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.core.errors import InputError
from sim.outputs.ownership import OUT_FLAG

COMMITTED_POSTERIOR = "committed"
"""The value ``--posterior`` takes without FILE: the committed ``seeds/posterior/posterior.csv``."""

DEFAULT_DRAWS = 20
"""Posterior draws with ``--posterior`` unless ``--draws`` (or the command) says otherwise."""


@dataclass(frozen=True)
class Option:
    """One common option: its flag, argparse keywords, and the lowest value it accepts (if a count)."""

    flag: str
    keywords: dict[str, Any] = field(default_factory=dict)
    minimum: int | None = None
    unit: str = ""


OPTIONS: dict[str, Option] = {
    "out": Option(OUT_FLAG, {"type": Path, "metavar": "DIR", "help": "output folder"}),
    "workers": Option("--workers", {"type": int, "metavar": "K", "help": "local processes (default: 1)"},
                      minimum=1),
    "scheduler": Option("--scheduler", {"metavar": "ADDRESS",
                                        "help": "run on a Dask distributed cluster, e.g. tcp://host:8786 "
                                                "(needs 'distributed'); the results are the same bytes"}),
    "quiet": Option("--quiet", {"action": "store_true", "help": "no progress bar or closing summary"}),
    "seed": Option("--seed", {"type": int, "metavar": "S", "help": "random seed (default: the file's)"}),
    "replications": Option("--replications", {"type": int, "metavar": "N",
                                              "help": "independent worlds (default: the file's)"}, minimum=1),
    "horizon": Option("--horizon", {"type": int, "metavar": "DAYS",
                                    "help": "days simulated after the deal (default: the file's)"},
                      minimum=1, unit=" day"),
    "posterior": Option("--posterior", {
        "nargs": "?", "const": COMMITTED_POSTERIOR, "metavar": "FILE",
        "help": "draw the fitted parameters of every world from a posterior CSV (ceasefire calibrate's "
                "posterior.csv; without FILE: the committed seeds/posterior/posterior.csv); world r runs "
                "draw r %% D, and the intervals include parameter uncertainty"}),
    "draws": Option("--draws", {"type": int, "metavar": "D",
                                "help": "posterior draws with --posterior, each run by every D-th world"}, minimum=1),
    "no_plots": Option("--no-plots", {"action": "store_true", "help": "write the tables only"}),
    "structure": Option("--structure", {
        "action": "append", "default": [], "metavar": "MECHANISM=FORM",
        "help": "use FORM for MECHANISM, e.g. objection=principled (repeatable; `ceasefire structures` lists "
                "them)"}),
}
"""The options several commands take, by name (the attribute argparse sets)."""

Handler = Callable[[argparse.Namespace, Sequence[str]], int]
"""What runs a sub-command: ``handler(args, argv) -> exit code``."""


def add_command(commands: Any, name: str, handler: Handler, help: str, description: str | None = None,
                epilog: str | None = None) -> argparse.ArgumentParser:
    """Register the sub-command ``name`` on ``commands`` (the ``ceasefire`` parser's sub-parsers), run by
    ``handler``; returns its parser. An ``epilog`` (examples) is printed as written, and so is the
    description beside it."""
    formatter = argparse.RawDescriptionHelpFormatter if epilog else argparse.HelpFormatter
    parser = commands.add_parser(name, help=help, description=description, epilog=epilog, formatter_class=formatter)
    parser.set_defaults(handler=handler)
    return parser


def add_options(parser: argparse.ArgumentParser, **chosen: bool | dict[str, Any]) -> None:
    """Add the common options ``chosen`` to ``parser``: ``name=True`` as defined in :data:`OPTIONS`, or
    ``name={...}`` with this command's own ``default``, ``help``, ``metavar`` or ``const``."""
    for name, given in chosen.items():
        if given is False:
            continue
        option = OPTIONS[name]
        keywords = {**option.keywords, **(given if isinstance(given, dict) else {})}
        parser.add_argument(option.flag, **keywords)


def check_options(args: argparse.Namespace, **minimums: int) -> None:
    """Refuse, before any work, a common option below its minimum (``--replications 0``, ``--horizon -1``);
    ``minimums`` gives a command's own (``draws=0`` where no draws is allowed).

    Raises:
        InputError: one line naming the option and what it accepts.
    """
    for name, option in OPTIONS.items():
        value = getattr(args, name, None)
        minimum = minimums.get(name, option.minimum)
        if minimum is not None and value is not None and value < minimum:
            raise InputError(f"{option.flag}: must be >= {minimum}{option.unit} (got {value})")


def posterior_choice(args: argparse.Namespace, template: Any, unit: str = "point",
                     default_draws: int = DEFAULT_DRAWS) -> Any:
    """``--posterior [FILE] --draws D`` read and checked against ``template`` (a scenario with the worlds per
    ``unit``), before any simulation; None without ``--posterior``. World r of every ``unit`` then runs draw
    r % D (:class:`sim.stats.posterior.PosteriorChoice`).

    Raises:
        InputError: ``--draws`` without ``--posterior`` or outside 1..worlds/2; a bad posterior file; a
            parameter that cannot be drawn per world.
    """
    from sim.engine.world_params import PACKABLE
    from sim.stats.posterior import DEFAULT_POSTERIOR, PosteriorChoice, load_posterior

    if args.posterior is None:
        if getattr(args, "draws", None) is not None and args.draws != default_draws:
            raise InputError("--draws: only with --posterior")
        return None
    draws = default_draws if args.draws is None else args.draws
    most = template.replications // 2
    if most < 1:
        raise InputError(f"--posterior: needs at least 2 worlds per {unit} (got {template.replications})")
    if not 1 <= draws <= most:
        raise InputError(f"--draws: must be between 1 and {most}, half the worlds per {unit}, so that every draw "
                         f"has 2 worlds or more (got {draws})")
    path = DEFAULT_POSTERIOR if args.posterior == COMMITTED_POSTERIOR else Path(args.posterior)
    posterior = load_posterior(path, template=template)
    fixed = [c for c in posterior.parameters.columns if c not in PACKABLE]
    if fixed:
        raise InputError(f"{path}: {fixed[0]}: cannot be drawn per world (see sim.engine.world_params.PACKABLE)")
    return PosteriorChoice(posterior, draws)


def cap_workers(requested: int, units: int, unit_name: str, explicit: bool = True) -> int:
    """The worker count actually used: ``requested`` capped at the CPU count and at ``units`` of work.

    Args:
        requested: ``--workers`` (>= 1).
        units: blocks or points the work splits into; more workers than that would idle.
        unit_name: what ``units`` counts, for the note.
        explicit: the user gave ``--workers``; only then is a note printed on stderr when capped.

    Raises:
        InputError: ``requested`` < 1.
    """
    from sim.engine.runner import default_workers

    if requested < 1:
        raise InputError(f"--workers: must be >= 1 (got {requested})")
    cores = default_workers()
    effective = max(1, min(requested, cores, units))
    if explicit and effective < requested:
        print(f"note: --workers {requested} capped at {effective} (cores: {cores}, {unit_name}: {units})",
              file=sys.stderr)
    return effective


class Progress:
    """A tqdm bar on stderr when it is a terminal and ``enabled``; otherwise it does nothing.

    Call it with the units just done; :meth:`note` adds a short status (e.g. worlds per second).
    """

    def __init__(self, total: int, unit: str, enabled: bool = True, done: int = 0) -> None:
        self.bar = None
        if enabled and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=done, unit=unit, unit_scale=True, file=sys.stderr,
                            dynamic_ncols=True)

    def __call__(self, n: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def note(self, text: str) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(text, refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


@contextmanager
def progress_bar(total: int, unit: str, enabled: bool = True, done: int = 0) -> Iterator[Progress]:
    """A :class:`Progress` closed when the block ends."""
    progress = Progress(total, unit, enabled, done)
    try:
        yield progress
    finally:
        progress.close()


@contextmanager
def plot_errors(error_type: type[Exception]) -> Iterator[None]:
    """Turn a plotting module's own input error into an :class:`InputError` (one line, exit 2)."""
    try:
        yield
    except error_type as exc:
        raise InputError(str(exc)) from None

