"""What features change: the GraphQL types, queries, mutations, subscriptions and their loaders."""
