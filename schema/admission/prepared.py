"""Admission step 2, the document prepared: parsed (at most ``EXCHANGE_MAX_TOKENS`` tokens),
validated against the schema, and checked against the shape limits (schema.admission.limits)
and literal values (schema.admission.literals) once per distinct text; the result is cached,
so every transport and Strawberry's own execution reuse one parse.

Every refusal is a GraphQLError with ``extensions.code``; transports answer them as request
errors (no ``data``), so nothing of the operation has run.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
    specified_rules,
    validate,
)
from graphql.language import Lexer, Source, TokenKind
from graphql.validation import NoSchemaIntrospectionCustomRule, ValuesOfCorrectTypeRule
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from exchange.documents import sha256_hex
from exchange.errors import TransportCode
from schema.admission.limits import Limits, limit_error, shape_errors
from schema.admission.literals import literal_errors

# Distinct documents kept parsed and validated; longer texts are not kept (a flood of big
# unique documents must not grow memory).
CACHE_SIZE = 1024
CACHE_MAX_CHARS = 32_000


@dataclass
class Prepared:
    """A parsed and checked document; ``errors`` non-empty means it must not run."""

    query: str
    sha256: str
    document: DocumentNode | None
    errors: list[GraphQLError]
    operations: dict[str | None, OperationDefinitionNode] = field(default_factory=dict)
    fragments: dict[str, FragmentDefinitionNode] = field(default_factory=dict)
    # Costs already computed for this document (schema.admission.pricing.cached_operation_cost).
    costs: dict[Any, Any] = field(default_factory=dict)
    # Compiled execution plans of its query operations (schema.engine.plan.compile_operation).
    plans: dict[Any, Any] = field(default_factory=dict)
    # Coerced values of variable sets sent before, and how its operations' variables are
    # coerced (schema.admission.variables).
    variables: dict[Any, Any] = field(default_factory=dict)
    coercions: dict[int, Any] = field(default_factory=dict)

    def operation(self, name: str | None) -> OperationDefinitionNode | None:
        if name:
            return self.operations.get(name)
        if len(self.operations) == 1:
            return next(iter(self.operations.values()))
        return None


class _LRU:
    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[tuple[Limits, str], Prepared] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[Limits, str]) -> Prepared | None:
        with self.lock:
            item = self.items.get(key)
            if item is not None:
                self.items.move_to_end(key)
            return item

    def put(self, key: tuple[Limits, str], value: Prepared) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)


_cache = _LRU(CACHE_SIZE)


def prepare(schema: GraphQLSchema, query: str, limits: Limits) -> Prepared:
    key = (limits, query)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    prepared = _prepare(schema, query, limits)
    if len(query) <= CACHE_MAX_CHARS:
        _cache.put(key, prepared)
    return prepared


class _MalformedLiterals(ValuesOfCorrectTypeRule):
    """graphql-core's rule for literals that do not fit their type (``country: "XX"``,
    ``first: "ten"``): the caller's input problem, as a variable's value is, so BAD_USER_INPUT.
    Every other rule's error is GRAPHQL_VALIDATION_FAILED."""

    def report_error(self, error: GraphQLError) -> None:
        error.extensions = {**(error.extensions or {}), "code": TransportCode.BAD_USER_INPUT}
        super().report_error(error)


_RULES = (
    *(_MalformedLiterals if rule is ValuesOfCorrectTypeRule else rule for rule in specified_rules),
    MaybeNullValidationRule,
    OneOfInputValidationRule,
)


def parse_refusal(query: str, error: GraphQLError, max_tokens: int) -> GraphQLError:
    """What a document that does not parse is refused with: TOO_MANY_TOKENS when parsing
    stopped past ``max_tokens`` well-formed tokens (whatever follows them), else graphql-core's
    syntax error as GRAPHQL_PARSE_FAILED."""
    if tokens_before(query, error) >= max_tokens:
        return limit_error(f"The document has more than {max_tokens} tokens.", TransportCode.TOO_MANY_TOKENS)
    error.extensions = {**(error.extensions or {}), "code": TransportCode.GRAPHQL_PARSE_FAILED}
    return error


def tokens_before(query: str, error: GraphQLError) -> int:
    """The tokens before where parsing stopped, comments included as ``max_tokens`` counts
    them. graphql-core stops at the first token past the limit, so a document refused for
    its size has ``max_tokens`` tokens before that point, and one with a syntax error fewer.
    Lexes at most that many tokens again, and only for documents that did not parse."""
    position = next(iter(error.positions or ()), None)
    if position is None:
        return 0
    lexer = Lexer(Source(query[:position]))
    first = lexer.token
    try:
        while lexer.advance().kind is not TokenKind.EOF:
            pass
    except GraphQLError:
        return 0  # stopped inside a token: a syntax error
    count = 0
    token = first.next
    while token is not None and token.kind is not TokenKind.EOF:
        count += 1
        token = token.next
    return count


def _prepare(schema: GraphQLSchema, query: str, limits: Limits) -> Prepared:
    digest = sha256_hex(query)
    try:
        document = parse(query, max_tokens=limits.max_tokens)
    except GraphQLError as syntax_error:
        return Prepared(query, digest, None, [parse_refusal(query, syntax_error, limits.max_tokens)])

    rules = [*_RULES]
    if not limits.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    errors = validate(schema, document, rules, max_errors=20, hide_suggestions=limits.hide_suggestions)
    for error in errors:
        if not (error.extensions or {}).get("code"):
            error.extensions = {**(error.extensions or {}), "code": TransportCode.GRAPHQL_VALIDATION_FAILED}
    if errors:
        return Prepared(query, digest, document, errors)

    operations: dict[str | None, OperationDefinitionNode] = {}
    fragments: dict[str, FragmentDefinitionNode] = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            operations[definition.name.value if definition.name else None] = definition
        elif isinstance(definition, FragmentDefinitionNode):
            fragments[definition.name.value] = definition
    prepared = Prepared(query, digest, document, [], operations, fragments)
    prepared.errors = [
        *shape_errors(operations.values(), fragments, limits),
        *literal_errors(document, limits),
    ]
    return prepared
