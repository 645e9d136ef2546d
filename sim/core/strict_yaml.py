"""The one YAML reader of scenario and sweep files: small, plain, unsurprising, bounded.

On top of PyYAML's safe loader (no Python tags) it

* reads only regular files of at most :data:`MAX_BYTES` (a FIFO or device node is refused from
  ``stat`` alone, never opened for a blocking read);
* counts nodes (keys, values, list items, lists and mappings) as they are composed and stops at
  :data:`MAX_NODES`, so a megabyte of ``[1,1,1,...]`` is refused at its 10,000th item rather than
  built whole first; nesting stops at :data:`MAX_DEPTH`, a scalar at :data:`MAX_TEXT_CHARS` and
  directive lines (``%``) at :data:`MAX_DIRECTIVES`;
* scans with libyaml's C parser where PyYAML has it (its wheels do): our composer and constructor in
  Python see one event per node, so a megabyte of blank lines, comments or one long string costs
  milliseconds, not the seconds of PyYAML's pure-Python scanner (still used when libyaml is missing);
* refuses anchors and aliases (``&a``/``*a``): a few hundred bytes of nested aliases ("billion
  laughs") otherwise expand to gigabytes;
* refuses duplicate keys (YAML would keep the last one);
* resolves plain scalars as YAML 1.2's core schema does, not YAML 1.1: only ``true``/``false`` are
  booleans (``yes``, ``no``, ``on``, ``off`` stay text), numbers are decimal without underscores
  (``1:30`` is the text ``"1:30"``, not 90; ``010`` is 10, not 8; ``1_000`` is text), dates stay text,
  ``<<`` merges nothing.

Every refusal is one line naming the file and, where there is one, the line.
:func:`reject_loose_numbers` then refuses, for a schema's numeric fields, what pydantic would
silently turn into a number: ``true``/``false`` and text such as ``'100'`` or ``1_000``.
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
from yaml.composer import Composer
from yaml.constructor import BaseConstructor, ConstructorError, SafeConstructor
from yaml.nodes import MappingNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from sim.core.errors import InputError, shown

MAX_BYTES = 1_000_000
"""Largest scenario or sweep file, in bytes (the bundled ones are under 3 kB)."""

MAX_DEPTH = 32
"""Deepest nesting of mappings and lists (scenarios need 3 levels, sweep files 4)."""

MAX_NODES = 10_000
"""Most nodes in a document: every key, value, list item, list and mapping counts one. A scenario that
sets every parameter has about 200, the bundled sweeps under 100."""

MAX_TEXT_CHARS = 10_000
"""Longest scalar (a description, a name, a list of values written as text), in characters."""

MAX_DIRECTIVES = 100
"""Most lines starting with ``%`` (directives such as ``%YAML 1.2``; a scenario needs none): libyaml
checks each ``%TAG`` against every earlier one, so a megabyte of them would take seconds."""

_INT = re.compile(r"^[-+]?[0-9]+$")
_FLOAT = re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$")
_SPECIAL_FLOAT = re.compile(r"^(?:[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = re.compile(r"^(?:true|false)$")
_TAG = "tag:yaml.org,2002:"
_DIRECTIVE = re.compile(r"^%", re.MULTILINE)


class _Refused(yaml.MarkedYAMLError):
    """A well-formed document this loader will not accept (alias, size, depth, duplicate key, tag)."""


class _StrictLoading(Composer, SafeConstructor, Resolver):
    """The composer and constructor of :class:`StrictLoader`, over any parser of events (C or Python):
    YAML 1.2 core scalars, no aliases, bounded node count and depth, unique keys."""

    # own tables, filled by _register(): SafeLoader's YAML 1.1 resolvers and constructors are not inherited
    yaml_implicit_resolvers: typing.ClassVar[dict[Any, Any]] = {}
    yaml_constructors: typing.ClassVar[dict[Any, Any]] = {}
    yaml_multi_constructors: typing.ClassVar[dict[Any, Any]] = {}

    def __init__(self) -> None:
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self.depth = 0
        self.nodes = 0
        """Nodes composed so far (at most ``MAX_NODES + 1``: the one that is refused)."""

    def get_single_node(self) -> Any:
        """The root node of the stream's one document (none for an empty stream)."""
        self.get_event()  # the stream's start
        document = None if self.check_event(yaml.StreamEndEvent) else self.compose_document()
        if not self.check_event(yaml.StreamEndEvent):
            raise _Refused(None, None, "a second document (after ---); give one document per file",
                           self.peek_event().start_mark)
        self.get_event()
        return document

    def compose_node(self, parent: Any, index: Any) -> Any:
        """Refuse aliases and anchors before anything is expanded; count the nodes and the depth."""
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _Refused(None, None, "anchors and aliases (& and *) are not allowed; write the value out",
                           event.start_mark)
        if isinstance(event, yaml.ScalarEvent) and len(event.value) > MAX_TEXT_CHARS:
            raise _Refused(None, None, f"text of {len(event.value):,} characters; at most {MAX_TEXT_CHARS:,}",
                           event.start_mark)
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _Refused(None, None, f"more than {MAX_NODES:,} values (keys, items, lists and mappings); "
                           "scenario and sweep files hold a few hundred", event.start_mark)
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _Refused(None, None, f"nested deeper than {MAX_DEPTH} levels", event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

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
        return int(value)

    def construct_core_float(self, node: Any) -> float:
        value = _short_number(self.construct_scalar(node), node)
        if _SPECIAL_FLOAT.match(value):
            return float(value.lower().replace(".", ""))
        if not (_FLOAT.match(value) or _INT.match(value)):
            raise _Refused(None, None, f"{shown(value)} is not a decimal number", node.start_mark)
        return float(value)

    def construct_core_null(self, node: Any) -> None:
        value = self.construct_scalar(node)
        if not _NULL.match(value):
            raise _Refused(None, None, f"{shown(value)} is not null", node.start_mark)


class PurePythonLoader(_StrictLoading, Reader, Scanner, Parser):
    """:class:`_StrictLoading` over PyYAML's pure-Python reader, scanner and parser (about 1-5 µs a character)."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        _StrictLoading.__init__(self)


LOADERS: dict[str, type[_StrictLoading]] = {"python": PurePythonLoader}
"""Every strict loader this installation has, by parser (tests check they agree)."""

if getattr(yaml, "__with_libyaml__", False):

    class LibyamlLoader(_StrictLoading, yaml.cyaml.CParser):
        """:class:`_StrictLoading` over libyaml's parser: our Python composer comes first in the method order,
        so libyaml only scans and parses, one event per call."""

        def __init__(self, stream: str) -> None:
            yaml.cyaml.CParser.__init__(self, stream)
            _StrictLoading.__init__(self)

    LOADERS["libyaml"] = LibyamlLoader

StrictLoader: type[_StrictLoading] = LOADERS.get("libyaml", PurePythonLoader)
"""The loader :func:`load_yaml` uses: libyaml's parser when PyYAML has it, else the pure-Python one."""


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
        _StrictLoading.add_implicit_resolver(_TAG + name, pattern, first)
    constructors = {
        "null": _StrictLoading.construct_core_null, "bool": _StrictLoading.construct_core_bool,
        "int": _StrictLoading.construct_core_int, "float": _StrictLoading.construct_core_float,
        "str": SafeConstructor.construct_yaml_str, "seq": SafeConstructor.construct_yaml_seq,
        "map": SafeConstructor.construct_yaml_map,
    }
    for name, construct in constructors.items():
        _StrictLoading.add_constructor(_TAG + name, construct)
    _StrictLoading.add_constructor(None, SafeConstructor.construct_undefined)


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
    return parse_yaml(read_regular_text(path), source=path)


def parse_yaml(text: str, source: object, loader: type[_StrictLoading] | None = None) -> Any:
    """The one document of ``text``, read strictly with ``loader`` (default :data:`StrictLoader`);
    messages name ``source``.

    Raises:
        InputError: ``SOURCE: line L, column C: what is wrong``, or ``SOURCE: not valid YAML at line L ...``.
    """
    _check_printable(text, source)
    _check_directives(text, source)
    reader = (loader or StrictLoader)(text)
    try:
        return reader.get_single_data()
    except _Refused as exc:
        raise InputError(f"{source}:{_where(exc, ' line {line}, column {column}:')} {exc.problem}") from None
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or "malformed YAML"
        raise InputError(f"{source}: not valid YAML{_where(exc, ' at line {line}, column {column}')}: "
                         f"{problem}") from None
    finally:
        reader.dispose()


def _check_printable(text: str, source: object) -> None:
    """Refuse the characters YAML does not allow (controls other than tab and line breaks), as both
    parsers would, but with the line and column for either."""
    bad = Reader.NON_PRINTABLE.search(text)
    if bad is None:
        return
    line = text.count("\n", 0, bad.start()) + 1
    column = bad.start() - text.rfind("\n", 0, bad.start())
    raise InputError(f"{source}: not valid YAML at line {line:,}, column {column:,}: character "
                     f"{shown(bad.group())} is not allowed")


def _check_directives(text: str, source: object) -> None:
    """Refuse more than :data:`MAX_DIRECTIVES` lines starting with ``%``, counted before any parsing."""
    for count, line in enumerate(_DIRECTIVE.finditer(text), start=1):
        if count > MAX_DIRECTIVES:
            number = text.count("\n", 0, line.start()) + 1
            raise InputError(f"{source}: line {number:,}: more than {MAX_DIRECTIVES} lines starting with '%' "
                             "(directives such as %YAML 1.2); a scenario or sweep file needs none")


def _where(exc: yaml.YAMLError, template: str) -> str:
    mark = getattr(exc, "problem_mark", None)
    return template.format(line=mark.line + 1, column=mark.column + 1) if mark else ""


# --------------------------------------------------------------------------- booleans and text where numbers go

_TEXT_NUMBER_HINT = "write the number without underscores or quotes"


def reject_loose_numbers(document: Any, schema: type[BaseModel], source: object, prefix: str = "") -> None:
    """Refuse, for numeric fields of ``schema``, what pydantic would silently read as a number:
    ``true``/``false`` (1 and 0) and text that reads as one (``'100'``, ``' 1e4 '``, ``1_000``).

    Walks the nested models of ``schema`` along the keys of ``document``; unknown keys and other
    mistakes (``abc``, ``.nan`` where a finite number goes) are left to the schema's own validation.

    Raises:
        InputError: ``SOURCE: replications: must be a number, not true``, or
            ``SOURCE: horizon_days: write the number without underscores or quotes, e.g. 1000``.
    """
    if not isinstance(document, Mapping):
        return
    for key, value in document.items():
        field = schema.model_fields.get(key) if isinstance(key, str) else None
        if field is None:
            continue
        kinds = _kinds(field.annotation)
        numeric = bool(kinds & {int, float})
        if numeric and isinstance(value, bool) and bool not in kinds:
            raise InputError(f"{source}: {prefix}{key}: must be a number, not {str(value).lower()}")
        if numeric and isinstance(value, str) and str not in kinds and _as_number_text(value):
            raise InputError(f"{source}: {prefix}{key}: {_TEXT_NUMBER_HINT}, e.g. {_as_number_text(value)}")
        for kind in kinds:
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                reject_loose_numbers(value, kind, source, f"{prefix}{key}.")


reject_bools_for_numbers = reject_loose_numbers
"""The former name (it also refuses text now), kept while :mod:`sim.experiments.sweep.design` imports it."""


def _as_number_text(text: str) -> str:
    """``text`` written as a YAML 1.2 number (``' 1_000 '`` -> ``1000``), or '' when it reads as none."""
    bare = text.strip().replace("_", "")
    return bare if len(bare) <= 100 and (_INT.match(bare) or _FLOAT.match(bare)) else ""


def _kinds(annotation: Any) -> set[Any]:
    """The plain types an annotation admits: ``Annotated[int, ...] | None`` -> {int, NoneType}."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _kinds(typing.get_args(annotation)[0])
    if origin is typing.Union or origin is types.UnionType:
        return set().union(*(_kinds(arg) for arg in typing.get_args(annotation)))
    return {annotation}
