"""The peer for `bench/deliveries.py`: the PyPI package django-webhook, set up the minimal way.

django-webhook sends a webhook per model signal: each `post_save` of a model named in
`DJANGO_WEBHOOK["MODELS"]` publishes one Celery task per subscribed `Webhook`, and that task
posts the payload with `requests` and records a `WebhookEvent`. Here the model is `Ping`, one
row per event, carrying its emit time; everything runs on a database of its own.
"""
