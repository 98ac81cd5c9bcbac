"""How much bigflow says: ``-q/--quiet`` and ``-v/--verbose``, accepted by every command.

The level lives in the environment variable ``BIGFLOW_VERBOSITY`` (-1 quiet, 0 normal, 1+ verbose), so plugins
and the processes bigflow starts see it too. Quiet drops progress lines and bigflow's informational log records
(results, warnings and errors stay); verbose shows bigflow's debug log records.
"""

from __future__ import annotations

import logging
import os

VARIABLE = "BIGFLOW_VERBOSITY"


def level() -> int:
    try:
        return int(os.environ.get(VARIABLE, "0"))
    except ValueError:
        return 0


def set_level(value: int) -> None:
    os.environ[VARIABLE] = str(value)
    if value:  # bigflow's own loggers (a job's loggers keep the level of the command)
        logging.getLogger("bigflow").setLevel(logging.DEBUG if value > 0 else logging.WARNING)


def quiet() -> bool:
    return level() < 0


def verbose() -> bool:
    return level() > 0
