"""The business metrics' names: plain constants, so that the stack (its dashboard, the functions' environment) can
read them without importing the Lambda runtime and Powertools.

The functions emit them (CloudWatch embedded metric format, dimension service=inventory) only where the stack set
METRICS_NAMESPACE_VARIABLE; the dashboard charts them. Replays of a request count like first answers."""

METRICS_NAMESPACE_VARIABLE = "POWERTOOLS_METRICS_NAMESPACE"  # Powertools' own variable, read by its Metrics
STOCK_ADJUSTED = "StockAdjusted"
ORDERS_FULFILLED = "OrdersFulfilled"
INSUFFICIENT_STOCK = "InsufficientStock"
BUSINESS_METRICS = (STOCK_ADJUSTED, ORDERS_FULFILLED, INSUFFICIENT_STOCK)

# The stream handler's (resolvers/stream.py), per batch: events published, and records failed (partial failures,
# which Lambda's own Errors metric never counts; a batch that fails whole is a function error instead).
EVENTS_PUBLISHED = "EventsPublished"
STREAM_RECORDS_FAILED = "StreamRecordsFailed"

# The expiry handler's (resolvers/expiry.py), per batch: items whose ended holds it tidied away (each such write is
# then heard as an ItemChanged). Messages that fail are retried and end in the holds' dead-letter queue (alarmed).
HOLDS_EXPIRED = "HoldsExpired"
