"""The one YAML reader of scenario and sweep files: small, plain, unsurprising.

On top of PyYAML's safe loader (no Python tags) it

* reads only regular files of at most :data:`MAX_BYTES` (a FIFO or device node is refused from
  ``stat`` alone, never opened for a blocking read);
* refuses anchors and aliases (``&a``/``*a``): a few hundred bytes of nested aliases ("billion
  laughs") otherwise expand to gigabytes;
* refuses nesting deeper than :data:`MAX_DEPTH` and duplicate keys (YAML would keep the last one);
* resolves plain scalars as YAML 1.2's core schema does, not YAML 1.1: only ``true``/``false`` are
  booleans (``yes``, ``no``, ``on``, ``off`` stay text), numbers are decimal (``1:30`` is the text
  ``"1:30"``, not 90; ``010`` is 10, not 8), dates stay text, ``<<`` merges nothing.

Every refusal is one line naming the file and, where there is one, the line.
"""

from __future__ import annotations

import os
import re
import stat
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from yaml.constructor import BaseConstructor, ConstructorError, SafeConstructor
from yaml.nodes import MappingNode

from sim.core.errors import InputError, shown

MAX_BYTES = 1_000_000
"""Largest scenario or sweep file, in bytes (the bundled ones are under 3 kB)."""

MAX_DEPTH = 32
"""Deepest nesting of mappings and lists (scenarios need 3 levels, sweep files 4)."""

_INT = re.compile(r"^[-+]?[0-9]+(?:_[0-9]+)*$")
_FLOAT = re.compile(r"^[-+]?(?:[0-9]+(?:_[0-9]+)*(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$")
_SPECIAL_FLOAT = re.compile(r"^(?:[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = re.compile(r"^(?:true|false)$")
_TAG = "tag:yaml.org,2002:"


class _Refused(yaml.MarkedYAMLError):
    """A well-formed document this loader will not accept (alias, depth, duplicate key, tag)."""


class StrictLoader(yaml.SafeLoader):
    """SafeLoader with the YAML 1.2 core scalars, no aliases, bounded depth and unique keys."""

    # own tables, filled by _register(): SafeLoader's YAML 1.1 resolvers and constructors are not inherited
    yaml_implicit_resolvers: typing.ClassVar[dict[Any, Any]] = {}
    yaml_constructors: typing.ClassVar[dict[Any, Any]] = {}
    yaml_multi_constructors: typing.ClassVar[dict[Any, Any]] = {}

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        """Refuse aliases and anchors before anything is expanded; count the depth."""
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _Refused(None, None, "anchors and aliases (& and *) are not allowed; write the value out",
                           event.start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(None, None, f"nested deeper than {MAX_DEPTH} levels", event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        """A mapping whose keys are all different (no ``<<`` merges)."""
        if not isinstance(node, MappingNode):
            raise ConstructorError(None, None, f"expected a mapping, found {node.id}", node.start_mark)
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                repeated = key in seen
            except TypeError:  # unhashable: the base constructor says so with the line
                continue
            if repeated:
                raise _Refused(None, None, f"duplicate key {shown(key)} (give each key once)", key_node.start_mark)
            seen.add(key)
        return BaseConstructor.construct_mapping(self, node, deep=deep)

    def construct_core_bool(self, node: Any) -> bool:
        value = self.construct_scalar(node)
        if not _BOOL.match(value):
            raise _Refused(None, None, f"{shown(value)} is not true or false", node.start_mark)
        return value == "true"

    def construct_core_int(self, node: Any) -> int:
        value = _short_number(self.construct_scalar(node), node)
        if not _INT.match(value):
            raise _Refused(None, None, f"{shown(value)} is not a decimal whole number", node.start_mark)
        return int(value.replace("_", ""))

    def construct_core_float(self, node: Any) -> float:
        value = _short_number(self.construct_scalar(node), node)
        if _SPECIAL_FLOAT.match(value):
            return float(value.lower().replace(".", ""))
        if not (_FLOAT.match(value) or _INT.match(value)):
            raise _Refused(None, None, f"{shown(value)} is not a decimal number", node.start_mark)
        return float(value.replace("_", ""))

    def construct_core_null(self, node: Any) -> None:
        value = self.construct_scalar(node)
        if not _NULL.match(value):
            raise _Refused(None, None, f"{shown(value)} is not null", node.start_mark)


def _short_number(value: str, node: Any) -> str:
    if len(value) > 100:  # Python refuses int() of > 4,300 digits; no parameter needs 100
        raise _Refused(None, None, f"number of {len(value):,} characters; write it shorter", node.start_mark)
    return value


def _register() -> None:
    resolvers = [
        ("null", _NULL, ["~", "n", "N", ""]),
        ("bool", _BOOL, ["t", "f"]),
        ("int", _INT, list("-+0123456789")),
        ("float", _FLOAT, list("-+.0123456789")),
        ("float", _SPECIAL_FLOAT, list("-+.")),
    ]
    for name, pattern, first in resolvers:
        StrictLoader.add_implicit_resolver(_TAG + name, pattern, first)
    constructors = {
        "null": StrictLoader.construct_core_null, "bool": StrictLoader.construct_core_bool,
        "int": StrictLoader.construct_core_int, "float": StrictLoader.construct_core_float,
        "str": SafeConstructor.construct_yaml_str, "seq": SafeConstructor.construct_yaml_seq,
        "map": SafeConstructor.construct_yaml_map,
    }
    for name, construct in constructors.items():
        StrictLoader.add_constructor(_TAG + name, construct)
    StrictLoader.add_constructor(None, SafeConstructor.construct_undefined)


_register()


def read_regular_text(path: Path, limit: int = MAX_BYTES) -> str:
    """The UTF-8 text of a regular file of at most ``limit`` bytes.

    Raises:
        InputError: missing, a folder, not a regular file (FIFO, device, socket), too large,
            unreadable or not UTF-8.
    """
    try:
        info = os.stat(path)  # stat, not open: opening a FIFO blocks until a writer comes
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
    _check_regular(path, info, limit)
    try:
        # O_NONBLOCK: should the path be swapped for a FIFO after the stat, open still returns at once
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(descriptor, "rb") as handle:
            _check_regular(path, os.fstat(handle.fileno()), limit)
            data = handle.read(limit + 1)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise InputError(f"{path}: larger than {limit:,} bytes; scenario and sweep files are small YAML files")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start:,} cannot be decoded)") from None


def _check_regular(path: Path, info: os.stat_result, limit: int) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{path}: is a folder; give a YAML file")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{path}: not a regular file (a FIFO, device or socket); give a YAML file")
    if info.st_size > limit:
        raise InputError(f"{path}: {info.st_size:,} bytes, larger than {limit:,}; scenario and sweep files are "
                         "small YAML files")


def load_yaml(path: Path) -> Any:
    """The one document of a YAML file, read strictly (see the module docstring).

    Raises:
        InputError: ``FILE: line L, column C: what is wrong``, or ``FILE: not valid YAML at line L ...``.
    """
    text = read_regular_text(path)
    try:
        loader = StrictLoader(text)  # the reader checks for unprintable characters here
    except yaml.reader.ReaderError as exc:
        raise InputError(f"{path}: not valid YAML: character {shown(chr(exc.character))} at position "
                         f"{exc.position:,} is not allowed") from None
    try:
        return loader.get_single_data()
    except _Refused as exc:
        raise InputError(f"{path}:{_where(exc, ' line {line}, column {column}:')} {exc.problem}") from None
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or "malformed YAML"
        raise InputError(f"{path}: not valid YAML{_where(exc, ' at line {line}, column {column}')}: "
                         f"{problem}") from None
    finally:
        loader.dispose()


def _where(exc: yaml.YAMLError, template: str) -> str:
    mark = getattr(exc, "problem_mark", None)
    return template.format(line=mark.line + 1, column=mark.column + 1) if mark else ""


# --------------------------------------------------------------------------- booleans where numbers go


def reject_bools_for_numbers(document: Any, schema: type[BaseModel], source: object, prefix: str = "") -> None:
    """Refuse ``true``/``false`` for numeric fields of ``schema`` (pydantic would read them as 1 and 0).

    Walks the nested models of ``schema`` along the keys of ``document``; unknown keys and other
    mistakes are left to the schema's own validation.

    Raises:
        InputError: ``SOURCE: replications: must be a number, not true``.
    """
    if not isinstance(document, Mapping):
        return
    for key, value in document.items():
        field = schema.model_fields.get(key) if isinstance(key, str) else None
        if field is None:
            continue
        kinds = _kinds(field.annotation)
        if isinstance(value, bool) and bool not in kinds and kinds & {int, float}:
            raise InputError(f"{source}: {prefix}{key}: must be a number, not {str(value).lower()}")
        for kind in kinds:
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                reject_bools_for_numbers(value, kind, source, f"{prefix}{key}.")


def _kinds(annotation: Any) -> set[Any]:
    """The plain types an annotation admits: ``Annotated[int, ...] | None`` -> {int, NoneType}."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _kinds(typing.get_args(annotation)[0])
    if origin is typing.Union or origin is types.UnionType:
        return set().union(*(_kinds(arg) for arg in typing.get_args(annotation)))
    return {annotation}
