"""The limits AppSync enforces on every request, declared once: the stack configures its API with them
(infra/config.py) and the local server refuses what they refuse (devserver/query_limits.py).

Kept free of imports so that the CDK app and the Lambda bundle can both read it for nothing.
"""

# The deepest a query may nest, counting its top-level field as 1 (AppSync's queryDepthLimit). The deepest selection
# the schema allows is 5: listItems.items.movements.items.id.
QUERY_DEPTH_LIMIT = 6

# The most resolver invocations one request may cause (AppSync's resolverCountLimit). The largest legitimate read,
# a page of 100 items with their movements, invokes 101: listItems once, Item.movements once per item.
RESOLVER_COUNT_LIMIT = 250
