"""FULL_TRANSITIVE compatibility between versions of one event's JSON Schema.

Every consumer, built against any published revision, must read events from a
producer of any other revision. Consumers decode tolerantly (`Event.decode`
ignores unknown fields at every depth), so the producer schema being closed
(`additionalProperties: false`) does not make a new optional field a break.

For each ordered pair (reader revision, writer revision) a reader accepts what a
writer may send when, at every path:

- each field the reader requires is one the writer always sends;
- the writer's types are a subset of the reader's (an integer reads as a number,
  never the reverse; `null` only where the reader allows it);
- the writer's values stay inside the reader's constraints (enum values,
  lengths, bounds, pattern, format), since consumers validate them.

Independently of those rules, a field once published is never removed: a
subscriber may depend on its value even where its absence would still parse.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Schema = Mapping[str, Any]

_NUMERIC_BOUNDS = (
    # keyword, True when a larger reader bound is the looser one
    ("maximum", True),
    ("exclusiveMaximum", True),
    ("minimum", False),
    ("exclusiveMinimum", False),
    ("maxLength", True),
    ("minLength", False),
    ("maxItems", True),
    ("minItems", False),
)


@dataclass(frozen=True)
class Problem:
    """One way a subscriber would break; `field` is a dotted path (`breakdown[].weight`)."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"field '{self.field}': {self.message}"


@dataclass(frozen=True)
class Revision:
    """A schema with a label for messages (`r1`, `the current model`)."""

    label: str
    schema: Schema


def full_transitive_problems(revisions: Sequence[Revision]) -> list[str]:
    """Every break between any two revisions, each message naming both and the field."""
    messages: list[str] = []
    for i, older in enumerate(revisions):
        for newer in revisions[i + 1 :]:
            messages.extend(
                f"{older.label} → {newer.label}: {problem}"
                for problem in compatibility_problems(older.schema, newer.schema)
            )
    return list(dict.fromkeys(messages))


def compatibility_problems(older: Schema, newer: Schema) -> list[Problem]:
    """Breaks between two revisions in both directions, plus removed fields."""
    problems = [
        Problem(p.field, f"{p.message} (a consumer of the older schema reading newer events)")
        for p in reader_problems(reader=older, writer=newer)
    ]
    problems += [
        Problem(p.field, f"{p.message} (a consumer of the newer schema reading older events)")
        for p in reader_problems(reader=newer, writer=older)
    ]
    newer_fields = set(field_paths(newer))
    problems += [
        Problem(path, "was removed; published fields stay (deprecate it, or publish a v2)")
        for path in field_paths(older)
        if path not in newer_fields
    ]
    return _unique(problems)


def reader_problems(*, reader: Schema, writer: Schema) -> list[Problem]:
    """Why a tolerant consumer validating with `reader` could reject data valid for `writer`."""
    return _unique(list(_Comparison(reader, writer).accepts(reader, writer, "")))


def field_paths(schema: Schema) -> list[str]:
    """Every property path of a schema, through references, unions and arrays."""
    return list(dict.fromkeys(_walk_paths(schema, schema, "", set())))


def _walk_paths(root: Schema, node: Schema, path: str, seen: set[str]) -> Iterator[str]:
    node, ref = _resolve(root, node)
    if ref is not None:
        if ref in seen:
            return
        seen = seen | {ref}
    for alternative in _alternatives(node):
        properties: Mapping[str, Schema] = alternative.get("properties", {})
        for name, sub in properties.items():
            child = _join(path, name)
            yield child
            yield from _walk_paths(root, sub, child, seen)
        items = alternative.get("items")
        if isinstance(items, Mapping):
            yield from _walk_paths(root, items, f"{path}[]", seen)


class _Comparison:
    def __init__(self, reader_root: Schema, writer_root: Schema) -> None:
        self.reader_root = reader_root
        self.writer_root = writer_root
        self.in_progress: set[tuple[str | None, str | None]] = set()

    def accepts(self, reader: Schema, writer: Schema, path: str) -> Iterator[Problem]:
        reader, reader_ref = _resolve(self.reader_root, reader)
        writer, writer_ref = _resolve(self.writer_root, writer)
        key = (reader_ref, writer_ref)
        recursive = key != (None, None)
        if recursive:
            if key in self.in_progress:
                return  # a recursive type already under comparison further up
            self.in_progress.add(key)
        try:
            yield from self._accepts_union(reader, writer, path)
        finally:
            if recursive:
                self.in_progress.discard(key)

    def _accepts_union(self, reader: Schema, writer: Schema, path: str) -> Iterator[Problem]:
        reader_alternatives = _alternatives(reader)
        for written in _alternatives(writer):
            matching = [r for r in reader_alternatives if _overlaps(_kinds(r), _kinds(written))]
            if not matching:
                yield Problem(
                    path or "(event)",
                    f"type changed: producers may send {_describe(written)}, "
                    f"consumers accept only {_describe_all(reader_alternatives)}",
                )
                continue
            # The closest reader alternative explains a failure best.
            attempts = [list(self._accepts_one(r, written, path)) for r in matching]
            if all(attempts):
                yield from min(attempts, key=len)

    def _accepts_one(self, reader: Schema, writer: Schema, path: str) -> Iterator[Problem]:
        if not _kinds(reader):
            return  # `{}`: anything goes
        where = path or "(event)"
        reader_kinds, writer_kinds = _kinds(reader), _kinds(writer)
        if not writer_kinds or not all(_covers(reader_kinds, kind) for kind in writer_kinds):
            yield Problem(
                where,
                f"type changed: producers may send {_describe(writer)}, "
                f"consumers accept only {_describe(reader)}",
            )
            return
        yield from _value_constraints(reader, writer, where)
        if "object" in writer_kinds:
            yield from self._object(reader, writer, path)
        if "array" in writer_kinds:
            reader_items, writer_items = reader.get("items", {}), writer.get("items", {})
            if isinstance(reader_items, Mapping) and isinstance(writer_items, Mapping):
                yield from self.accepts(reader_items, writer_items, f"{path}[]")

    def _object(self, reader: Schema, writer: Schema, path: str) -> Iterator[Problem]:
        reader_props: Mapping[str, Schema] = reader.get("properties", {})
        writer_props: Mapping[str, Schema] = writer.get("properties", {})
        reader_required = set(reader.get("required", ()))
        writer_required = set(writer.get("required", ()))
        for name, reader_sub in reader_props.items():
            field = _join(path, name)
            if name not in writer_props:
                if name in reader_required:
                    yield Problem(field, "is required by consumers but producers do not send it")
                continue
            if name in reader_required and name not in writer_required:
                yield Problem(field, "is required by consumers but producers may leave it out")
            yield from self.accepts(reader_sub, writer_props[name], field)
        # A map's values (`dict[str, X]`) are schemas too; `false` only closes the object.
        reader_values = reader.get("additionalProperties")
        writer_values = writer.get("additionalProperties")
        if isinstance(reader_values, Mapping) and isinstance(writer_values, Mapping):
            yield from self.accepts(reader_values, writer_values, f"{path}{{}}")


def _value_constraints(reader: Schema, writer: Schema, where: str) -> Iterator[Problem]:
    reader_values, writer_values = _enum(reader), _enum(writer)
    if reader_values is not None:
        if writer_values is None:
            yield Problem(
                where,
                f"consumers accept only {sorted(map(repr, reader_values))}, "
                "producers may send any value",
            )
        elif extra := [v for v in writer_values if v not in reader_values]:
            yield Problem(
                where,
                f"producers may send {', '.join(map(repr, extra))}, which consumers do not "
                f"accept (they accept {', '.join(map(repr, reader_values))})",
            )
    for keyword, larger_is_looser in _NUMERIC_BOUNDS:
        if keyword not in reader:
            continue
        bound = reader[keyword]
        written = writer.get(keyword)
        if written is None or (written > bound if larger_is_looser else written < bound):
            shown = "no limit" if written is None else repr(written)
            yield Problem(where, f"{keyword} is {bound!r} for consumers but {shown} for producers")
    for keyword in ("pattern", "format"):
        if keyword in reader and reader[keyword] != writer.get(keyword):
            yield Problem(
                where,
                f"{keyword} changed: consumers require {reader[keyword]!r}, "
                f"producers follow {writer.get(keyword)!r}",
            )


def _resolve(root: Schema, node: Schema) -> tuple[Schema, str | None]:
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return node, None
    if not ref.startswith("#/"):
        raise ValueError(f"only local references are supported, got {ref!r}")
    target: Any = root
    for part in ref[2:].split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    # Siblings of `$ref` (pydantic puts `description` and `default` there) still apply.
    siblings = {k: v for k, v in node.items() if k != "$ref"}
    return ({**target, **siblings} if siblings else target), ref


def _alternatives(node: Schema) -> list[Schema]:
    for keyword in ("anyOf", "oneOf"):
        if keyword in node:
            shared = {k: v for k, v in node.items() if k != keyword}
            return [
                {**shared, **option} if shared else option
                for branch in node[keyword]
                for option in _alternatives(branch)
            ]
    if "allOf" in node and len(node["allOf"]) == 1:
        shared = {k: v for k, v in node.items() if k != "allOf"}
        return [{**shared, **node["allOf"][0]}]
    return [node]


def _kinds(node: Schema) -> frozenset[str]:
    declared = node.get("type")
    if isinstance(declared, str):
        kinds = {declared}
    elif isinstance(declared, list):
        kinds = set(declared)
    else:
        values = _enum(node)
        kinds = {_json_kind(v) for v in values} if values is not None else set()
    return frozenset(kinds)


def _covers(reader_kinds: frozenset[str], kind: str) -> bool:
    """`{}` reads anything, and an integer is read wherever a number is."""
    return (
        not reader_kinds or kind in reader_kinds or (kind == "integer" and "number" in reader_kinds)
    )


def _overlaps(reader_kinds: frozenset[str], writer_kinds: frozenset[str]) -> bool:
    return not writer_kinds or any(_covers(reader_kinds, kind) for kind in writer_kinds)


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _enum(node: Schema) -> list[Any] | None:
    if "const" in node:
        return [node["const"]]
    values = node.get("enum")
    return list(values) if isinstance(values, list) else None


def _describe(node: Schema) -> str:
    kinds = sorted(_kinds(node))
    text = " or ".join(kinds) if kinds else "anything"
    if "format" in node:
        text += f" ({node['format']})"
    return text


def _describe_all(nodes: Sequence[Schema]) -> str:
    return " or ".join(_describe(n) for n in nodes)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))
