"""The API's JSON renderer."""

from rest_framework import renderers


class _AsciiJSONRenderer(renderers.JSONRenderer):
    ensure_ascii = True


class JSONRenderer(renderers.JSONRenderer):
    """DRF's, except that a lone UTF-16 surrogate in the answer is written as its `\\ud800` escape.

    A client can send one (`"\\ud800"` is valid JSON, not valid UTF-8) and an error message may echo
    it ("… is not a valid choice"); DRF's renderer then fails to encode the answer, a 500. Such an
    answer is written with every non-ASCII character escaped, which is the same JSON.
    """

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            return _AsciiJSONRenderer().render(data, accepted_media_type, renderer_context)
