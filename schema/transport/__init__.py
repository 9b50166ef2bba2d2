"""Thin adapters: HTTP, SSE, multipart and WebSocket (Strawberry integrations), and GraphiQL."""
