"""The ``ceasefire app`` sub-command: the interactive dashboard, a Solara page on a local port.

Registered by ``sim.cli.main.build_parser`` through :func:`add_app_commands`. Solara is an optional extra:
it is imported only when the command runs, and its absence is a one-line error (exit 2).
"""

from __future__ import annotations

import argparse
import errno
import socket
import sys
from collections.abc import Sequence

from sim.cli.common import add_command

DEFAULT_PORT = 8765
DEFAULT_HOST = "127.0.0.1"
MISSING_EXTRA = "error: the dashboard needs the app extra: pip install 'ceasefire[app]'"


def add_app_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``app [--port P] [--host H] [--open]`` on the ``ceasefire`` sub-command parsers."""
    app = add_command(
        subparsers, "app", cmd_app, help="open the interactive dashboard (needs: pip install 'ceasefire[app]')",
        description="Serve a page where sliders and selects change troops, resolve, US detection, Russia's "
                    "provocation and objection, the horizon and the structural forms; each change re-runs "
                    "2,000 worlds and shows P(deal), survival, causes of breakdown and trajectories against "
                    "the baseline. The scenario built can be downloaded as YAML for `ceasefire run`.",
    )
    app.add_argument("--port", type=int, default=DEFAULT_PORT, metavar="P",
                     help=f"port to serve on, 1-65535 (default: {DEFAULT_PORT})")
    app.add_argument("--host", default=DEFAULT_HOST, metavar="H",
                     help=f"address to listen on (default: {DEFAULT_HOST}, this machine only)")
    app.add_argument("--open", action="store_true", help="also open the page in a web browser")


def cmd_app(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``ceasefire app``: the extra and the port are checked before anything is loaded or served."""
    from sim.core.errors import InputError, shown
    from sim.core.exit_codes import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK

    missing = missing_extra()
    if missing is not None:
        print(missing, file=sys.stderr)
        return EXIT_BAD_INPUT
    if not 1 <= args.port <= 65535:
        raise InputError(f"--port: must be 1-65535 (got {shown(args.port)})")
    check_port(args.host, args.port)
    from sim.app.server import serve

    print(f"ceasefire dashboard: http://{args.host}:{args.port}/ (Ctrl-C to stop)", flush=True)
    try:
        serve(args.host, args.port, open_browser=args.open)
    except KeyboardInterrupt:
        print("ceasefire dashboard stopped", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK


def missing_extra() -> str | None:
    """The one-line error when the app extra is not (properly) installed, else None."""
    try:
        import ipyvuetify
        import solara  # noqa: F401
    except ImportError:
        return MISSING_EXTRA
    major = str(getattr(ipyvuetify, "__version__", "1")).split(".")[0]
    if major.isdigit() and int(major) >= 3:
        return f"{MISSING_EXTRA} (it needs ipyvuetify<3; found {ipyvuetify.__version__})"
    return None


def check_port(host: str, port: int) -> None:
    """Raise InputError when ``host:port`` cannot be listened on (in use, or not an address of this machine)."""
    from sim.core.errors import InputError, shown

    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise InputError(f"--port: {port} is in use on {shown(host)}; choose another port") from None
        raise InputError(f"--host: cannot listen on {shown(host)} port {port} ({exc.strerror or exc})") from None
