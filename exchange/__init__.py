"""The volunteer exchange server: domain, persistence, mail, events, app and CLI."""
