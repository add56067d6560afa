"""The embedded broker hands a consumer whole messages, even while a producer is writing."""

import threading

from kombu import Connection

from core.filesystem_broker import Transport

MESSAGES = 400


def _connection(tmp_path, transport) -> Connection:
    folder = tmp_path / "queue"
    for sub in ("queue", "control", "processed"):
        (tmp_path / sub).mkdir(exist_ok=True)
    return Connection("filesystem://localhost/", transport=transport, transport_options={
        "data_folder_in": str(folder), "data_folder_out": str(folder), "control_folder": str(tmp_path / "control"),
        "processed_folder": str(tmp_path / "processed"), "polling_interval": 0})


def test_a_consumer_polling_while_messages_are_written_gets_each_one_whole(tmp_path):
    """kombu's own transport creates the file, then writes it: a consumer listing the folder in between
    took an empty message and the worker stopped ("Unrecoverable error: JSONDecodeError")."""
    body = {"level": 61.6, "pad": "x" * 20000}  # a large body widens the window between create and write
    received, errors = [], []
    declared = threading.Event()

    def consume() -> None:
        with _connection(tmp_path, Transport) as conn:
            queue = conn.SimpleQueue("levels")
            declared.set()
            try:
                while len(received) < MESSAGES:
                    message = queue.get(timeout=30)
                    received.append(message.payload)
                    message.ack()
            except Exception as exc:  # what the worker would have died of
                errors.append(exc)
            finally:
                queue.close()

    consumer = threading.Thread(target=consume)
    consumer.start()
    # Both sides declaring the queue at once write kombu's binding table at once (a worker declares
    # its queues once, at start): messages are what this test is about, so the consumer goes first.
    assert declared.wait(10)
    with _connection(tmp_path, Transport) as conn:
        queue = conn.SimpleQueue("levels")
        for i in range(MESSAGES):
            queue.put({**body, "n": i}, serializer="json")
        queue.close()
    consumer.join(60)
    assert errors == []
    assert sorted(m["n"] for m in received) == list(range(MESSAGES))
    assert all(m["pad"] == body["pad"] for m in received)

