"""The rules a request passes before it runs: persisted documents, shape limits, cost."""
