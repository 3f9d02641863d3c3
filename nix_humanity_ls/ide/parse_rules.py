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

Cost. A whole-tree pass costs ~60 ms on a 10,000-line file, far beyond a keystroke's budget, so it runs
once per document and each document keeps what it found (`_State`): the sets, `let`s and functions with
findings, plus the definitions of large sets. A new check finds what changed: the common prefix and suffix
of the old and new bytes, extended to where the old tree (a private, edited copy) and the new tree read the
same tokens again, since opening a comment or a string changes how the text after it reads. (tree-sitter's
`changed_ranges` would say the same but costs ~3 ms here.) Findings outside that region are kept, moved;
what intersects it is checked again. A large set is checked name by name (`services` apart from `boot`):
an edit in a set with thousands of bindings re-reads the bindings it touched and re-simulates only those
sharing their first names, ~1 ms on the 10,000-line file. Walks use loops or bounded recursion, because a
document may nest ten thousand levels deep.
"""

from __future__ import annotations

import math
import re
import sys
import weakref
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable

from tree_sitter import Node, Tree

from ..syntax.document import Document
from ..syntax.query import attr_name, text_of
from .problem import Problem, Related

INT_MAX = 2**63 - 1
_MAX_FORCE_DEPTH = 64  # how deep nested `{ … }` values are followed when two definitions meet
_INDEX_MIN = 32  # a set with this many definitions keeps them between checks

# Units: the nodes whose findings depend only on their own text (and functions with formals).
_UNIT_TYPES = frozenset({"attrset_expression", "rec_attrset_expression", "let_expression", "let_attrset_expression"})
_SET_TYPES = frozenset({"attrset_expression", "rec_attrset_expression"})
_PATH_TYPES = frozenset({"path_expression", "hpath_expression"})
_PATH_CHARS = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+")
_SLASH_END = re.compile(rb"/(?![A-Za-z0-9._+\-/$])")  # a `/` that no path character follows
# digits → `0`, `e`/`E` → `e`, anything else → space: long digit runs and `<digit>e` are then found at C speed
_NUMBER_SHAPE = bytes(48 if 48 <= b <= 57 else 101 if b in (69, 101) else 32 for b in range(256))
_LONG_DIGITS = re.compile(rb"0{19,}")  # 19 digits or more may exceed INT_MAX
_EXPONENT = re.compile(rb"0e")

# How much of a path is static: every name, or a prefix followed by a dynamic or an unclear name.
STATIC, DYNAMIC, _UNKNOWN = 0, 1, 2
# What a name holds while Nix builds a set, as far as merging is concerned.
_IMPLICIT, _LITERAL, _VALUE, _INHERITED = "implicit", "literal", "value", "inherited"


class _Edit:
    """One changed region: bytes `start`..`old_end` of the old text became `start`..`new_end`."""

    __slots__ = ("delta", "new_end", "old_end", "start")

    def __init__(self, start: int, old_end: int, new_end: int) -> None:
        self.start, self.old_end, self.new_end, self.delta = start, old_end, new_end, new_end - old_end

    def move(self, offset: int) -> int | None:
        """Where an old offset is now; None inside the edit (or at its borders, where it is ambiguous)."""
        if offset < self.start:
            return offset
        if offset > self.old_end:
            return offset + self.delta
        return None

    def relative(self, base: int) -> _Edit:
        """The same edit in coordinates relative to `base` (an offset before the edit)."""
        return _Edit(self.start - base, self.old_end - base, self.new_end - base)


_NO_EDIT = _Edit(sys.maxsize, sys.maxsize, sys.maxsize)  # for a unit that lies wholly after the edit


class _Finding:
    """A problem at `start`..`end`; `prev` is the earlier definition its message names by line (the `\\0`
    in `message`). Positions are absolute for tokens and relative to their unit's start for units."""

    __slots__ = ("code", "end", "message", "prev", "start")

    def __init__(self, start: int, end: int, code: str, message: str, prev: tuple[int, int] | None = None):
        self.start, self.end, self.code, self.message, self.prev = start, end, code, message, prev

    def follow(self, edit: _Edit) -> None:
        """Move with an edit that did not touch it. Each end moves on its own: the earlier definition may
        lie before the edit while the finding lies after it."""
        if self.start > edit.old_end:
            self.start += edit.delta
            self.end += edit.delta
        if self.prev is not None and self.prev[0] > edit.old_end:
            self.prev = (self.prev[0] + edit.delta, self.prev[1] + edit.delta)

    def problem(self, doc: Document, base: int = 0) -> Problem:
        start, end = base + self.start, base + self.end
        if self.prev is None:
            return Problem(start, end, self.message, code=self.code)
        prev = (base + self.prev[0], base + self.prev[1])
        message = self.message.replace("\0", str(doc.line_of(prev[0]) + 1))
        return Problem(start, end, message, code=self.code, related=(Related(*prev, "first defined here"),))


class _Def:
    """One name a binding or `inherit` gives its set: `a.b.c = v;` has path (a, b, c). `owner_*` is the
    binding_set child it comes from, `start`/`end` the attribute path (or inherited name) that messages
    point at, `value` the span of a `{ … }` / `rec { … }` value. Positions are relative to a base (the unit's
    start), so that moving a whole unit never touches its definitions."""

    __slots__ = ("end", "inherited", "owner_end", "owner_start", "path", "start", "tail", "value")

    def __init__(self, owner: Node, base: int, start: int, end: int, path: tuple[str, ...], tail: int,
                 inherited: bool, value: tuple[int, int] | None) -> None:
        self.owner_start, self.owner_end = owner.start_byte - base, owner.end_byte - base
        self.start, self.end, self.path, self.tail, self.inherited = start - base, end - base, path, tail, inherited
        self.value = (value[0] - base, value[1] - base) if value is not None else None

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
    """A set, a `let` or a function with formals: a node whose findings depend on its own text only.
    A large set also keeps its definitions, sorted and grouped by first name, so that an edit inside it
    re-reads only the bindings it touched and re-simulates only their names."""

    __slots__ = ("by_key", "defs", "end", "findings", "start", "type")

    def __init__(self, node: Node) -> None:
        self.start, self.end, self.type = node.start_byte, node.end_byte, node.type
        self.defs: list[_Def] = []
        self.by_key: dict[object, list[_Def]] = {}
        self.findings: dict[object, list[_Finding]] = {}

    @property
    def worth_keeping(self) -> bool:
        return bool(self.findings) or len(self.defs) >= _INDEX_MIN

    def exists_in(self, root: Node) -> bool:
        node = root.descendant_for_byte_range(self.start, self.end)
        while node is not None and (node.start_byte, node.end_byte) == (self.start, self.end):
            if node.type == self.type:
                return True
            node = node.parent
        return False


class _State:
    """The last check of one document: the text and a private copy of the tree it saw, the units worth
    remembering (with findings, or large), and the token findings."""

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
    problems: dict[tuple[int, int, str], Problem] = {}
    for unit in state.units:
        for found in unit.findings.values():
            for finding in found:
                problem = finding.problem(doc, unit.start)
                problems.setdefault((problem.start, problem.end, problem.code), problem)
    for finding in state.tokens:
        problems.setdefault((finding.start, finding.end, finding.code), finding.problem(doc))
    return [problems[key] for key in sorted(problems)]


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
    units = (_check_unit(doc, node, None) for node in _unit_nodes(doc.tree.root_node))
    state.units = [unit for unit in units if unit.worth_keeping]
    state.tokens = _scan_tokens(doc, 0, len(doc.source))
    return state


def _recheck(state: _State, doc: Document) -> None:
    """Bring `state` from its old text to `doc`'s: keep what lies outside the changed region, redo the rest."""
    edit = _Edit(*changed_span(state.source, doc.source))
    low, high = _changed_region(state, doc, edit)
    state.units = _recheck_units(state.units, doc, edit, low, high)
    state.tokens = _recheck_tokens(state.tokens, doc, edit, low, high)
    state.source = doc.source
    state.tree = doc.tree.copy()


def _changed_region(state: _State, doc: Document, edit: _Edit) -> tuple[int, int]:
    """The bytes of the new text whose reading may have changed: the edit, extended to where the old tree
    (edited into new coordinates) and the new tree agree again; one byte more on each side, since touching
    counts as changed."""
    old, new = state.source, doc.source
    start_point = _start_point(doc, edit.start)
    state.tree.edit(
        start_byte=edit.start, old_end_byte=edit.old_end, new_end_byte=edit.new_end, start_point=start_point,
        old_end_point=_advance(start_point, old[edit.start : edit.old_end]),
        new_end_point=_advance(start_point, new[edit.start : edit.new_end]),
    )
    return max(edit.start - 1, 0), _resync(state.tree.root_node, doc.tree.root_node, edit.new_end, len(new)) + 1


def _recheck_units(units: list[_Unit], doc: Document, edit: _Edit, low: int, high: int) -> list[_Unit]:
    """Units outside `low`..`high` are kept, moved (one with findings only if it still exists); the units of
    the new tree that meet the region are checked again, reusing the definitions of their old versions."""
    root = doc.tree.root_node
    kept: dict[tuple[int, int, str], _Unit] = {}
    hints: dict[tuple[int, int, str], tuple[_Unit, _Edit]] = {}
    for unit in units:
        start, end = edit.move(unit.start), edit.move(unit.end)
        if start is None or end is None:
            continue
        relative = edit.relative(unit.start) if unit.start < edit.start else _NO_EDIT
        unit.start, unit.end = start, end
        if end < low or start > high:
            if not unit.findings or unit.exists_in(root):
                kept[(start, end, unit.type)] = unit
        elif unit.defs:
            hints[(start, end, unit.type)] = (unit, relative)
    for node in _unit_nodes(root, max(low - 1, 0), high + 1):
        key = (node.start_byte, node.end_byte, node.type)
        if key in kept:
            continue
        hint = hints.get(key)
        reuse = _Reuse(hint[0], hint[1], low - node.start_byte, high - node.start_byte) if hint else None
        unit = _check_unit(doc, node, reuse)
        if unit.worth_keeping:
            kept[key] = unit
    return list(kept.values())


def _recheck_tokens(tokens: list[_Finding], doc: Document, edit: _Edit, low: int, high: int) -> list[_Finding]:
    """Token findings on the lines outside `low`..`high` are kept, moved; those lines are scanned again."""
    first_line, last_line = doc.line_of(low), doc.line_of(min(high, len(doc.source)))
    scan_start = doc.line_starts[first_line]
    scan_end = doc.line_starts[last_line + 1] if last_line + 1 < doc.line_count else len(doc.source)
    kept = []
    for finding in tokens:
        start, end = edit.move(finding.start), edit.move(finding.end)
        if start is not None and end is not None and (end <= scan_start or start >= scan_end):
            finding.start, finding.end = start, end
            kept.append(finding)
    return kept + _scan_tokens(doc, scan_start, scan_end)


def changed_span(old: bytes, new: bytes) -> tuple[int, int, int]:
    """(start, old end, new end) of the one region in which `old` and `new` differ."""
    limit = min(len(old), len(new))
    prefix = _common_length(limit, lambda a, b: old[a:b] == new[a:b])
    limit -= prefix
    suffix = _common_length(limit, lambda a, b: old[len(old) - b : len(old) - a] == new[len(new) - b : len(new) - a])
    return prefix, len(old) - suffix, len(new) - suffix


def _common_length(limit: int, same: Callable[[int, int], bool]) -> int:
    """Length of the common run, where `same(a, b)` says whether bytes a..b agree. Blocks double in size,
    so the cost follows the run's length (at memcmp speed), not the file's."""
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


def _start_point(doc: Document, offset: int) -> tuple[int, int]:
    """tree-sitter point of `offset` (in the unchanged prefix). Its rows end at `\\n` only, so the line table
    answers unless the text holds a `\\r`; then count."""
    if b"\r" in doc.source:
        return doc.point_at(offset)
    line = doc.line_of(offset)
    return line, offset - doc.line_starts[line]


def _advance(point: tuple[int, int], text: bytes) -> tuple[int, int]:
    """The point after `text` when it starts at `point`."""
    lines = text.count(b"\n")
    if not lines:
        return point[0], point[1] + len(text)
    return point[0] + lines, len(text) - text.rfind(b"\n") - 1


def _resync(old_root: Node, new_root: Node, offset: int, end_of_file: int) -> int:
    """Where, from `offset` on, the old tree (edited, so in new coordinates) and the new tree read the text
    the same way again: two tokens in a row of equal type and span. An edit that opens or closes a comment
    or a string changes how the text after it reads; everything up to this point counts as changed."""
    at, synced = offset, None
    while True:
        new_leaf, old_leaf = _leaf_from(new_root, at), _leaf_from(old_root, at)
        if new_leaf is None or old_leaf is None:
            return end_of_file
        if (new_leaf.type, new_leaf.start_byte, new_leaf.end_byte) != (old_leaf.type, old_leaf.start_byte, old_leaf.end_byte):
            synced, at = None, max(new_leaf.end_byte, old_leaf.end_byte)
        elif synced is None:
            synced = at = new_leaf.end_byte
        else:
            return synced


def _leaf_from(root: Node, offset: int) -> Node | None:
    """The first token that ends after `offset` (the one holding it, or the next one)."""
    cursor = root.walk()
    if cursor.goto_first_child_for_byte(offset) is None:
        return None
    while cursor.goto_first_child_for_byte(offset) is not None:
        pass
    return cursor.node


def _unit_nodes(root: Node, low: int = 0, high: int = sys.maxsize) -> list[Node]:
    """The units that meet `low`..`high`, in document order, walking down only into children that meet it.
    A TreeCursor, not a Query: a query's time grows with the square of the nesting depth (30 s for 50,000
    nested sets) and it stops capturing after 21,845 nodes."""
    found: list[Node] = []
    cursor = root.walk()
    while True:
        node = cursor.node
        if node.type in _UNIT_TYPES or (node.type == "function_expression" and node.child_by_field_name("formals")):
            found.append(node)
        if cursor.goto_first_child_for_byte(low) is not None:
            if cursor.node.start_byte <= high:
                continue
            cursor.goto_parent()
        while True:  # on to the next node that meets the range: a later sibling, or one of an ancestor's
            if cursor.goto_next_sibling():
                if cursor.node.start_byte <= high:
                    break
                cursor.goto_parent()  # later siblings start later still
            elif not cursor.goto_parent():
                return found


# -- one unit ---------------------------------------------------------------------------------------------


class _Reuse:
    """The old version of a unit that an edit went through: `edit` in coordinates relative to the unit's
    start, and the changed region `low`..`high` relative to its new start."""

    def __init__(self, unit: _Unit, edit: _Edit, low: int, high: int) -> None:
        self.unit, self.edit, self.low, self.high = unit, edit, low, high


def _check_unit(doc: Document, node: Node, reuse: _Reuse | None) -> _Unit:
    unit = _Unit(node)
    if node.type == "function_expression":
        found = _formals_findings(doc, node)
        if found:
            unit.findings[None] = _relative(found, unit.start)
        return unit
    bindings = next((c for c in node.named_children if c.type == "binding_set"), None)
    if bindings is None:
        return unit
    if reuse is None:
        unit.defs = [d for child in bindings.named_children for d in _defs_of(doc, child, unit.start)]
        for item in unit.defs:
            unit.by_key.setdefault(item.key, []).append(item)
        touched: Iterable[object] = list(unit.by_key)
    else:
        touched = _reuse_defs(doc, unit, bindings, reuse)
    simulation = _Simulation(doc)
    is_let = node.type == "let_expression"
    for key in touched:
        group = unit.by_key.get(key)
        found = simulation.group(group, unit.start, is_let) if group else []
        if found:
            unit.findings[key] = _relative(found, unit.start)
    return unit


def _relative(found: list[_Finding], base: int) -> list[_Finding]:
    """Findings made in absolute positions, stored relative to their unit's start."""
    for finding in found:
        finding.start -= base
        finding.end -= base
        if finding.prev is not None:
            finding.prev = (finding.prev[0] - base, finding.prev[1] - base)
    return found


def _reuse_defs(doc: Document, unit: _Unit, bindings: Node, reuse: _Reuse) -> set[object]:
    """Take the old unit's definitions outside the changed region, read the others again from the tree, and
    return the first names whose group changed (only those are simulated again)."""
    old, edit = reuse.unit, reuse.edit
    defs = old.defs
    before = bisect_left(defs, reuse.low, key=lambda d: d.owner_end)  # defs[:before] end before the region
    after = max(before, bisect_right(defs, reuse.high - edit.delta if edit is not _NO_EDIT else reuse.high,
                                     key=lambda d: d.owner_start))  # defs[after:] start after it
    dropped = defs[before:after]
    if edit is not _NO_EDIT:
        for item in defs[after:]:
            item.shift(edit.delta)
    base = unit.start
    gap_start = base + defs[before - 1].owner_end if before else bindings.start_byte
    gap_end = base + defs[after].owner_start if after < len(defs) else bindings.end_byte
    fresh: list[_Def] = []
    # A cursor, not Node.first_named_child_for_byte: that one crashes (py-tree-sitter 0.25.2) when no child
    # ends after the byte.
    cursor = bindings.walk()
    if cursor.goto_first_child_for_byte(gap_start) is not None:
        while cursor.node is not None and cursor.node.start_byte < gap_end:
            if cursor.node.start_byte >= gap_start:
                fresh.extend(_defs_of(doc, cursor.node, base))
            if not cursor.goto_next_sibling():
                break
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
        if edit is not _NO_EDIT:
            for finding in found:
                finding.follow(edit)
        unit.findings[key] = found
    return touched


def _defs_of(doc: Document, child: Node, base: int) -> list[_Def]:
    """The names one binding_set child defines (one for `a.b = v;`, one per name for `inherit a b;`), with
    positions relative to `base`."""
    kind = child.type
    if kind == "binding":
        attrpath = child.child_by_field_name("attrpath")
        if attrpath is None:
            return []
        path, tail = _static_path(attrpath)
        return [_Def(child, base, attrpath.start_byte, attrpath.end_byte, path, tail, False, _set_span(child))]
    if kind in ("inherit", "inherit_from"):
        names = child.child_by_field_name("attrs")
        if names is None:
            return []
        found = []
        for attr in names.children_by_field_name("attr"):
            name, tail = static_name(attr)
            path = (name,) if tail == STATIC else ()
            found.append(_Def(child, base, attr.start_byte, attr.end_byte, path, tail, True, None))
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
        return tuple(part.strip().decode("utf-8", "replace") for part in raw.split(b".")), STATIC
    names: list[str] = []
    for attr in attrpath.children_by_field_name("attr"):
        name, tail = static_name(attr)
        if tail != STATIC:
            return tuple(names), tail
        names.append(name)
    return tuple(names), STATIC


def static_name(attr: Node) -> tuple[str, int]:
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
            return (name, STATIC) if name is not None else ("", _string_kind(inner))
        return "", _UNKNOWN if inner.type == "indented_string_expression" else DYNAMIC
    name = attr_name(attr)
    if name is not None:
        return name, STATIC
    return "", _string_kind(attr) if attr.type == "string_expression" else _UNKNOWN


def _string_kind(string: Node) -> int:
    """A string with `${…}` in it is a dynamic name, unless every piece is itself a constant string."""
    for part in string.named_children:
        if part.type == "interpolation":
            inner = part.child_by_field_name("expression")
            if inner is None or inner.type not in ("string_expression", "indented_string_expression"):
                return DYNAMIC
        elif part.type not in ("string_fragment", "escape_sequence"):
            return _UNKNOWN
    return _UNKNOWN


# -- how Nix builds a set ---------------------------------------------------------------------------------


class _Slot:
    """What a name holds while Nix builds a set: a set made by a longer path (`a.b = 1;` makes `a`), a set
    literal (its names read lazily, only when something is merged into it), a value, or an inherited name."""

    __slots__ = ("end", "kind", "start", "table", "value")

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

    def group(self, defs: list[_Def], base: int, is_let: bool) -> list[_Finding]:
        """Findings (absolute positions) of one group of definitions, positioned relative to `base`."""
        self.findings = []
        table: dict[str, _Slot] = {}
        for item in defs:
            if not item.path:
                self._no_static_name(item, base, is_let)
            else:
                self._add(table, item, base, 0)
        return self.findings

    def _no_static_name(self, item: _Def, base: int, is_let: bool) -> None:
        if item.tail != DYNAMIC:
            return
        if item.inherited:
            self._report(base + item.start, base + item.end, "dynamic-attribute",
                         "`inherit` takes plain names only, not `${…}` or strings with `${…}`")
        elif is_let:
            self._report(base + item.start, base + item.end, "dynamic-attribute",
                         "`let` cannot define a computed name (`${…}`): use a plain name")

    def _add(self, table: dict[str, _Slot], item: _Def, base: int, depth: int) -> None:
        path = item.path
        walk = path[:-1] if item.tail == STATIC else path
        for name in walk:
            slot = table.get(name)
            if slot is None:
                slot = table[name] = _Slot(base + item.start, base + item.end, _IMPLICIT)
            elif slot.kind in (_VALUE, _INHERITED):
                self._duplicate(item, base, slot)
                return
            inner = self._members(slot, depth)
            if inner is None:
                return
            table = inner
        if item.tail != STATIC:
            return
        name = path[-1]
        slot = table.get(name)
        value = (base + item.value[0], base + item.value[1]) if item.value is not None else None
        if slot is None:
            kind = _INHERITED if item.inherited else _LITERAL if value is not None else _VALUE
            table[name] = _Slot(base + item.start, base + item.end, kind, value)
        elif slot.kind in (_IMPLICIT, _LITERAL) and value is not None and not item.inherited:
            self._merge(item, base, value, slot, depth)
        else:
            self._duplicate(item, base, slot)

    def _merge(self, item: _Def, base: int, value: tuple[int, int], slot: _Slot, depth: int) -> None:
        """`a = { … };` after `a = { … };` or `a.b = …;`: Nix moves the new names into the old set and
        rejects any name both have, even when both values are sets (no deeper merge)."""
        existing = self._members(slot, depth)
        incoming = self._model(value, depth + 1)
        if existing is None or incoming is None:
            return
        for name, inner in incoming.items():
            old = existing.get(name)
            if old is None:
                existing[name] = inner
                continue
            written = self._written(item, base)
            message = f"`{written}.{name}` is already defined on line \0"
            if old.kind in (_IMPLICIT, _LITERAL) and inner.kind in (_IMPLICIT, _LITERAL):
                message += f": two `{written} = {{ … }}` sets are merged only one level deep"
            self._report(inner.start, inner.end, "duplicate-attribute", message, (old.start, old.end))

    def _duplicate(self, item: _Def, base: int, slot: _Slot) -> None:
        self._report(base + item.start, base + item.end, "duplicate-attribute",
                     f"`{self._written(item, base)}` is already defined on line \0", (slot.start, slot.end))

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
            for item in _defs_of(self.doc, child, 0):
                if item.path:
                    self._add(table, item, 0, depth)
                else:
                    self._no_static_name(item, 0, False)
        return table

    def _written(self, item: _Def, base: int) -> str:
        """The attribute path as written, white space squeezed (Nix names the path the same way)."""
        return " ".join(self.doc.slice(base + item.start, base + item.end).split())[:80]

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
        if at == 0 or (source[at - 1] not in _PATH_CHARS and source[at - 1] != 0x7D):  # `}` of `./a/${x}/`
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
