"""Everything checked about a document before it runs: tokens, validity, depth, aliases,
root fields, literal list sizes — once per distinct document (cached), then per request
the variables' list sizes and the cost (schema.admission.cost).

Every refusal is a GraphQLError with ``extensions.code``; the HTTP view answers them as
request errors (no ``data``), so nothing of the operation has run.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    Visitor,
    parse,
    specified_rules,
    validate,
    visit,
)
from graphql.language import Lexer, Source, TokenKind
from graphql.validation import NoSchemaIntrospectionCustomRule, ValuesOfCorrectTypeRule
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from exchange.errors import TransportCode
from exchange.settings import Settings
from schema.admission.cost import COST_CEILING

# Distinct documents kept parsed and validated; longer texts are not kept (a flood of big
# unique documents must not grow memory).
CACHE_SIZE = 1024
CACHE_MAX_CHARS = 32_000


@dataclass(frozen=True)
class Limits:
    max_depth: int
    max_aliases: int
    max_tokens: int
    max_root_fields: int
    max_cost: int
    max_input_list: int
    page_size_cap: int
    introspection: bool
    max_fields: int = 10_000

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            max_depth=settings.max_depth,
            max_aliases=settings.max_aliases,
            max_tokens=settings.max_tokens,
            max_root_fields=settings.max_root_fields,
            max_cost=settings.max_cost,
            max_input_list=settings.max_input_list,
            page_size_cap=settings.page_size_cap,
            introspection=settings.introspection_enabled,
            max_fields=settings.max_fields,
        )

    @property
    def hide_suggestions(self) -> bool:
        # "Did you mean …" reveals the schema; where introspection is off, so are they.
        return not self.introspection


def limit_error(message: str, code: TransportCode, nodes: Any = None) -> GraphQLError:
    return GraphQLError(message, nodes=nodes, extensions={"code": code})


def too_costly_error(cost: int, limit: int) -> GraphQLError:
    amount = f"at least {cost}" if cost >= COST_CEILING else str(cost)
    return limit_error(
        f"The operation would cost {amount} points; at most {limit} are allowed. Ask for smaller pages.",
        TransportCode.QUERY_TOO_COSTLY,
    )


@dataclass
class Prepared:
    """A parsed and checked document; ``errors`` non-empty means it must not run."""

    query: str
    sha256: str
    document: DocumentNode | None
    errors: list[GraphQLError]
    operations: dict[str | None, OperationDefinitionNode] = field(default_factory=dict)
    fragments: dict[str, FragmentDefinitionNode] = field(default_factory=dict)
    # Costs already computed for this document (schema.admission.cost.cached_operation_cost).
    costs: dict[Any, Any] = field(default_factory=dict)
    # Compiled execution plans of its query operations (schema.engine.plan.compile_operation).
    plans: dict[Any, Any] = field(default_factory=dict)

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


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


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
    prepared.errors = shape_errors(prepared, limits)
    return prepared


# ---------------------------------------------------------------- shape limits


@dataclass(frozen=True)
class Figures:
    """What a selection set amounts to with its fragments expanded where they are spread (a
    fragment spread twice counts twice, as in the cost)."""

    fields: int = 0  # fields at every level
    aliases: int = 0
    depth: int = 0  # introspection fields (``__schema``, ``__type``) do not count
    roots: int = 0  # fields at this level other than ``__typename``


_NOTHING = Figures()

# Counts stop growing here: nested spreads multiply, and a number with hundreds of digits
# tells the caller nothing more.
MANY = 10**15


def _count(number: int) -> str:
    return f"more than {MANY:,}" if number >= MANY else str(number)


class DocumentShape:
    """The figures of a document's selection sets, each fragment's computed once: expanding
    a spread at every use is 2^N work for N fragments that each spread the next twice,
    while the document stays a few hundred bytes. ``visits`` counts the selections looked
    at, which is at most the number of selections written in the document."""

    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.visits = 0
        self._figures: dict[str, Figures] = {}

    def of(self, selection_set: SelectionSetNode | None) -> Figures:
        if selection_set is None:
            return _NOTHING
        fields = aliases = depth = roots = 0
        for selection in selection_set.selections:
            self.visits += 1
            if isinstance(selection, FieldNode):
                name = selection.name.value
                below = self.of(selection.selection_set)
                fields += 1 + below.fields
                aliases += (0 if selection.alias is None else 1) + below.aliases
                if not name.startswith("__"):
                    # Introspection (allowed only where enabled) nests ofType deeply by design.
                    depth = max(depth, 1 + below.depth)
                roots += 0 if name == "__typename" else 1
                continue
            if isinstance(selection, InlineFragmentNode):
                inner = self.of(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                inner = self.fragment(selection.name.value)
            else:  # pragma: no cover - a selection kind this graphql-core does not have
                continue
            fields += inner.fields
            aliases += inner.aliases
            depth = max(depth, inner.depth)
            roots += inner.roots
        return Figures(min(fields, MANY), min(aliases, MANY), depth, min(roots, MANY))

    def fragment(self, name: str) -> Figures:
        figures = self._figures.get(name)
        if figures is None:
            definition = self.fragments.get(name)
            # Marked before the walk: a cycle (validation refuses those) ends here.
            self._figures[name] = _NOTHING
            figures = self._figures[name] = self.of(definition.selection_set if definition else None)
        return figures


class _Literals(Visitor):
    """The longest literal list, and the first literal string holding a NUL."""

    def __init__(self) -> None:
        super().__init__()
        self.longest = 0
        self.node: ListValueNode | None = None
        self.nul: StringValueNode | None = None

    def enter_list_value(self, node: ListValueNode, *_args: Any) -> None:
        if len(node.values) > self.longest:
            self.longest, self.node = len(node.values), node

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> None:
        if self.nul is None and "\x00" in node.value:
            self.nul = node


def shape_errors(prepared: Prepared, limits: Limits) -> list[GraphQLError]:
    errors: list[GraphQLError] = []
    shape = DocumentShape(prepared.fragments)
    for operation in prepared.operations.values():
        label = f"Operation '{operation.name.value}'" if operation.name else "The operation"
        figures = shape.of(operation.selection_set)
        if figures.fields > limits.max_fields:
            errors.append(
                limit_error(
                    f"{label} selects {_count(figures.fields)} fields once its fragments are expanded where "
                    f"they are spread; at most {limits.max_fields} are allowed.",
                    TransportCode.TOO_MANY_FIELDS,
                    operation,
                )
            )
        if figures.depth > limits.max_depth:
            errors.append(
                limit_error(
                    f"{label} is {figures.depth} levels deep; at most {limits.max_depth} are allowed.",
                    TransportCode.QUERY_TOO_DEEP,
                    operation,
                )
            )
        if figures.aliases > limits.max_aliases:
            errors.append(
                limit_error(
                    f"{label} uses {_count(figures.aliases)} aliases; at most {limits.max_aliases} are allowed.",
                    TransportCode.TOO_MANY_ALIASES,
                    operation,
                )
            )
        if figures.roots > limits.max_root_fields:
            errors.append(
                limit_error(
                    f"{label} selects {_count(figures.roots)} root fields; at most {limits.max_root_fields} are allowed.",
                    TransportCode.TOO_MANY_ROOT_FIELDS,
                    operation,
                )
            )
    assert prepared.document is not None
    literals = _Literals()
    visit(prepared.document, literals)
    if literals.longest > limits.max_input_list:
        errors.append(input_list_error(literals.longest, limits, literals.node))
    if literals.nul is not None:
        errors.append(nul_error(literals.nul))
    return errors


def input_list_error(length: int, limits: Limits, node: Any = None) -> GraphQLError:
    return limit_error(
        f"An input list has {length} items; at most {limits.max_input_list} are allowed per list.",
        TransportCode.INPUT_LIST_TOO_LONG,
        node,
    )


def nul_error(node: Any = None) -> GraphQLError:
    # PostgreSQL text cannot hold U+0000: refused up front, the same on every database,
    # instead of failing inside a statement as an internal error.
    return limit_error(
        "Text must not contain the NUL character (U+0000).", TransportCode.BAD_USER_INPUT, node
    )


def contains_nul(value: object) -> bool:
    """Whether any string anywhere in a JSON value (the request's variables) holds a NUL."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return False


def longest_list(value: object) -> int:
    """The length of the longest list anywhere in a JSON value (the request's variables)."""
    longest = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            longest = max(longest, len(item))
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return longest
