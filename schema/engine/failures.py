"""Field errors of a compiled execution (schema.engine.plan), reported as graphql-core reports them.

The plan resolves breadth first and notes each failure where it happens: the group of objects
and the object's index in it, the field, the list indices below the field, the error, and its
*round*. Nothing per object is kept for this on the happy path: an object's path is rebuilt
only when one of its fields failed, from its group's parent group and field (each group knows
both), by finding the object's result among the parent field's values.

graphql-core adds an error to its list when the failure reaches a nullable position, and it
reaches failures in the order its tasks run: the synchronous walk first, in document order,
then each awaited value when it settles. ``report`` orders the failures by

1. how many futures (a loader's batch, a database round trip) were waited on above and at the
   failure: graphql-core reaches nothing below a batch before the batch settles;
2. failures in nullable positions before those whose null goes up to a parent: graphql-core
   hands the latter up through its gathers, a loop turn each, while the former are added at
   once;
3. how many awaited fields lie above and at the failure (a task's first step comes after the
   synchronous walk);
4. document order, except that the failures of one field in one group keep the order in
   which they arrived: a batch settles its keys in the order they were first loaded, and each
   key wakes its waiters in the order they came.

and then applies them one by one the way graphql-core's ``CollectedErrors`` does
(https://spec.graphql.org/October2021/#sec-Handling-Field-Errors): a failure nulls the
nearest nullable position at or above it (the whole ``data`` when there is none), and an
error whose position lies under one already nulled is dropped, as graphql-core drops (or
never produces, having cancelled that work) the errors below a position it nulled. This is
graphql-core's order wherever it follows from the document and the batches; where it depends
on which of two unrelated batches the database answers first, graphql-core's own order
varies from run to run.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, located_error

# (futures waited on, awaited fields) above and at a failure: see the module's docstring.
Round = tuple[int, int]

# One step of a path: the response key or list index, its place in document order (the
# field's index in its object plan, or the list index), and whether the position is non-null.
Segment = tuple[str | int, int, bool]


class Failure:
    __slots__ = ("error", "field", "group", "index", "indices", "round")

    def __init__(
        self,
        group: Any,
        index: int,
        field: Any,
        indices: tuple[int, ...],
        error: BaseException,
        round_: Round,
    ) -> None:
        self.group = group  # the Group (schema.engine.state) of the object whose field failed
        self.index = index  # the object's index in the group
        self.field = field  # the FieldPlan
        self.indices = indices  # list indices below the field
        self.error = error
        self.round = round_


class _Locator:
    """Paths of objects, rebuilt from their groups (once per parent group and field)."""

    def __init__(self) -> None:
        # (id(parent group), id(field plan)) -> {id(result dict): (parent index, list indices)}
        self._places: dict[tuple[int, int], dict[int, tuple[int, tuple[int, ...]]]] = {}

    def _place(self, parent: Any, field: Any, result: dict[str, Any]) -> tuple[int, tuple[int, ...]]:
        places = self._places.get((id(parent), id(field)))
        if places is None:
            places = self._places[(id(parent), id(field))] = {}
            key = field.key

            def walk(value: Any, owner: int, indices: tuple[int, ...]) -> None:
                if isinstance(value, dict):
                    places[id(value)] = (owner, indices)
                elif isinstance(value, list):
                    for position, item in enumerate(value):
                        walk(item, owner, (*indices, position))

            for owner, parent_result in enumerate(parent.results):
                walk(parent_result.get(key), owner, ())
        return places[id(result)]

    def object_segments(self, group: Any, index: int) -> list[Segment]:
        segments: list[Segment] = []
        while group.parent is not None:
            parent, field = group.parent, group.field
            owner, indices = self._place(parent, field, group.results[index])
            segments[:0] = field_segments(parent, field, indices)
            group, index = parent, owner
        return segments


def field_segments(group: Any, field: Any, indices: tuple[int, ...]) -> list[Segment]:
    """The steps from an object of ``group`` to its ``field`` (and the list items below it)."""
    completion = field.completion
    segments: list[Segment] = [(field.key, group.plan.fields.index(field), completion.non_null)]
    for position in indices:
        completion = completion.item
        segments.append((position, position, completion.non_null))
    return segments


def report(failures: list[Failure], data: dict[str, Any]) -> tuple[dict[str, Any] | None, list[GraphQLError]]:
    """``data`` with the failed positions nulled as graphql-core nulls them, and the errors in
    graphql-core's order."""
    locator = _Locator()
    located: list[tuple[tuple[int, int, int], tuple[int, ...], list[Segment], Failure]] = []
    for failure in failures:
        segments = locator.object_segments(failure.group, failure.index)
        segments += field_segments(failure.group, failure.field, failure.indices)
        waits, hops = failure.round
        propagates = int(segments[-1][2])
        order = tuple(order for _key, order, _non_null in segments)
        located.append(((waits, propagates, hops), order, segments, failure))
    # Within one field of one group (and one round), the order of arrival: those failures take
    # the document positions they hold between them, in the order they arrived.
    buckets: dict[tuple[Any, ...], list[int]] = {}
    for number, (when, _order, _segments, failure) in enumerate(located):
        buckets.setdefault((when, id(failure.group), id(failure.field)), []).append(number)
    for numbers in buckets.values():
        if len(numbers) > 1:
            orders = sorted(located[number][1] for number in numbers)
            for number, order in zip(numbers, orders, strict=True):
                when, _order, segments, failure = located[number]
                located[number] = (when, order, segments, failure)
    located.sort(key=lambda item: (item[0], item[1]))

    errors: list[GraphQLError] = []
    nulled: set[tuple[str | int, ...]] = set()
    result: dict[str, Any] | None = data
    for _round, _order, segments, failure in located:
        if result is None:
            break  # the whole data is null: graphql-core keeps no error after that one
        path = [key for key, _order, _non_null in segments]
        # The nearest nullable position at or above the failure takes the null.
        depth = len(segments)
        while depth and segments[depth - 1][2]:
            depth -= 1
        position = tuple(path[:depth])
        if any(position[:length] in nulled for length in range(1, depth + 1)):
            continue
        errors.append(located_error(_exception(failure.error), list(failure.field.nodes), path))
        if not position:
            result = None
            continue
        nulled.add(position)
        holder: Any = result
        for step in position[:-1]:
            holder = holder[step]
            if holder is None:  # already null above (a value, not a failure): nothing to null
                break
        else:
            holder[position[-1]] = None
    return result, errors


def _exception(error: BaseException) -> Exception:
    """What graphql-core locates: an Exception (a cancelled load arrives as CancelledError)."""
    return error if isinstance(error, Exception) else RuntimeError(repr(error))
