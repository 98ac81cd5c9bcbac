"""How much bigflow says: ``-q/--quiet`` and ``-v/--verbose``, accepted by every command.

The level lives in the environment variable ``BIGFLOW_VERBOSITY`` (-1 quiet, 0 normal, 1+ verbose), so plugins
and the processes bigflow starts see it too. Quiet drops progress lines (results, warnings and errors stay);
verbose shows bigflow's debug log records.
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
    if value > 0:
        logging.getLogger("bigflow").setLevel(logging.DEBUG)


def quiet() -> bool:
    return level() < 0


def verbose() -> bool:
    return level() > 0
