"""Invitation mail: the outbox (enqueue inside the caller's transaction), rendering in
kk/ru/en with a calendar attachment, and the dispatcher that delivers the outbox."""
