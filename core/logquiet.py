"""Routine housekeeping kept out of the console, its trouble kept in.

Beat sends the delivery sweep every two seconds (and the inbound sweep every few). At INFO each run
is three lines (beat sent it, the worker received it, it succeeded), so `make run`'s console, where
the admin password and the next steps are printed, scrolled away within a minute and every task a
user caused sat among hundreds of sweeps. Only those INFO lines go: a sweep that fails, retries or
runs slow still logs at WARNING or above, and every other task's lines stay.
"""

import logging

ROUTINE_TASKS = frozenset({"webhooks.sweep", "webhooks_inbound.sweep_received"})


class QuietRoutineTasks(logging.Filter):
    """Drops INFO records whose arguments name a routine task: Celery's received and succeeded lines
    (a dict with `name`) and beat's "Sending due task <entry> (<task>)"."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO:
            return True
        args = record.args
        if isinstance(args, dict):
            return args.get("name") not in ROUTINE_TASKS
        return not (isinstance(args, tuple) and any(arg in ROUTINE_TASKS for arg in args if isinstance(arg, str)))
