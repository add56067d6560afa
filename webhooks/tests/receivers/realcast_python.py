"""RealCast's Python verification, verbatim, behind the smallest Flask-like request shim."""

import hashlib
import hmac


def verify_webhook_signature(payload, signature, secret):
    expected_signature = 'sha256=' + hmac.new(
        secret.encode(),
        payload.encode(),
        hashlib.sha256
    ).hexdigest()

    return hmac.compare_digest(signature, expected_signature)


def handle(request, WEBHOOK_SECRET):
    """The guide's usage block: `request.get_data(as_text=True)`, header lookup, verify, then switch on `event`."""
    payload = request.get_data(as_text=True)
    signature = request.headers.get('X-RealCast-Signature')

    if verify_webhook_signature(payload, signature, WEBHOOK_SECRET):
        # Process webhook
        event = request.get_json()
        return 200, event["event"]
    else:
        return 401, 'Invalid signature'  # RealCast's guide writes Flask's `return 'Invalid signature', 401`
