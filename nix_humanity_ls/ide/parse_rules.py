"""What Nix's parser rejects although tree-sitter-nix accepts it, found while typing.

`nix-instantiate --parse` checks more than grammar while it builds its syntax tree. These checks are redone
here, the way Nix 2.8 does them, so they show per keystroke instead of only on save:
- a file with no expression at all (empty, or only comments);
- an attribute defined twice in one set or `let`: `a = 1; a = 2;`, `services.x.enable` twice,
  `a = 1; a.b = 2;`, `inherit a; a = 1;`. Nix merges `a = { … };` with `a.b = …;` and two `a = { … };`
  sets (one level deep only), so those are accepted when the names inside do not clash;
- a function parameter listed twice (`{ a, a }:`, `a@{ a }:`);
- a dynamic attribute name in `let` or `inherit` (`let ${x} = 1; in …`);
- a path with a trailing slash (`./a/`), an integer beyond 64 bits, a float out of range (`1.0e400`).
Only what Nix would certainly reject is reported (always as an ERROR). A name whose static value Nix and
this module might judge differently (`${''a''}`) is treated as unknown and never reported.

Cost. A whole-tree walk costs ~50 ms on a 10,000-line file, far beyond a keystroke's budget, so each
document keeps the findings of its last check (`_State`). A new check finds what changed (the common prefix
and suffix of the old and new bytes, plus tree-sitter's changed ranges between a private copy of the old
tree and the new one), keeps the findings outside that region, shifted, and redoes only what intersects it.
Sets are checked name by name (`services` apart from `boot`): an edit in a set with thousands of bindings
re-simulates only the bindings that share the edited binding's first name. Everything walks with loops or
bounded recursion, because a document may nest ten thousand levels deep.
"""

from __future__ import annotations

import math
import re
import sys
import weakref
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator

from tree_sitter import Node, Query, QueryCursor, Tree

from ..syntax.document import Document
from ..syntax.parser import NIX
from ..syntax.query import attr_name, text_of
from .problem import Problem, Related

INT_MAX = 2**63 - 1
_MAX_FORCE_DEPTH = 64  # how deep nested `{ … }` values are followed when two definitions meet

# Units: the nodes whose findings depend only on their own text. Compiled once, never freed (stack notes §2).
_UNITS = Query(
    NIX,
    "[(attrset_expression) (rec_attrset_expression) (let_expression) (let_attrset_expression)"
    " (function_expression formals: (formals))] @unit",
)
_SET_TYPES = frozenset({"attrset_expression", "rec_attrset_expression"})
_PATH_TYPES = frozenset({"path_expression", "hpath_expression"})
_PATH_CHARS = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+")
_SLASH_END = re.compile(rb"/(?![A-Za-z0-9._+\-/$])")  # a `/` that no path character follows
# digits → `0`, `e`/`E` → `e`, anything else → space: long digit runs and `<digit>e` are then found at C speed
_NUMBER_SHAPE = bytes(48 if 48 <= b <= 57 else 101 if b in (69, 101) else 32 for b in range(256))
_LONG_DIGITS = re.compile(rb"0{19,}")  # 19 digits or more may exceed INT_MAX
_EXPONENT = re.compile(rb"0e")

# How much of a path is static: every name, or a prefix followed by a dynamic or an unclear name.
_STATIC, _DYNAMIC, _UNKNOWN = 0, 1, 2
# What a name holds while Nix builds a set, as far as merging is concerned.
_IMPLICIT, _LITERAL, _VALUE, _INHERITED = "implicit", "literal", "value", "inherited"


class _Finding:
    """A problem at `start`..`end`. `prev` is an earlier definition the message names by line."""

    __slots__ = ("start", "end", "code", "message", "prev")

    def __init__(self, start: int, end: int, code: str, message: str, prev: tuple[int, int] | None = None):
        self.start, self.end, self.code, self.message, self.prev = start, end, code, message, prev

    def shift(self, delta: int) -> None:
        self.start += delta
        self.end += delta
        if self.prev is not None:
            self.prev = (self.prev[0] + delta, self.prev[1] + delta)

    def problem(self, doc: Document) -> Problem:
        if self.prev is None:
            return Problem(self.start, self.end, self.message, code=self.code)
        line = doc.line_of(self.prev[0]) + 1
        related = (Related(self.prev[0], self.prev[1], "first defined here"),)
        return Problem(self.start, self.end, self.message.replace("\0", str(line)), code=self.code, related=related)


class _Def:
    """One name a binding or `inherit` gives its set. `a.b.c = v;` has path (a, b, c). `owner` is the
    binding_set child it comes from, `start`/`end` the attribute path (or inherited name) shown in messages,
    `value` the span of a `{ … }` / `rec { … }` value (parentheses looked through)."""

    __slots__ = ("owner_start", "owner_end", "start", "end", "path", "tail", "inherited", "value")

    def __init__(self, owner: Node, start: int, end: int, path: tuple[str, ...], tail: int,
                 inherited: bool, value: tuple[int, int] | None) -> None:
        self.owner_start, self.owner_end = owner.start_byte, owner.end_byte
        self.start, self.end, self.path, self.tail = start, end, path, tail
        self.inherited, self.value = inherited, value

    @property
    def key(self) -> object:
        """Definitions with different first names never meet (Nix keeps one table per set)."""
        return self.path[0] if self.path else self

    def shift(self, delta: int) -> None:
        self.owner_start += delta
        self.owner_end += delta
        self.start += delta
        self.end += delta
        if self.value is not None:
            self.value = (self.value[0] + delta, self.value[1] + delta)


class _Unit:
    """A set, a `let` or a function with formals, and its findings. Sets keep their definitions, sorted, and
    grouped by first name, so that an edit inside them re-simulates only the names it touched."""

    __slots__ = ("start", "end", "type", "defs", "by_key", "findings")

    def __init__(self, node: Node) -> None:
        self.start, self.end, self.type = node.start_byte, node.end_byte, node.type
        self.defs: list[_Def] = []
        self.by_key: dict[object, list[_Def]] = {}
        self.findings: dict[object, list[_Finding]] = {}

    def shift(self, delta: int) -> None:
        self.start += delta
        self.end += delta
        for item in self.defs:
            item.shift(delta)
        for found in self.findings.values():
            for finding in found:
                finding.shift(delta)

    def all_findings(self) -> Iterator[_Finding]:
        for found in self.findings.values():
            yield from found


class _State:
    """The last check of one document: the text and a private tree copy it saw, and what it found."""

    def __init__(self, doc: Document) -> None:
        self.source = doc.source
        self.tree: Tree = doc.tree.copy()
        self.units: list[_Unit] = []
        self.tokens: list[_Finding] = []


_STATES: weakref.WeakKeyDictionary[Document, _State] = weakref.WeakKeyDictionary()


def parse_rule_problems(doc: Document) -> list[Problem]:
    """Problems Nix's parser would report that the tree-sitter grammar lets through, in document order."""
    empty = _empty_file(doc)
    if empty is not None:
        _STATES.pop(doc, None)
        return [empty]
    state = _STATES.get(doc)
    if state is None:
        state = _STATES[doc] = _check_all(doc)
    elif state.source is not doc.source and state.source != doc.source:
        _recheck(state, doc)
    findings: dict[tuple[int, int, str], _Finding] = {}
    for unit in state.units:
        for finding in unit.all_findings():
            findings.setdefault((finding.start, finding.end, finding.code), finding)
    for finding in state.tokens:
        findings.setdefault((finding.start, finding.end, finding.code), finding)
    return [findings[key].problem(doc) for key in sorted(findings)]


# -- a file with nothing in it ------------------------------------------------------------------------


def _empty_file(doc: Document) -> Problem | None:
    """Nix needs one expression; tree-sitter is content with none. Shown where Nix reports it: after the
    last comment (or at the start of an empty file)."""
    root = doc.tree.root_node
    if root.has_error or root.child_by_field_name("expression") is not None:
        return None
    end = len(doc.source.rstrip())
    what = "holds only comments" if end else "is empty"
    return Problem(end, end, f"the file {what}: Nix needs an expression here, such as `{{ }}`", code="empty-file")


# -- keeping the last check up to date ------------------------------------------------------------------


def _check_all(doc: Document) -> _State:
    state = _State(doc)
    root = doc.tree.root_node
    state.units = sorted((_check_unit(doc, node, None) for node in _unit_nodes(root)), key=lambda u: u.start)
    state.tokens = _scan_tokens(doc, 0, len(doc.source))
    return state


def _recheck(state: _State, doc: Document) -> None:
    """Bring `state` from its old text to `doc`'s: keep what lies outside the changed region, redo the rest."""
    old, new = state.source, doc.source
    start, old_end, new_end = _changed_span(old, new)
    delta = new_end - old_end
    state.tree.edit(
        start_byte=start, old_end_byte=old_end, new_end_byte=new_end,
        start_point=doc.point_at(start, old), old_end_point=doc.point_at(old_end, old),
        new_end_point=doc.point_at(new_end, new),
    )
    low, high = start, new_end
    for changed in state.tree.changed_ranges(doc.tree):
        low, high = min(low, changed.start_byte), max(high, changed.end_byte)
    low, high = max(low - 1, 0), high + 1  # touching counts as changed

    kept: dict[tuple[int, int, str], _Unit] = {}
    hints: dict[tuple[int, int, str], _Unit] = {}
    for unit in state.units:
        span = _moved_span(unit.start, unit.end, start, old_end, delta)
        if span is None:
            continue
        if span[1] < low or span[0] > high:
            if unit.start > old_end:
                unit.shift(delta)
            kept[(unit.start, unit.end, unit.type)] = unit
        elif unit.defs:
            hints[(span[0], span[1], unit.type)] = unit
    root = doc.tree.root_node
    for node in _unit_nodes(root, max(low - 1, 0), high + 1):
        key = (node.start_byte, node.end_byte, node.type)
        if key not in kept:
            kept[key] = _check_unit(doc, node, _Reuse(hints[key], start, old_end, delta, low, high) if key in hints else None)
    state.units = sorted(kept.values(), key=lambda u: u.start)

    line_low = doc.line_starts[doc.line_of(low)]
    line_high = min(len(new), doc.line_span(doc.line_of(min(high, len(new))))[1] + 1)
    tokens = []
    for finding in state.tokens:
        span = _moved_span(finding.start, finding.end, start, old_end, delta)
        if span is None or not (span[1] < line_low or span[0] >= line_high):
            continue
        if finding.start > old_end:
            finding.shift(delta)
        tokens.append(finding)
    tokens.extend(_scan_tokens(doc, line_low, line_high))
    state.tokens = sorted(tokens, key=lambda f: f.start)
    state.source = new
    state.tree = doc.tree.copy()


def _changed_span(old: bytes, new: bytes) -> tuple[int, int, int]:
    """(start, old end, new end) of the one region in which `old` and `new` differ."""
    limit = min(len(old), len(new))
    prefix = _common_length(old, new, limit, lambda a, b: old[a:b] == new[a:b])
    limit -= prefix
    suffix = _common_length(
        old, new, limit, lambda a, b: old[len(old) - b : len(old) - a] == new[len(new) - b : len(new) - a]
    )
    return prefix, len(old) - suffix, len(new) - suffix


def _common_length(old: bytes, new: bytes, limit: int, same) -> int:
    """Length of the common run found by `same(a, b)` (are bytes a..b equal?), in doubling blocks: compare
    costs stay proportional to the run, not to the file."""
    done, step = 0, 256
    while done < limit:
        upto = min(done + step, limit)
        if not same(done, upto):
            while upto - done > 1:
                middle = (done + upto) // 2
                if same(done, middle):
                    done = middle
                else:
                    upto = middle
            return done
        done, step = upto, step * 2
    return limit


def _moved_span(start: int, end: int, edit_start: int, old_end: int, delta: int) -> tuple[int, int] | None:
    """Where `start`..`end` of the old text lies in the new text; None when an end falls inside the edit."""

    def move(offset: int) -> int | None:
        if offset < edit_start:
            return offset
        if offset > old_end:
            return offset + delta
        return None

    moved_start, moved_end = move(start), move(end)
    if moved_start is None or moved_end is None:
        return None
    return moved_start, moved_end


def _unit_nodes(root: Node, start: int | None = None, end: int | None = None) -> list[Node]:
    cursor = QueryCursor(_UNITS)
    if start is not None and end is not None:
        cursor.set_byte_range(start, end)
    return cursor.captures(root).get("unit", [])


# -- one unit ---------------------------------------------------------------------------------------------


class _Reuse:
    """The old version of a unit that an edit went through, and how to read it in new coordinates."""

    def __init__(self, unit: _Unit, start: int, old_end: int, delta: int, low: int, high: int) -> None:
        self.unit, self.start, self.old_end, self.delta, self.low, self.high = unit, start, old_end, delta, low, high


def _check_unit(doc: Document, node: Node, reuse: _Reuse | None) -> _Unit:
    unit = _Unit(node)
    if node.type == "function_expression":
        unit.findings[None] = _formals_findings(doc, node)
        return unit
    bindings = next((c for c in node.named_children if c.type == "binding_set"), None)
    if bindings is None:
        return unit
    is_let = node.type == "let_expression"
    if reuse is None:
        unit.defs = [d for child in bindings.named_children for d in _defs_of(doc, child)]
        for item in unit.defs:
            unit.by_key.setdefault(item.key, []).append(item)
        touched: Iterable[object] = list(unit.by_key)
    else:
        touched = _reuse_defs(doc, unit, bindings, reuse)
    simulation = _Simulation(doc)
    for key in touched:
        group = unit.by_key.get(key)
        if group:
            unit.findings[key] = simulation.group(group, is_let)
    return unit


def _reuse_defs(doc: Document, unit: _Unit, bindings: Node, reuse: _Reuse) -> set[object]:
    """Take the old unit's definitions outside the changed region, read the others again from the tree, and
    return the first names whose group changed (only those are simulated again)."""
    old = reuse.unit
    defs = old.defs
    before = bisect_left(defs, reuse.low, key=lambda d: d.owner_end)  # defs[:before] end before the region
    after = bisect_right(defs, reuse.high - reuse.delta, key=lambda d: d.owner_start)  # defs[after:] start after
    after = max(after, before)
    dropped = defs[before:after]
    for item in defs[after:]:
        item.shift(reuse.delta)
    gap_start = defs[before - 1].owner_end if before else bindings.start_byte
    gap_end = defs[after].owner_start if after < len(defs) else bindings.end_byte
    fresh: list[_Def] = []
    child = bindings.first_named_child_for_byte(gap_start)
    while child is not None and child.start_byte < gap_end:
        if child.start_byte >= gap_start:
            fresh.extend(_defs_of(doc, child))
        child = child.next_named_sibling
    unit.defs = defs[:before] + fresh + defs[after:]
    touched = {d.key for d in dropped} | {d.key for d in fresh}
    gone = set(map(id, dropped))
    unit.by_key = old.by_key
    for key in touched:
        group = [d for d in unit.by_key.get(key, ()) if id(d) not in gone] + [d for d in fresh if d.key == key]
        group.sort(key=lambda d: d.start)
        if group:
            unit.by_key[key] = group
        else:
            unit.by_key.pop(key, None)
    for key, found in old.findings.items():
        if key in touched:
            continue
        for finding in found:
            if finding.start > reuse.old_end:
                finding.shift(reuse.delta)
        unit.findings[key] = found
    return touched


def _defs_of(doc: Document, child: Node) -> list[_Def]:
    """The names one binding_set child defines: one for `a.b = v;`, one per name for `inherit a b;`."""
    kind = child.type
    if kind == "binding":
        attrpath = child.child_by_field_name("attrpath")
        if attrpath is None:
            return []
        path, tail = _static_path(attrpath)
        return [_Def(child, attrpath.start_byte, attrpath.end_byte, path, tail, False, _set_span(child))]
    if kind in ("inherit", "inherit_from"):
        names = child.child_by_field_name("attrs")
        if names is None:
            return []
        found = []
        for attr in names.children_by_field_name("attr"):
            name, tail = _static_name(attr)
            path = (name,) if tail == _STATIC else ()
            found.append(_Def(child, attr.start_byte, attr.end_byte, path, tail, True, None))
        return found
    return []


def _set_span(binding: Node) -> tuple[int, int] | None:
    """Span of the binding's value when Nix sees an attribute set literal there (parentheses are no node in
    Nix's tree, so they are looked through; `let { }`, `with`, `//` and function calls are not sets)."""
    value = binding.child_by_field_name("expression")
    while value is not None and value.type == "parenthesized_expression":
        value = value.child_by_field_name("expression")
    if value is None or value.type not in _SET_TYPES:
        return None
    return value.start_byte, value.end_byte


def _static_path(attrpath: Node) -> tuple[tuple[str, ...], int]:
    """The static names of an attribute path, up to the first one that is dynamic or unclear."""
    raw = attrpath.text or b""
    if not any(mark in raw for mark in (b'"', b"$", b"#", b"/*", b"\\")):
        return tuple(part.strip().decode("utf-8", "replace") for part in raw.split(b".")), _STATIC
    names: list[str] = []
    for attr in attrpath.children_by_field_name("attr"):
        name, tail = _static_name(attr)
        if tail != _STATIC:
            return tuple(names), tail
        names.append(name)
    return tuple(names), _STATIC


def _static_name(attr: Node) -> tuple[str, int]:
    """A name as Nix 2.8 reads it: `a`, `"a"` and `${"a"}` are the static name a; `${x}` and `"${x}"` are
    dynamic; `${''a''}` or a string made only of constant pieces is unclear (Nix versions differ)."""
    if attr.type == "interpolation":
        inner = attr.child_by_field_name("expression")
        while inner is not None and inner.type == "parenthesized_expression":
            inner = inner.child_by_field_name("expression")
        if inner is None:
            return "", _UNKNOWN
        if inner.type == "string_expression":
            name = attr_name(inner)
            return (name, _STATIC) if name is not None else ("", _string_kind(inner))
        return "", _UNKNOWN if inner.type == "indented_string_expression" else _DYNAMIC
    name = attr_name(attr)
    if name is not None:
        return name, _STATIC
    return "", _string_kind(attr) if attr.type == "string_expression" else _UNKNOWN


def _string_kind(string: Node) -> int:
    """A string with `${…}` in it is a dynamic name, unless every piece is itself a constant string."""
    for part in string.named_children:
        if part.type == "interpolation":
            inner = part.child_by_field_name("expression")
            if inner is None or inner.type not in ("string_expression", "indented_string_expression"):
                return _DYNAMIC
        elif part.type not in ("string_fragment", "escape_sequence"):
            return _UNKNOWN
    return _UNKNOWN


# -- how Nix builds a set ---------------------------------------------------------------------------------


class _Slot:
    """What a name holds while Nix builds a set: a set made by a longer path (`a.b = 1;` makes `a`), a set
    literal (its names read lazily, only when something is merged into it), a value, or an inherited name."""

    __slots__ = ("start", "end", "kind", "value", "table")

    def __init__(self, start: int, end: int, kind: str, value: tuple[int, int] | None = None) -> None:
        self.start, self.end, self.kind, self.value = start, end, kind, value
        self.table: dict[str, _Slot] | None = {} if kind == _IMPLICIT else None


class _Simulation:
    """Nix 2.8's `addAttr`, replayed over definitions: the first definition of a name wins, a longer path
    walks into a set (made on the way if missing), and a second `a = { … };` is merged into the first one
    level deep. Every clash it meets becomes a finding."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.findings: list[_Finding] = []

    def group(self, defs: list[_Def], is_let: bool) -> list[_Finding]:
        self.findings = []
        table: dict[str, _Slot] = {}
        for item in defs:
            if not item.path:
                self._no_static_name(item, is_let)
            else:
                self._add(table, item, 0)
        return self.findings

    def _no_static_name(self, item: _Def, is_let: bool) -> None:
        if item.tail != _DYNAMIC:
            return
        if item.inherited:
            self._report(item.start, item.end, "dynamic-attribute",
                         "`inherit` takes plain names only, not `${…}` or strings with `${…}`")
        elif is_let:
            self._report(item.start, item.end, "dynamic-attribute",
                         "`let` cannot define a computed name (`${…}`): use a plain name")

    def _add(self, table: dict[str, _Slot], item: _Def, depth: int) -> None:
        path = item.path
        walk = path[:-1] if item.tail == _STATIC else path
        for name in walk:
            slot = table.get(name)
            if slot is None:
                slot = table[name] = _Slot(item.start, item.end, _IMPLICIT)
            elif slot.kind in (_VALUE, _INHERITED):
                self._duplicate(item, slot)
                return
            inner = self._members(slot, depth)
            if inner is None:
                return
            table = inner
        if item.tail != _STATIC:
            return
        name = path[-1]
        slot = table.get(name)
        if slot is None:
            kind = _INHERITED if item.inherited else _LITERAL if item.value is not None else _VALUE
            table[name] = _Slot(item.start, item.end, kind, item.value)
        elif slot.kind in (_IMPLICIT, _LITERAL) and item.value is not None and not item.inherited:
            self._merge(item, slot, depth)
        else:
            self._duplicate(item, slot)

    def _merge(self, item: _Def, slot: _Slot, depth: int) -> None:
        """`a = { … };` after `a = { … };` or `a.b = …;`: Nix moves the new names into the old set and
        rejects any name both have, even when both values are sets (no deeper merge)."""
        existing = self._members(slot, depth)
        incoming = self._model(item.value, depth + 1) if item.value is not None else None
        if existing is None or incoming is None:
            return
        for name, inner in incoming.items():
            old = existing.get(name)
            if old is None:
                existing[name] = inner
                continue
            shown = f"{self._written(item)}.{self._written_slot(inner)}"
            message = f"`{shown}` is already defined on line \0"
            if old.kind in (_IMPLICIT, _LITERAL) and inner.kind in (_IMPLICIT, _LITERAL):
                message += f": two `{self._written(item)} = {{ … }}` sets are merged only one level deep"
            self._report(inner.start, inner.end, "duplicate-attribute", message, (old.start, old.end))

    def _duplicate(self, item: _Def, slot: _Slot) -> None:
        self._report(item.start, item.end, "duplicate-attribute",
                     f"`{self._written(item)}` is already defined on line \0", (slot.start, slot.end))

    def _members(self, slot: _Slot, depth: int) -> dict[str, _Slot] | None:
        """The names in a set slot, reading a literal's bindings on first use; None when nested too deep."""
        if slot.table is None and slot.value is not None:
            slot.table = self._model(slot.value, depth + 1)
        return slot.table

    def _model(self, span: tuple[int, int], depth: int) -> dict[str, _Slot] | None:
        """The table Nix builds for the set literal at `span` (its own clashes are findings too)."""
        if depth > _MAX_FORCE_DEPTH:
            return None
        node = _set_node_at(self.doc.tree.root_node, span)
        table: dict[str, _Slot] = {}
        bindings = next((c for c in node.named_children if c.type == "binding_set"), None) if node else None
        if bindings is None:
            return table
        for child in bindings.named_children:
            for item in _defs_of(self.doc, child):
                if item.path:
                    self._add(table, item, depth)
                else:
                    self._no_static_name(item, False)
        return table

    def _written(self, item: _Def) -> str:
        return " ".join(self.doc.slice(item.start, item.end).split())[:80]

    def _written_slot(self, slot: _Slot) -> str:
        return " ".join(self.doc.slice(slot.start, slot.end).split())[:80]

    def _report(self, start: int, end: int, code: str, message: str, prev: tuple[int, int] | None = None) -> None:
        self.findings.append(_Finding(start, end, code, message, prev))


def _set_node_at(root: Node, span: tuple[int, int]) -> Node | None:
    node = root.descendant_for_byte_range(span[0], span[1])
    while node is not None and node.type not in _SET_TYPES:
        node = node.parent
        if node is not None and (node.start_byte, node.end_byte) != span:
            return None
    return node


# -- function parameters ---------------------------------------------------------------------------------


def _formals_findings(doc: Document, function: Node) -> list[_Finding]:
    """`{ a, a }:` and `a@{ a }:`: Nix rejects a parameter name used twice."""
    formals = function.child_by_field_name("formals")
    if formals is None:
        return []
    found: list[_Finding] = []
    seen: dict[str, tuple[int, int]] = {}
    for formal in formals.children_by_field_name("formal"):
        name = formal.child_by_field_name("name")
        if name is None or name.is_missing:
            continue
        text = text_of(name)
        if text in seen:
            found.append(_Finding(name.start_byte, name.end_byte, "duplicate-parameter",
                                  f"the parameter `{text}` is already listed on line \0", seen[text]))
        else:
            seen[text] = (name.start_byte, name.end_byte)
    universal = function.child_by_field_name("universal")
    if universal is not None and text_of(universal) in seen:
        text = text_of(universal)
        found.append(_Finding(universal.start_byte, universal.end_byte, "duplicate-parameter",
                              f"`{text}` names both the whole argument and one of its attributes (line \0)",
                              seen[text]))
    return found


# -- single tokens: paths and numbers ------------------------------------------------------------------------


def _scan_tokens(doc: Document, start: int, end: int) -> list[_Finding]:
    """Paths ending in `/` and numbers Nix cannot hold, among the tokens in `start`..`end`. The bytes are
    searched first (C speed) and the few candidates confirmed in the tree, so strings and comments that
    merely look like paths or numbers are left alone."""
    source, root = doc.source, doc.tree.root_node
    found: list[_Finding] = []
    for match in _SLASH_END.finditer(source, start, end):
        at = match.start()
        if at == 0 or source[at - 1] not in _PATH_CHARS:
            continue
        path = _token_at(root, at, _PATH_TYPES)
        if path is not None and path.end_byte == at + 1:
            found.append(_Finding(path.start_byte, path.end_byte, "path-trailing-slash",
                                  f"a path cannot end with `/`: write `{doc.slice(path.start_byte, at)}`"))
    shape = source[start:end].translate(_NUMBER_SHAPE)
    seen: set[int] = set()
    candidates = [m.start() for m in _LONG_DIGITS.finditer(shape)] + [m.start() for m in _EXPONENT.finditer(shape)]
    for offset in candidates:
        number = _token_at(root, start + offset, frozenset({"integer_expression", "float_expression"}))
        if number is None or number.start_byte in seen:
            continue
        seen.add(number.start_byte)
        problem = _number_problem(number)
        if problem is not None:
            found.append(problem)
    return found


def _token_at(root: Node, offset: int, types: frozenset[str]) -> Node | None:
    """The node of one of `types` that holds the byte at `offset` (itself or a near ancestor)."""
    node = root.descendant_for_byte_range(offset, offset + 1)
    for _ in range(3):
        if node is None:
            return None
        if node.type in types:
            return node
        node = node.parent
    return None


def _number_problem(number: Node) -> _Finding | None:
    text = text_of(number)
    if number.type == "integer_expression":
        if int(text) <= INT_MAX:
            return None
        return _Finding(number.start_byte, number.end_byte, "number-out-of-range",
                        f"`{text}` is too large for a Nix integer (the largest is {INT_MAX})")
    value = float(text)
    mantissa = text.lower().split("e")[0]
    if math.isinf(value) or (value == 0 and mantissa.strip("0.")) or 0 < value < sys.float_info.min:
        return _Finding(number.start_byte, number.end_byte, "number-out-of-range",
                        f"`{text}` is out of range for a Nix float")
    return None
