"""`Authorization: Bearer <token>` (and DRF's `Token <token>`) for the API."""

from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, Throttled

from accounts.tokens import token_authenticate
from core.guessing import credential_failure_record

_KEYWORDS = (b"bearer", b"token")


class ApiTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in _KEYWORDS:
            return None  # not ours: let session authentication try
        if len(parts) != 2:
            self._failed(request, "Malformed Authorization header; expected 'Bearer <token>'.")
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            self._failed(request, "API token must be ASCII.")
        token = token_authenticate(key)
        if token is None:
            self._failed(request, "Invalid or revoked API token.")
        return token.user, token

    def _failed(self, request, message: str):
        """401, or 429 once this address has presented too many wrong tokens (core/guessing.py)."""
        wait = credential_failure_record(scope="api-token", address=request.META.get("REMOTE_ADDR", ""))
        if wait is not None:
            raise Throttled(wait=wait, detail=f"Too many invalid API tokens from this address; retry in {wait} s.")
        raise AuthenticationFailed(message)

    def authenticate_header(self, request) -> str:
        # A WWW-Authenticate header makes DRF answer 401 (not 403) to anonymous callers.
        return 'Bearer realm="streamhook"'
