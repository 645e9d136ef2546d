"""Serve the dashboard page with Solara's server (uvicorn), quietly and without network side traffic."""

from __future__ import annotations

import os
import warnings

APP_MODULE = "sim.app.page"
"""The module Solara serves; its ``Page`` component is the page."""


def serve(host: str, port: int, open_browser: bool = False) -> None:
    """Serve the page on ``http://host:port/`` until stopped: returns on SIGTERM, raises KeyboardInterrupt on Ctrl-C.

    Solara's usage telemetry and its check for a newer version on PyPI are switched off: the dashboard
    must work offline and send nothing anywhere.
    """
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    # Solara warns at every page load that plain http on 127.0.0.1 gets lax cookies: true, and harmless here
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")
    from click.exceptions import Abort
    from solara.__main__ import cli

    arguments = ["run", APP_MODULE, "--host", host, "--port", str(port), "--production", "--no-check-version",
                 "--open" if open_browser else "--no-open"]
    try:
        cli.main(args=arguments, prog_name="ceasefire app", standalone_mode=False)
    except Abort:  # click's name for Ctrl-C
        raise KeyboardInterrupt from None
