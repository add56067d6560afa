"""Emit for the peer: subscribe `--endpoints` django-webhook `Webhook`s, then save `Ping`s at `--rate`.

    DJANGO_SETTINGS_MODULE=bench.peer.settings python -m bench.peer.emit --url-base URL --endpoints 8 \
        --rate 200 --seconds 30

Prints one JSON line: when emitting started and ended and how many pings were saved.
"""

import argparse
import json
import threading
import time

import django

THREADS = 4  # like the engine's emitter: several processes save side by side in production


def subscribe(*, url_base: str, endpoints: int) -> None:
    from django_webhook.models import Webhook, WebhookSecret, WebhookTopic

    Webhook.objects.all().delete()  # a previous scenario's subscribers
    topic = WebhookTopic.objects.get(name="peer.Ping/create")
    for i in range(endpoints):
        webhook = Webhook.objects.create(url=f"{url_base}/e{i}")
        webhook.topics.add(topic)
        WebhookSecret.objects.create(webhook=webhook, token=f"bench-peer-secret-{i:04d}")


def pings_save(*, rate: float, seconds: float) -> dict:
    from django.db import connection

    from bench.peer.models import Ping

    total = int(rate * seconds)
    started = time.time()

    def saver(index: int) -> None:
        for n in range(index, total, THREADS):
            pause = started + n / rate - time.time()
            if pause > 0:
                time.sleep(pause)
            Ping.objects.create(n=n, emitted_at=time.time())
        connection.close()

    threads = [threading.Thread(target=saver, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"started": started, "ended": time.time(), "events": total}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url-base", required=True)
    parser.add_argument("--endpoints", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    args = parser.parse_args()
    django.setup()
    subscribe(url_base=args.url_base, endpoints=args.endpoints)
    print(json.dumps(pings_save(rate=args.rate, seconds=args.seconds)), flush=True)


if __name__ == "__main__":
    main()
