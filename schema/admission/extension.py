"""The Strawberry hook of admission: an operation the HTTP view admitted runs its prepared
document (no second parse or validation); one that arrived by WebSocket passes the same
shape limits, allow-list (schema.admission.document) and cost rule (schema.admission.pricing)
here, before Strawberry executes it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from graphql import GraphQLError
from graphql.execution.values import get_variable_values
from strawberry.extensions import SchemaExtension

from exchange.errors import TransportCode
from exchange.settings import Settings
from schema.admission import document
from schema.admission.cost import CostError
from schema.admission.limits import Limits, Prepared, limit_error, prepare
from schema.admission.pricing import cost_refusal, operation_price


class PreparedDocument(SchemaExtension):
    """Lets Strawberry reuse what the HTTP view prepared (no second parse or validation),
    and applies the same cached checks to operations arriving by WebSocket."""

    _prepared: Prepared | None = None

    # Set when the document did not come through the HTTP view (WebSocket) and only
    # registered documents may run: the allow-list is checked here then.
    _check_allow_list = False
    _refusal: GraphQLError | None = None
    _max_tokens: int | None = None
    # Set for operations that did not come through the HTTP view (which checks the cost
    # itself): the cost is checked here then, with the same rules.
    _settings: Settings | None = None

    def _get(self) -> Prepared | None:
        execution_context = self.execution_context
        query = execution_context.query
        if not query:
            return None
        context = execution_context.context
        extras = getattr(context, "extras", None)
        prepared = extras.get("prepared") if isinstance(extras, dict) else None
        if isinstance(prepared, Prepared) and prepared.query == query:
            return prepared
        settings = getattr(context, "settings", None)
        if not isinstance(settings, Settings):
            return None
        self._check_allow_list = settings.persisted_queries_only
        self._max_tokens = settings.max_tokens
        self._settings = settings
        return prepare(execution_context.schema._schema, query, Limits.from_settings(settings))

    async def on_parse(self) -> AsyncIterator[None]:
        # Refusals go through on_validate: Strawberry reports pre-execution errors on every
        # transport, while an exception raised here would end a WebSocket operation silently.
        prepared = self._prepared = self._get()
        unparsed: GraphQLError | None = None
        if prepared is not None:
            if prepared.document is None:
                # Strawberry's own parse then fails inside its error handling, with our limit.
                if self._max_tokens is not None:
                    self.execution_context.parse_options["max_tokens"] = self._max_tokens
                self._prepared = None
                unparsed = prepared.errors[0]
            else:
                if self._check_allow_list and not await document.registered(None, prepared.sha256):
                    self._refusal = limit_error(
                        document.NOT_REGISTERED, TransportCode.PERSISTED_QUERY_NOT_ALLOWED
                    )
                self.execution_context.graphql_document = prepared.document
        yield
        if unparsed is not None:
            # Strawberry's syntax error stays (graphql-transport-ws closes 4400 on it), with
            # our code: graphql-ws sends it unformatted, and said GRAPHQL_VALIDATION_FAILED
            # for a document refused over HTTP as TOO_MANY_TOKENS or GRAPHQL_PARSE_FAILED.
            for error in self.execution_context.pre_execution_errors or ():
                error.extensions = {**(error.extensions or {}), "code": (unparsed.extensions or {})["code"]}

    def on_validate(self) -> Iterator[None]:
        if self._refusal is not None:
            self.execution_context.pre_execution_errors = [self._refusal]
        elif self._prepared is not None:
            errors = list(self._prepared.errors)
            if not errors and self._settings is not None:
                errors = self._cost_errors(self._prepared, self._settings)
            self.execution_context.pre_execution_errors = errors
        yield

    def _cost_errors(self, prepared: Prepared, settings: Settings) -> list[GraphQLError]:
        """The HTTP view's cost rule for an operation that arrived another way (WebSocket): a
        subscription runs its selection for every event, so its cost is bounded the same way."""
        execution_context = self.execution_context
        operation = prepared.operation(execution_context.operation_name)
        if operation is None:
            return []  # Strawberry reports the missing or ambiguous operation
        schema = execution_context.schema._schema
        # Coerced, as over HTTP: a variable left out takes its default value, which may be a
        # page over the cap (the raw variables do not hold it, and that page then ran).
        variables = get_variable_values(
            schema, operation.variable_definitions or (), execution_context.variables or {}, max_errors=1
        )
        if isinstance(variables, list):
            return []  # malformed variables: their coercion refuses them with a clear error
        try:
            cost = operation_price(schema, prepared, operation, variables.coerced, settings)
        except CostError as error:
            return [error]
        except (TypeError, ValueError):
            return []  # malformed variables: their coercion refuses them with a clear error
        refusal = cost_refusal(cost, settings)
        return [refusal] if refusal is not None else []
