"""The Lambda code AppSync invokes: thin adapters from AppSync events to inventory.operations."""
