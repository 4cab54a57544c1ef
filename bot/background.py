"""Processes that work behind the web process (answering, the outbox worker): at a lower CPU
priority, so that in a rush the web process keeps storing and acknowledging deliveries while
the rest waits a little, and never outliving it."""

import os
import signal
import threading
import time

# Below the web process, as Rasa is (nlu_server.RASA_NICENESS): they share what acknowledging
# leaves.
NICENESS = 10


def become_background(web_process: int) -> None:
    """Called first thing in such a process (it also sets up its logging), with the pid of
    the process that started it (read there: by the time this one has loaded, that one may
    have died already)."""
    os.nice(NICENESS)
    # Ctrl-C reaches the whole process group: the web process decides when this one stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(web_process,), daemon=True,
                     name="exit-with-web-process").start()
    from bot.logs import configure_logging

    configure_logging()


def _exit_with(web_process: int) -> None:
    """A web process killed outright (kill -9, out of memory) cannot stop the processes it
    started; orphaned, they would hold memory and database connections for good. Whatever
    they were doing is stored: the sweep and the outbox pick it up again."""
    while os.getppid() == web_process:
        time.sleep(1)
    os._exit(0)
