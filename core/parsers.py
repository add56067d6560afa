"""Request body parsers shared by every API."""

import io
import json

from rest_framework.parsers import FormParser


class FormOrJSONParser(FormParser):
    """A form body, or JSON sent with curl's default form content type.

    `curl -d '{"event_type": "match.found"}'` without `-H 'Content-Type: application/json'` labels
    JSON as `application/x-www-form-urlencoded`; the outbound-webhook application's guide writes its
    calls that way. Read as a form, such a body is one meaningless key, and a test send would quietly
    send the default type instead of the one asked for. A form body never starts with `{`, so one
    that does and parses as a JSON object is taken as JSON.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read() if stream is not None else b""
        if body.lstrip()[:1] == b"{":
            try:
                data = json.loads(body)
            except ValueError:
                data = None
            if isinstance(data, dict):
                return data
        return super().parse(io.BytesIO(body), media_type, parser_context)
