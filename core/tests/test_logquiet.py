"""The console drops the sweeps' routine INFO lines and keeps everything else about tasks."""

import logging

from celery.app.trace import LOG_RECEIVED, LOG_SUCCESS


def _console() -> logging.Handler:
    [handler] = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    return handler


def _shown(logger: str, level: int, msg: str, *args) -> bool:
    record = logging.getLogger(logger).makeRecord(logger, level, __file__, 1, msg, args, None)
    return bool(_console().filter(record))


def _task(name: str) -> dict:
    return {"id": "abc", "name": name, "args": "()", "kwargs": "{}", "eta": None, "runtime": 0.01,
            "return_value": None}


def test_the_sweeps_received_succeeded_and_sent_lines_are_dropped():
    for name in ("webhooks.sweep", "webhooks_inbound.sweep_received"):
        assert not _shown("celery.worker.strategy", logging.INFO, LOG_RECEIVED, _task(name))
        assert not _shown("celery.app.trace", logging.INFO, LOG_SUCCESS, _task(name))
    assert not _shown("celery.beat", logging.INFO, "Scheduler: Sending due task %s (%s)", "webhooks-sweep",
                      "webhooks.sweep")


def test_other_tasks_and_a_sweeps_trouble_still_show():
    assert _shown("celery.app.trace", logging.INFO, LOG_SUCCESS, _task("webhooks.fan_out_event"))
    assert _shown("celery.beat", logging.INFO, "Scheduler: Sending due task %s (%s)", "analytics-rollups",
                  "analytics.refresh_rollups")
    assert _shown("celery.app.trace", logging.ERROR, "Task %(name)s[%(id)s] raised", _task("webhooks.sweep"))
    assert _shown("celery.worker", logging.INFO, "celery@host ready.")
