"""Secrets shown once: fields whose value is a credential (an API key, a webhook signing
secret) that the server shows in one response and then keeps only as a hash, or not at all.

Such a field is declared where it is defined, with ``shown_once(...)`` instead of
``strawberry.field(...)``; the transport never names mutations. What depends on it:

- ``Idempotency-Key``: a mutation's response is kept for replays (exchange/idempotency.py);
  ``for_replay`` gives the copy that may be kept: every shown-once value in it null, and an
  error at that value's path (``SECRET_NOT_REPLAYED``) saying why and what to do. The
  secret itself is never written to the idempotency table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson
import strawberry
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
    is_abstract_type,
)

from exchange.errors import TransportCode
from schema.engine.fastpath import BACKREF

# Key in a Strawberry field's metadata; its value is the advice given when the secret is
# not repeated (what a client that lost it does instead).
SHOWN_ONCE = "exchange.shown_once"
SECRET_NOT_REPLAYED = TransportCode.SECRET_NOT_REPLAYED


def shown_once(*, description: str, if_lost: str, resolver: Any = None) -> Any:
    """A nullable field holding a secret shown in one response only; ``if_lost`` says what a
    client that did not receive it does (it goes out with the replay's error). ``resolver``:
    for a secret worked out only when the field is asked for (else the root's attribute)."""
    if resolver is not None:
        return strawberry.field(resolver=resolver, description=description, metadata={SHOWN_ONCE: if_lost})
    return strawberry.field(default=None, description=description, metadata={SHOWN_ONCE: if_lost})


def advice(field: GraphQLField) -> str | None:
    """The field's ``if_lost`` advice when it holds a shown-once secret, else None."""
    definition = (field.extensions or {}).get(BACKREF)
    metadata: Mapping[Any, Any] = getattr(definition, "metadata", None) or {}
    value = metadata.get(SHOWN_ONCE)
    return value if isinstance(value, str) else None


def shown_once_fields(schema: GraphQLSchema) -> list[tuple[str, str, GraphQLField]]:
    """Every (type name, field name, field) declared shown-once in the schema."""
    found = []
    for type_ in schema.type_map.values():
        if isinstance(type_, GraphQLObjectType) and not type_.name.startswith("__"):
            for name, field in type_.fields.items():
                if advice(field) is not None:
                    found.append((type_.name, name, field))
    return found


def for_replay(
    schema: GraphQLSchema,
    root: GraphQLObjectType,
    selection_set: SelectionSetNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    body: dict[str, Any],
) -> dict[str, Any]:
    """The response as it may be stored for replays: each shown-once value replaced by null,
    with an error at its path. If a withheld value still appears anywhere in what would be
    stored (a field echoing it that is not declared), nothing of the response is kept: the
    replay then carries only the error."""
    data = body.get("data")
    if not isinstance(data, dict):
        return body
    withheld: list[tuple[list[str | int], str, str]] = []
    kept = _withhold(schema, root, [selection_set], fragments, data, [], withheld)
    if not withheld:
        return body
    stored = {**body, "data": kept}
    errors = [
        {
            "message": "This secret was shown only in the first response to this Idempotency-Key and "
            f"is not kept, so the replay cannot repeat it. {if_lost}",
            "path": path,
            "extensions": {"code": SECRET_NOT_REPLAYED},
        }
        for path, _secret, if_lost in withheld
    ]
    stored["errors"] = [*(body.get("errors") or []), *errors]
    text = orjson.dumps(stored)
    if any(secret.encode() in text for _path, secret, _if_lost in withheld):
        return {
            "data": None,
            "errors": [
                {
                    "message": "This response carried a secret shown only once; it is not kept, so "
                    "the replay cannot repeat it. Look up what the first request did, and issue "
                    "the secret again if it was lost.",
                    "extensions": {"code": SECRET_NOT_REPLAYED},
                }
            ],
        }
    return stored


def _withhold(
    schema: GraphQLSchema,
    parent: Any,
    selection_sets: Iterable[SelectionSetNode],
    fragments: Mapping[str, FragmentDefinitionNode],
    value: Any,
    path: list[str | int],
    withheld: list[tuple[list[str | int], str, str]],
) -> Any:
    if not isinstance(value, list | dict):
        return value
    fields = _fields_by_response_key(schema, parent, selection_sets, fragments)
    return _withhold_in(schema, fields, fragments, value, path, withheld)


def _withhold_in(
    schema: GraphQLSchema,
    fields_by_key: dict[str, list[tuple[GraphQLField, FieldNode]]],
    fragments: Mapping[str, FragmentDefinitionNode],
    value: Any,
    path: list[str | int],
    withheld: list[tuple[list[str | int], str, str]],
) -> Any:
    if isinstance(value, list):  # the items of a list share one selection: looked up once
        return [
            _withhold_in(schema, fields_by_key, fragments, item, [*path, index], withheld)
            for index, item in enumerate(value)
        ]
    if not isinstance(value, dict):
        return value
    out = dict(value)
    for key, fields in fields_by_key.items():
        if key not in out:
            continue  # skipped (@skip/@include) or of a type the value is not
        secret_advice = next((a for f, _ in fields if (a := advice(f)) is not None), None)
        if secret_advice is not None:
            if out[key] is not None:
                withheld.append(([*path, key], str(out[key]), secret_advice))
                out[key] = None
            continue
        child_sets = [node.selection_set for _, node in fields if node.selection_set is not None]
        if child_sets and out[key] is not None:
            child_type = get_named_type(fields[0][0].type)
            out[key] = _withhold(schema, child_type, child_sets, fragments, out[key], [*path, key], withheld)
    return out


def _fields_by_response_key(
    schema: GraphQLSchema,
    parent: Any,
    selection_sets: Iterable[SelectionSetNode],
    fragments: Mapping[str, FragmentDefinitionNode],
) -> dict[str, list[tuple[GraphQLField, FieldNode]]]:
    """Each response key with the field definitions it may stand for. Fragments are entered
    whatever their type condition (their fields looked up on that condition): for withholding,
    a key that may hold a secret is treated as one."""
    found: dict[str, list[tuple[GraphQLField, FieldNode]]] = {}
    seen: set[str] = set()

    def visit(type_: Any, selection_set: SelectionSetNode) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                for field in _lookup(schema, type_, selection.name.value):
                    key = selection.alias.value if selection.alias else selection.name.value
                    found.setdefault(key, []).append((field, selection))
            elif isinstance(selection, InlineFragmentNode):
                condition = (
                    schema.get_type(selection.type_condition.name.value)
                    if selection.type_condition
                    else type_
                )
                visit(condition or type_, selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is None or name in seen:
                    continue  # each fragment once: its fields are the same wherever it is spread
                seen.add(name)
                visit(schema.get_type(fragment.type_condition.name.value) or type_, fragment.selection_set)

    for selection_set in selection_sets:
        visit(parent, selection_set)
    return found


def _lookup(schema: GraphQLSchema, type_: Any, name: str) -> list[GraphQLField]:
    fields = getattr(type_, "fields", None)
    if isinstance(fields, dict) and name in fields:
        return [fields[name]]
    if is_abstract_type(type_):  # a union: the field may come from any of its members
        return [
            possible.fields[name] for possible in schema.get_possible_types(type_) if name in possible.fields
        ]
    return []
