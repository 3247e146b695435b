"""One log line per GraphQL operation (``--verbose``): its name, type and root fields, how long it took, and the
errorType of each error, e.g. ``ListItems: query listItems, 14 ms`` or ``mutation createItem, 9 ms: DuplicateSku``.

It is a schema extension, so HTTP requests and websocket subscriptions are logged alike, and the line reports the
same errorType the client receives. The logger is quiet unless the command line turns it on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from graphql import FieldNode, OperationDefinitionNode
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension

from devserver.errors import appsync_error

logger = logging.getLogger("devserver.requests")


class RequestLog(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        if logger.isEnabledFor(logging.INFO):
            milliseconds = (time.perf_counter() - started) * 1000
            logger.info("%s, %.0f ms%s", self._operation(), milliseconds, self._errors())

    def _operation(self) -> str:
        context = self.execution_context
        document = context.graphql_document
        operation = get_operation_ast(document, context.operation_name) if document else None
        if not isinstance(operation, OperationDefinitionNode):
            return "unparsed or unknown operation"
        fields = [node.name.value for node in operation.selection_set.selections if isinstance(node, FieldNode)]
        name = f"{operation.name.value}: " if operation.name else ""
        return f"{name}{operation.operation.value} {' '.join(fields) or '(fragments)'}"

    def _errors(self) -> str:
        result = self.execution_context.result
        errors = getattr(result, "errors", None) or self.execution_context.pre_execution_errors or []
        # Errors GraphQL itself raises (syntax, validation) carry no errorType; the line still says there was one.
        types = [appsync_error(error).error_type or "GraphQLError" for error in errors]
        return f": {', '.join(types)}" if types else ""
