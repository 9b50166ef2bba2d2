"""Mutations, one module per area: input -> service call -> payload."""
