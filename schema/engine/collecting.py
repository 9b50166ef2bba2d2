"""Field collection as graphql-core does it (schema.engine.compiling, schema.engine.rows):
@skip/@include, fragments (each spread once) and type conditions, and the directives the plan
refuses (anything but @skip/@include: graphql-core runs those documents)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from graphql import (
    DirectiveNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    is_abstract_type,
    type_from_ast,
)

from schema.engine.field_plans import Fallback

EXECUTABLE_DIRECTIVES = frozenset({"skip", "include"})


class FieldCollector:
    """Collects an operation's fields per runtime type (the plan's ``collect``)."""

    schema: GraphQLSchema
    fragments: dict[str, FragmentDefinitionNode]
    directive_values: dict[str, Any]

    def _included(self, node: FieldNode | InlineFragmentNode | FragmentSpreadNode) -> bool:
        for directive in node.directives or ():
            name = directive.name.value
            if name not in EXECUTABLE_DIRECTIVES:
                raise Fallback  # @defer, @stream, or anything graphql-core handles itself
            value = self._directive_argument(directive)
            if (name == "skip" and value is True) or (name == "include" and value is not True):
                return False
        return True

    def _directive_argument(self, directive: DirectiveNode) -> Any:
        for argument in directive.arguments or ():
            if argument.name.value == "if":
                value = argument.value
                if isinstance(value, VariableNode):
                    return self.directive_values.get(value.name.value)
                return getattr(value, "value", None)
        return None

    def _matches(self, condition: Any, runtime: GraphQLObjectType) -> bool:
        if condition is None:
            return True
        conditional = type_from_ast(self.schema, condition)
        if conditional is runtime:
            return True
        if is_abstract_type(conditional):
            return self.schema.is_sub_type(conditional, runtime)
        return False

    def collect(
        self,
        runtime: GraphQLObjectType,
        selection_sets: Iterable[SelectionSetNode],
    ) -> dict[str, list[FieldNode]]:
        grouped: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()

        def visit(selection_set: SelectionSetNode) -> None:
            for selection in selection_set.selections:
                if not self._included(selection):  # type: ignore[arg-type]
                    continue
                if isinstance(selection, FieldNode):
                    key = selection.alias.value if selection.alias else selection.name.value
                    grouped.setdefault(key, []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    if self._matches(selection.type_condition, runtime):
                        visit(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    if name in visited:
                        continue
                    visited.add(name)
                    fragment = self.fragments.get(name)
                    if fragment is not None and self._matches(fragment.type_condition, runtime):
                        visit(fragment.selection_set)
                else:  # pragma: no cover - a selection kind this graphql-core does not have
                    raise Fallback

        for selection_set in selection_sets:
            visit(selection_set)
        return grouped


def _directives(
    operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]
) -> Iterator[DirectiveNode]:
    """Every directive on a selection of the operation or of its fragments."""
    stack: list[Any] = [operation.selection_set, *(f.selection_set for f in fragments.values())]
    while stack:
        selection_set = stack.pop()
        for selection in selection_set.selections:
            yield from selection.directives or ()
            if getattr(selection, "selection_set", None) is not None:
                stack.append(selection.selection_set)


def refuse_other_directives(
    operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]
) -> None:
    """Fallback when any selection carries a directive other than @skip/@include (@defer,
    @stream: graphql-core's own)."""
    for directive in _directives(operation, fragments):
        if directive.name.value not in EXECUTABLE_DIRECTIVES:
            raise Fallback


def directive_variables(
    operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]
) -> tuple[str, ...]:
    """Variables that @skip/@include read: their values select the plan."""
    found: list[str] = []
    for directive in _directives(operation, fragments):
        for argument in directive.arguments or ():
            if isinstance(argument.value, VariableNode) and argument.value.name.value not in found:
                found.append(argument.value.name.value)
    return tuple(sorted(found))
