"""The GraphQL layer, in four parts (README: Where things live):

- ``schema.api``: the types, queries, mutations and subscriptions (what features change);
- ``schema.admission``: the rules a request passes before it runs (document, limits, cost);
- ``schema.transport``: HTTP, SSE, multipart and WebSocket adapters, and GraphiQL;
- ``schema.engine``: the compiled executor and the resolver fast path.

``schema.build`` assembles them into a Strawberry schema. Nothing is built when this package
is imported: importing any part imports only what that part needs.
"""
