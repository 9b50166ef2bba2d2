"""The execution engine: compiled query plans, the resolver fast path, column selection."""
