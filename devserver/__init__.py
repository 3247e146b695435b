"""The local development server: a Strawberry mirror of schema.graphql over the inventory service."""
