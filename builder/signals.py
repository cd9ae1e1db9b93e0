"""Signal handling shared by the steps that must clean up after themselves.

The CLI turns SIGTERM into KeyboardInterrupt, so that Ctrl-C and a Rundeck kill take
the same path through ``finally`` blocks. Cleanup itself runs shielded: further
SIGINT and SIGTERM are held until it has finished, and then delivered once, so that an
impatient second Ctrl-C cannot leave a half-cleaned run behind.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

logger = logging.getLogger(__name__)

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def shielded(what: str) -> Iterator[None]:
    """Hold SIGINT and SIGTERM while ``what`` runs; re-raise an interrupt received meanwhile."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def hold(signum: int, _frame: Any) -> None:
        if not received:
            logger.warning("%s in progress; %s is held until it finishes", what, signal.Signals(signum).name)
        received.append(signum)

    previous = {sig: signal.signal(sig, hold) for sig in _SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if received:
        raise KeyboardInterrupt(f"received {signal.Signals(received[0]).name} during {what}")
