"""Request body parsers shared by every API."""

import io
import json

from rest_framework import parsers
from rest_framework.exceptions import ParseError

TOO_DEEP = "JSON parse error - the document is nested too deeply."


class JSONParser(parsers.JSONParser):
    """DRF's, with JSON nested beyond Python's recursion limit a 400 like any other unreadable body.

    DRF turns the decoder's ValueError into a ParseError, but not its RecursionError, which would
    reach the client as a 500.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(TOO_DEEP) from None


class FormOrJSONParser(parsers.FormParser):
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
            except RecursionError:
                raise ParseError(TOO_DEEP) from None
            if isinstance(data, dict):
                return data
        return super().parse(io.BytesIO(body), media_type, parser_context)
