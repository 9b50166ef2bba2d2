"""Pages served to people rather than API clients: the invitation page."""
