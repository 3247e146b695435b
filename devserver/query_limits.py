"""AppSync's query limits on the local server: ``queryDepthLimit`` and ``resolverCountLimit`` (inventory/limits.py).

Both are measured on the operation about to run, before GraphQL validates it and before any resolver runs, and a
request over either is refused whole with one error naming the limit and the measured figure. AppSync itself answers
``QueryDepthLimitReached`` / ``ResolverExecutionLimitReached`` (its errorTypes, used here too) on the fields past the
limit and runs the rest; refusing the whole request keeps a refused query from writing half its mutations.

- Depth counts the top-level field as 1; fragments add no level; introspection fields (``__schema``...) count 0.
- Resolver count: every field that has a resolver on AppSync counts once per time it runs. A field has one when the
  mirror binds an operation to it (devserver/resolvers.py: the fields of inventory.fields.FIELDS, which the stack
  reads too); the subscription fields' events are the mutations' responses and run nothing. Aliases count
  separately. A field with a ``limit`` argument returns a page, whose list fields hold at most that many elements:
  ``limit`` as the resolver reads it (variables resolved, the configured default page size when omitted, none when
  out of bounds, since the resolver then refuses it). A list outside a page counts as the maximum page size.

The document is walked with an explicit stack and every selection set (a fragment's included) is measured once per
type and page size, so 300 chained fragments or 15,000 aliases cost a walk over the document, never a recursion.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    get_named_type,
    value_from_ast,
)
from graphql.execution.values import VariableValues, get_variable_values
from graphql.language.parser import MAX_NESTING_DEPTH
from strawberry.extensions import SchemaExtension

from devserver.errors import AppSyncError
from inventory import inputs
from inventory.config import Settings
from inventory.errors import ValidationError
from inventory.limits import QUERY_DEPTH_LIMIT, RESOLVER_COUNT_LIMIT

# The most tokens a document may hold, the local server's own limit (AppSync documents none): parsing is pure Python
# on the event loop, tens of microseconds a token, and a 1 MB body holds some 300,000. Real operations hold tens (the
# largest in examples/, 65); issue 7's probe of 1,000 aliased pages (20,000) is refused by its resolver count instead.
MAX_DOCUMENT_TOKENS = 25_000


@dataclass(frozen=True)
class FieldShape:
    type_name: str  # the named type it returns
    is_list: bool
    paged: bool  # takes a limit argument: returns a page
    has_resolver: bool  # has a resolver on AppSync


@dataclass(frozen=True)
class Measure:
    depth: int  # fields nested, as AppSync counts them
    resolvers: int  # resolver invocations, at most
    nesting: int  # selection sets nested, fragments included, as graphql-core's validation counts them


def schema_shape(schema: GraphQLSchema) -> dict[str, dict[str, FieldShape]]:
    """Per object type, per field, what the measure needs to know."""
    subscription = schema.subscription_type
    shapes: dict[str, dict[str, FieldShape]] = {}
    for type_name, graphql_type in schema.type_map.items():
        if not isinstance(graphql_type, GraphQLObjectType) or type_name.startswith("__"):
            continue
        fields = shapes[type_name] = {}
        for field_name, field in graphql_type.fields.items():
            inner = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
            fields[field_name] = FieldShape(
                type_name=get_named_type(field.type).name,
                is_list=isinstance(inner, GraphQLList),
                paged="limit" in field.args,
                has_resolver=graphql_type is not subscription and field.resolve is not None,
            )
    return shapes


_shapes = functools.cache(schema_shape)  # the schema never changes: read its shape once


def resolver_fields(schema: GraphQLSchema) -> set[tuple[str, str]]:
    """``(type, field)`` of every field that has a resolver on AppSync."""
    return {
        (type_name, field_name)
        for type_name, fields in schema_shape(schema).items()
        for field_name, shape in fields.items()
        if shape.has_resolver
    }


# A selection set to measure: (its node's id, the type it selects on, the page size of the enclosing page or None).
_Task = tuple[int, str, int | None]


@dataclass(frozen=True)
class _Part:
    """One selection of a selection set: what it adds itself, and the selection set (task) it contains, if any."""

    levels: int  # 1 for a field, 0 for a fragment
    own: int  # resolvers it runs itself
    times: int  # how many times its selection set runs
    task: _Task | None
    node: SelectionSetNode | None


class _Walk:
    """One operation's measure. Each task is measured once, after the tasks it contains, with an explicit stack."""

    def __init__(
        self,
        shapes: Mapping[str, Mapping[str, FieldShape]],
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        settings: Settings,
        count_resolvers: bool,
    ) -> None:
        self.shapes, self.fragments, self.variables, self.settings = shapes, fragments, variables, settings
        self.count_resolvers = count_resolvers

    def measure(self, selection_set: SelectionSetNode, type_name: str) -> Measure:
        root: _Task = (id(selection_set), type_name, None)
        nodes = {id(selection_set): selection_set}
        done: dict[_Task, Measure] = {}
        started: dict[_Task, list[_Part]] = {}  # tasks whose contained tasks are being measured
        stack = [root]
        while stack:
            task = stack[-1]
            if task in done:
                stack.pop()
            elif task not in started:
                parts = started[task] = list(self._parts(nodes[task[0]], task[1], task[2]))
                for part in parts:
                    if part.task is not None and part.node is not None:
                        nodes[part.task[0]] = part.node
                        if part.task not in done and part.task not in started:
                            stack.append(part.task)
            else:
                stack.pop()
                done[task] = self._combine(started.pop(task), done)
        return done[root]

    @staticmethod
    def _combine(parts: list[_Part], done: Mapping[_Task, Measure]) -> Measure:
        depth = resolvers = nesting = 0
        for part in parts:
            # A contained task not done yet is an ancestor: a fragment cycle, which validation refuses. It counts 0.
            inner = done.get(part.task, Measure(0, 0, 0)) if part.task is not None else Measure(0, 0, 0)
            depth = max(depth, part.levels + inner.depth)
            resolvers += part.own + part.times * inner.resolvers
            nesting = max(nesting, inner.nesting)
        return Measure(depth, resolvers, 1 + nesting)

    def _parts(self, selection_set: SelectionSetNode, type_name: str, page: int | None) -> Iterator[_Part]:
        fields = self.shapes.get(type_name, {})
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                shape = fields.get(name)
                if name.startswith("__") or shape is None:
                    continue  # introspection counts nothing; an unknown field is for validation to refuse
                own = int(shape.has_resolver and self.count_resolvers)
                times = (self.settings.max_page_size if page is None else page) if shape.is_list else 1
                child = selection.selection_set
                task = None if child is None else (id(child), shape.type_name, self._page_size(selection, shape))
                yield _Part(1, own, times, task, child)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition.name.value if selection.type_condition else type_name
                yield _Part(0, 0, 1, (id(selection.selection_set), condition, page), selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    task = (id(fragment.selection_set), fragment.type_condition.name.value, page)
                    yield _Part(0, 0, 1, task, fragment.selection_set)

    def _page_size(self, field: FieldNode, shape: FieldShape) -> int | None:
        """How many elements the page this field returns can hold (its limit as the resolver reads it), or None
        when it returns no page."""
        if not shape.paged:
            return None
        argument = next((argument for argument in field.arguments or () if argument.name.value == "limit"), None)
        value = None if argument is None else value_from_ast(argument.value, GraphQLInt, dict(self.variables))
        try:
            return inputs.limit(
                None if value is Undefined else value, self.settings.default_page_size, self.settings.max_page_size
            )
        except ValidationError:
            return 0  # the resolver refuses it: no page, nothing below it runs


def measure_operation(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    raw_variables: Mapping[str, Any] | None,
    settings: Settings,
) -> Measure:
    root = schema.get_root_type(operation.operation)
    if root is None:
        return Measure(0, 0, 0)
    coerced = get_variable_values(schema, operation.variable_definitions or (), dict(raw_variables or {}))
    # Variables that do not coerce are refused by execution anyway; measure with what was sent.
    variables = coerced.coerced if isinstance(coerced, VariableValues) else dict(raw_variables or {})
    walk = _Walk(_shapes(schema), fragments, variables, settings, operation.operation is not OperationType.SUBSCRIPTION)
    return walk.measure(operation.selection_set, root.name)


def limit_error(measure: Measure) -> AppSyncError | None:
    """The refusal of an operation of this measure, or None when it is within the limits."""
    if measure.depth > QUERY_DEPTH_LIMIT:
        message = (
            f"The query nests {measure.depth} levels deep, more than the query depth limit of {QUERY_DEPTH_LIMIT} "
            "(queryDepthLimit); nothing was run. Select fewer nested fields."
        )
        info = {"limit": QUERY_DEPTH_LIMIT, "depth": measure.depth}
        return AppSyncError(GraphQLError(message), "QueryDepthLimitReached", message, info)
    if measure.resolvers > RESOLVER_COUNT_LIMIT:
        message = (
            f"The query can invoke {measure.resolvers} resolvers, more than the resolver count limit of "
            f"{RESOLVER_COUNT_LIMIT} (resolverCountLimit); nothing was run. Ask for smaller pages (limit), fewer "
            "aliases or fewer nested movements."
        )
        info = {"limit": RESOLVER_COUNT_LIMIT, "resolvers": measure.resolvers}
        return AppSyncError(GraphQLError(message), "ResolverExecutionLimitReached", message, info)
    if measure.nesting > MAX_NESTING_DEPTH:
        # graphql-core's validation would stop here with an untyped "Validation aborted.": say why, with a type.
        message = (
            f"The query nests {measure.nesting} selection sets deep, fragments included, more than the "
            f"{MAX_NESTING_DEPTH} the server's GraphQL validation accepts; nothing was run. Chain fewer fragments."
        )
        info = {"limit": MAX_NESTING_DEPTH, "nesting": measure.nesting}
        return AppSyncError(GraphQLError(message), "QueryDepthLimitReached", message, info)
    return None


class QueryLimits(SchemaExtension):
    """Refuses an operation over either limit before validation (whose rules are the slow part on a huge document)
    and before any resolver runs. Setting the pre-execution errors makes Strawberry skip validation and execution."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        operation = _operation(document.definitions, context.operation_name) if document else None
        if document is not None and operation is not None:
            fragments = {
                definition.name.value: definition
                for definition in document.definitions
                if isinstance(definition, FragmentDefinitionNode)
            }
            schema = context.schema._schema
            settings: Settings = context.context.service.settings
            measure = measure_operation(schema, operation, fragments, context.variables, settings)
            error = limit_error(measure)
            if error is not None:
                context.pre_execution_errors = [error]
        yield


def _operation(definitions: Any, name: str | None) -> OperationDefinitionNode | None:
    operations = [definition for definition in definitions if isinstance(definition, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((operation for operation in operations if operation.name and operation.name.value == name), None)
