from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from webhooks import selectors, services
from webhooks.models import Endpoint


class Command(BaseCommand):
    help = "Send a test event to one endpoint and print the delivery id (and, with --wait, the outcome)."

    def add_arguments(self, parser):
        parser.add_argument("endpoint_id", type=int)
        parser.add_argument("--type", dest="event_type", default=services.TEST_EVENT_TYPE,
                            help="a registered event type; its example payload is sent (default: webhook.test)")
        parser.add_argument("--wait", action="store_true", help="wait for the first attempt and print its outcome")
        parser.add_argument("--timeout", type=float, default=30.0, help="seconds --wait waits (default 30)")
        parser.add_argument("--sync", action="store_true",
                            help="send from this process instead of waiting for a worker (implies --wait)")

    def handle(self, *args, endpoint_id: int, event_type: str, wait: bool, timeout: float, sync: bool, **options):
        if timeout < 0:
            raise CommandError(f"--timeout {timeout:g}: must be 0 or more seconds")
        endpoint = selectors.endpoint_list().filter(pk=endpoint_id).first()
        if endpoint is None:
            raise CommandError(f"no endpoint {endpoint_id} (or it was deleted)")
        try:
            sent = services.endpoint_send_test(endpoint=endpoint, event_type=event_type)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"delivery {sent.delivery.pk} queued: {event_type} {sent.event.pk} → {endpoint.url}")
        if sync:
            from webhooks.delivery import deliveries_send

            deliveries_send(delivery_ids=[sent.delivery.pk])
        if wait or sync:
            self._report(selectors.delivery_wait(delivery_id=sent.delivery.pk, timeout=timeout), endpoint)

    def _report(self, delivery, endpoint: Endpoint) -> None:
        if not delivery.attempt_count and delivery.status == "pending":
            self.stdout.write(self.style.WARNING("no attempt yet (is a worker running? try --sync)"))
            return
        code = delivery.last_status_code if delivery.last_status_code is not None else "no response"
        detail = f" — {delivery.last_error}" if delivery.last_error else ""
        line = f"{delivery.status}: HTTP {code} after {delivery.attempt_count} attempt(s){detail}"
        if delivery.status == "succeeded":
            self.stdout.write(self.style.SUCCESS(line))
        else:
            retry = f"; next attempt at {delivery.next_attempt_at:%Y-%m-%d %H:%M:%S}Z" if delivery.next_attempt_at \
                and delivery.status == "pending" else ""
            self.stdout.write(self.style.ERROR(line + retry))
