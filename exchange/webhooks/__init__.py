"""Webhooks: organisations register HTTPS endpoints and receive every invitation and
participation event of the exchanges they organise (no-shows: their host only) as a signed
JSON POST (Standard Webhooks), delivered at-least-once from durable rows with exponential
backoff.

- endpoints.py  the service behind the GraphQL mutations (add, list, remove, rotate, log)
- outbox.py     event -> WebhookDelivery rows for the organisers' endpoints
- signing.py    secrets and the Standard Webhooks signature
- safety.py     which URLs and addresses we agree to call
- worker.py     claims due rows, POSTs them, records the outcome, retries
"""
