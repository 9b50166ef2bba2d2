"""Rules an operation declares where it is defined (schema.admission.declarations), read by
admission from the built schema: any mutation declared with ``idempotency_scoped_by`` has its
Idempotency-Key scoped by that argument, and admission names no operation itself."""

from __future__ import annotations

import strawberry
from graphql import GraphQLSchema, OperationDefinitionNode, parse

from exchange import access, idempotency
from schema.admission.declarations import IDEMPOTENCY_SCOPE, declared, idempotency_scoped_by
from schema.admission.idempotency import declared_scope, key_scope
from schema.build import default_schema


@strawberry.type
class Query:
    ping: bool = True


@strawberry.type
class Mutation:
    @strawberry.mutation(metadata=idempotency_scoped_by("code"))
    def redeem_voucher(self, code: str, note: str | None = None) -> bool:
        return True

    @strawberry.mutation
    def leave_note(self, code: str) -> bool:
        return True


def tiny_schema() -> GraphQLSchema:
    return strawberry.Schema(query=Query, mutation=Mutation)._schema


def operation(document: str) -> OperationDefinitionNode:
    [definition] = parse(document).definitions
    assert isinstance(definition, OperationDefinitionNode)
    return definition


def test_a_declared_mutation_is_scoped_by_its_argument() -> None:
    schema = tiny_schema()
    literal = operation('mutation { redeemVoucher(code: "V-1", note: "x") }')
    variable = operation("mutation($c: String!) { redeemVoucher(code: $c) }")
    assert declared_scope(schema, literal, {}) == "V-1"
    assert declared_scope(schema, variable, {"c": "V-2"}) == "V-2"
    # The same argument on a mutation that declares nothing scopes nothing.
    assert declared_scope(schema, operation('mutation { leaveNote(code: "V-1") }'), {}) is None


def test_the_scope_decides_the_key_space_for_callers_without_an_api_key() -> None:
    schema = tiny_schema()
    anonymous = access.ANONYMOUS
    redeem = operation('mutation { redeemVoucher(code: "V-1") }')
    other_code = operation('mutation { redeemVoucher(code: "V-9") }')
    note = operation('mutation { leaveNote(code: "V-1") }')
    assert key_scope(schema, anonymous, redeem, {}, "10.0.0.1") == idempotency.scope_for_token("V-1")
    assert key_scope(schema, anonymous, other_code, {}, "10.0.0.1") != key_scope(
        schema, anonymous, redeem, {}, "10.0.0.1"
    )
    # Undeclared: the caller's address, as for any other anonymous mutation.
    assert key_scope(schema, anonymous, note, {}, "10.0.0.1") == "addr:10.0.0.1"
    # A caller with an API key: its key, whatever the mutation declares.
    keyed = access.Actor(access.Role.ADMIN, key_id="k1")
    assert key_scope(schema, keyed, redeem, {}, "10.0.0.1") == "key:k1"


def test_the_declaration_reaches_the_built_schema() -> None:
    mutation = default_schema()._schema.mutation_type
    assert mutation is not None
    declaring = {
        name: declared(field, IDEMPOTENCY_SCOPE)
        for name, field in mutation.fields.items()
        if declared(field, IDEMPOTENCY_SCOPE) is not None
    }
    assert declaring == {"respondToInvitation": "token"}


def test_a_declaration_leaves_the_sdl_alone() -> None:
    @strawberry.type(name="Mutation")
    class Undeclared:
        @strawberry.mutation
        def redeem_voucher(self, code: str, note: str | None = None) -> bool:
            return True

        @strawberry.mutation
        def leave_note(self, code: str) -> bool:
            return True

    declared_sdl = strawberry.Schema(query=Query, mutation=Mutation).as_str()
    plain_sdl = strawberry.Schema(query=Query, mutation=Undeclared).as_str()
    assert "redeemVoucher(code: String!" in declared_sdl
    assert declared_sdl == plain_sdl
