"""A plugin whose import never finishes (a network call without a timeout, a lock, ...)."""

import threading

threading.Event().wait()
