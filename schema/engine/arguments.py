"""A field's argument values for one request, as graphql-core's ``get_argument_values``
gives them, without running it per request where the answer is already known.

* Arguments that use no variable are coerced once (``static``).
* Otherwise the values depend on the request's variables, and graphql-core's coercion of every
  argument would run again per request and field (about 150 bytecodes a field, profiled on a
  node lookup). Where each argument is either a variable (``$id``, not inside a list or an
  object) or a literal without one, graphql-core's answer is the answer it gave before with
  each variable's coerced value in its argument's place, as long as every such variable has a
  value, non-null where its argument is: ``coerce_argument`` then takes the value as it is
  (``coerce_input_literal``, "no further checking"), and the literals and defaults do not
  change. That first answer is kept as a ``template``, without the request's own values (an id,
  an invitation token: nothing a caller sent stays in memory after its request, as admission
  promises for the variables it remembers). Anything else (a variable without a value, a null
  for a non-null argument, a nested variable) runs graphql-core, which also reports the errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import FieldNode, GraphQLField, VariableNode, is_non_null_type
from graphql.execution.values import VariableValues, get_argument_values

_MISSING = object()


@dataclass(eq=False)
class Arguments:
    """A field's argument values per request. The values are read, never changed, by their
    users (a template's copy is handed out, never the template)."""

    definition: GraphQLField
    node: FieldNode
    static: dict[str, Any] | None
    # (argument's out name, variable name, non-null argument) for each argument given as a
    # variable; None (no template) when some argument nests a variable, or when not known.
    variables: tuple[tuple[str, str, bool], ...] | None = None
    template: dict[str, Any] | None = field(default=None, repr=False)

    def values(self, variables: VariableValues) -> dict[str, Any]:
        if self.static is not None:
            return self.static
        coerced = variables.coerced
        template = self.template
        if template is not None and self._fits(coerced):
            found = dict(template)
            for out_name, variable, _non_null in self.variables or ():
                found[out_name] = coerced[variable]
            return found
        found = get_argument_values(self.definition, self.node, variables)
        if template is None and self.variables is not None and self._fits(coerced):
            # Every key in graphql-core's order; the request's own values left out.
            self.template = {**found, **{out_name: None for out_name, _variable, _non_null in self.variables}}
        return found

    def _fits(self, coerced: dict[str, Any]) -> bool:
        """Every variable given as an argument has a value, non-null where its argument is."""
        for _out_name, variable, non_null in self.variables or ():
            value = coerced.get(variable, _MISSING)
            if value is _MISSING or (value is None and non_null):
                return False
        return True


def arguments_of(definition: GraphQLField, node: FieldNode) -> Arguments:
    """The field's Arguments; raises what graphql-core raises for a literal its type refuses
    when no argument uses a variable."""
    if not uses_variables(node):
        return Arguments(definition, node, get_argument_values(definition, node))
    return Arguments(definition, node, None, variables=_given_as_variables(definition, node))


def _given_as_variables(
    definition: GraphQLField, node: FieldNode
) -> tuple[tuple[str, str, bool], ...] | None:
    given: list[tuple[str, str, bool]] = []
    for argument in node.arguments or ():
        name = argument.name.value
        value = argument.value
        if isinstance(value, VariableNode):
            argument_definition = definition.args.get(name)
            if argument_definition is None:  # not in the schema: validation refused the document
                return None
            out_name = argument_definition.out_name or name
            given.append((out_name, value.name.value, is_non_null_type(argument_definition.type)))
        elif _nests_variables(value):
            return None
    return tuple(given)


def uses_variables(node: Any) -> bool:
    """Whether a field's arguments reference a variable anywhere (lists and objects too)."""
    return any(_nests_variables(argument.value) for argument in node.arguments or ())


def _nests_variables(value: Any) -> bool:
    stack: list[Any] = [value]
    while stack:
        value = stack.pop()
        if isinstance(value, VariableNode):
            return True
        stack.extend(getattr(value, "values", None) or ())
        stack.extend(item.value for item in getattr(value, "fields", None) or ())
    return False
