"""The inventory domain: rules, use cases and DynamoDB access, shared by the Lambda resolvers and the local server."""
