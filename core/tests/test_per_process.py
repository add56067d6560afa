import multiprocessing
import threading

from core.per_process import PerProcess


class Owner:
    """Stands for a sender or recorder: something that starts a thread it needs to keep running."""

    built = 0

    def __init__(self) -> None:
        Owner.built += 1
        self.number = Owner.built
        self.thread = threading.Thread(target=threading.Event().wait, daemon=True)
        self.thread.start()


OWNERS = PerProcess(Owner)


def _report_from_child(results) -> None:
    inherited = OWNERS.current()
    own = OWNERS.get()
    results.put((inherited is None, own.number, own.thread.is_alive()))


def test_one_instance_per_process_and_a_forked_child_builds_its_own():
    assert OWNERS.get() is OWNERS.get()
    parent = OWNERS.current()
    assert parent is not None and parent.thread.is_alive()

    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=_report_from_child, args=(results,))
    child.start()
    forgot_inherited, child_number, child_thread_alive = results.get(timeout=30)
    child.join(30)

    assert forgot_inherited  # the parent's copy, whose thread didn't survive the fork, is not handed out
    assert child_number == parent.number + 1  # built anew in the child
    assert child_thread_alive
    assert OWNERS.get() is parent  # the parent's is untouched
