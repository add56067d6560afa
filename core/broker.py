"""Publishing where the workers consume, for processes an operator starts by hand.

The queue a process publishes to comes from its environment (`CELERY_QUEUE`); a worker started
with one name and a command started from a shell without it (or the other way round) share the
broker but not the queue, and every task the command sends waits for a consumer that never comes.
A long-running producer (the audio sampler) asks the workers once, at start, which queues they
consume, and follows them when its own has no consumer.
"""

import logging
from dataclasses import dataclass, field

from celery import current_app

logger = logging.getLogger(__name__)

QUEUE_CHECK_TIMEOUT_S = 0.5  # how long to collect the workers' answers


@dataclass
class QueueCheck:
    configured: str
    queue: str  # where this process publishes from now on
    consumed: set[str] = field(default_factory=set)  # every queue some worker consumes
    workers: int = 0

    @property
    def followed(self) -> bool:
        return self.queue != self.configured

    @property
    def unconsumed(self) -> bool:
        """Workers answered, none consumes our queue, and which one to use instead is not clear."""
        return bool(self.workers) and self.queue not in self.consumed


def publishing_queue_align(*, timeout: float = QUEUE_CHECK_TIMEOUT_S) -> QueueCheck:
    """Make this process publish to the queue the running workers consume.

    Nothing changes when a worker consumes the configured queue, when no worker answers (none runs
    yet, or the broker has no remote control), or when the workers consume several queues (the choice
    would be a guess: another deployment's workers may share the broker); only when every answering
    worker consumes the same single queue does this process follow them.
    """
    app = current_app
    configured = app.conf.task_default_queue
    check = QueueCheck(configured=configured, queue=configured)
    try:
        replies = app.control.inspect(timeout=timeout).active_queues() or {}
    except Exception:  # no broker now: the caller's own sends will say so
        logger.debug("could not ask the workers for their queues", exc_info=True)
        return check
    check.workers = len(replies)
    check.consumed = {queue["name"] for queues in replies.values() for queue in queues or ()}
    if check.workers and configured not in check.consumed and len(check.consumed) == 1:
        # The router reads the default queue on every send, so this takes effect for every task.
        check.queue = next(iter(check.consumed))
        app.conf.task_default_queue = check.queue
    return check
