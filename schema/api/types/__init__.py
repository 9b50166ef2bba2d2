"""GraphQL types, one module per type family. Roots are Tortoise model instances."""
