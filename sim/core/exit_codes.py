"""Exit codes of the ``ceasefire`` command, shared by every sub-command module.

0 success; 1 an environment failure (disk full, unwritable folder) or a failed worker; 2 bad input
(one line ``error: FILE: FIELD: what to fix``); 130 interrupted (Ctrl-C, SIGTERM or SIGHUP).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
