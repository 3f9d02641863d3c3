"""Live checks of what a NixOS module sets, against the user's own nixpkgs index: unknown options (with
did-you-mean fixes), renamed and removed options, literal values of the wrong type, and unknown packages in
package lists. This module walks the module and keeps results between changes; `binding_checks` judges one
binding, `option_lookup` says what a path is, `option_types` reads types and judges literal values.

Nothing is said without the user's nixpkgs index: the bundled vocabulary knows too few options to call any
name unknown. An option path is read in every spelling (`a.b.c = v;`, nested sets, `lib.mkIf`/`mkMerge`/
`mkDefault` wrappers, `config = { … };` in a module that also declares `options`, whose own options are
never unknown); `imports`, `options`, `_module`, `meta` and `disabledModules` are not options.

Checking a whole 2,000-line file takes ~15–30 ms, more than a keystroke's budget, so each document keeps
what its last check found, per top-level binding. When a change lies inside one top-level binding, only that
binding is checked again and the others' problems are moved; when it only touches white space or a comment
between bindings, they are all moved; otherwise every binding is looked up by a digest of its text and of
what it depends on around it (the names bound around the module, the options the file declares), and only
new texts are checked, larger nested bindings being kept the same way.
"""

from __future__ import annotations

import bisect
import hashlib
import re
import weakref
from collections.abc import Callable

import attrs
from tree_sitter import Node

from ..edits.text_edit import TextEdit
from ..nixpkgs.literals import call_parts
from ..syntax.document import Document
from ..syntax.query import ATTRSET_TYPES, Binding, attr_name, attrpath_names, direct_bindings, module_attrset, static_bindings
from .binding_checks import BindingChecker, Item
from .close_names import package_names
from .hover import Sources
from .option_lookup import path_lookup
from .option_types import PRIORITY_WRAPPERS
from .parse_rules import changed_span
from .problem import Problem

# Top-level names of a module that are not options (`imports`, `options`, …): never checked.
NOT_OPTIONS = frozenset({"imports", "options", "_module", "meta", "disabledModules", "_file", "key", "freeformType",
                         "_class", "require"})


def option_problems(doc: Document, sources: Sources, style: str = "friendly") -> list[Problem]:
    """The option and package problems of `doc`, in document order; [] without the user's nixpkgs index.
    Found again only where the text changed (see the module's docstring); the same text asked again (code
    actions) gets the kept result."""
    options = sources.options
    if options is None or len(options) == 0:
        return []
    last = _last.get(doc.uri)
    if last is not None and (last.sources() is not sources or last.style != style):
        last = None
    if last is not None and last.source == doc.source:
        return list(last.problems)
    module = module_attrset(doc.tree)
    if module is None:
        _last.pop(doc.uri, None)
        return []
    checker = _ModuleCheck(doc, sources, style, last.units if last is not None else {})
    records = checker.update(last) if last is not None else None
    if records is None:
        records = checker.run(module)
    problems = [_moved(problem, record.start) for record in records for problem in record.problems]
    problems.sort(key=lambda p: (p.start, p.end))
    if len(_last) >= 64:
        _last.clear()
    _last[doc.uri] = _LastCheck(doc.source, weakref.ref(sources), style, tuple(problems), checker.fresh,
                                tuple(records) if checker.isolated else (), frozenset(checker.declared),
                                checker.full_form)
    return problems




def warm(sources: Sources) -> None:
    """Build the lookup tables (options by path, package names) now, in the indexing thread, not on the first
    keystroke."""
    if sources.options is not None:
        sources.options.children(())
    package_names(sources.packages)


@attrs.frozen
class _Unit:
    """A top-level binding as last checked: where it was, how its option path is read (`drop` = 1 for
    `config.…`), the context digest of its surroundings, and its problems, offsets from its start."""

    start: int
    end: int
    first_name: str
    drop: int
    context: bytes
    problems: tuple[Problem, ...]

    def moved(self, delta: int) -> _Unit:
        return _Unit(self.start + delta, self.end + delta, self.first_name, self.drop, self.context, self.problems)


@attrs.frozen
class _LastCheck:
    source: bytes
    sources: weakref.ref[Sources]
    style: str
    problems: tuple[Problem, ...]
    units: dict[bytes, tuple[Problem, ...]]  # digest of a checked binding → its problems, offsets from its start
    records: tuple[_Unit, ...]  # empty when the top-level bindings see each other (`rec`): no partial update
    declared: frozenset[tuple[str, ...]]
    full_form: bool


_last: dict[str, _LastCheck] = {}


# -- the walk over a module --------------------------------------------------------------------------------------


class _ModuleCheck:
    """The walk over a module: which bindings set options, and what was found before that still holds."""

    def __init__(self, doc: Document, sources: Sources, style: str, units: dict[bytes, tuple[Problem, ...]]) -> None:
        self.doc = doc
        self.problems: list[Problem] = []
        self.declared: set[tuple[str, ...]] = set()  # options this file declares itself, and their prefixes
        assert sources.options is not None
        self.bindings = BindingChecker(doc, sources, path_lookup(sources.options), style, self.declared, self.problems)
        self.reuse = units
        self.fresh: dict[bytes, tuple[Problem, ...]] = {}
        self.isolated = True  # each top-level binding's problems depend only on it and its context
        self.full_form = False  # the module declares `options` or sets `config`: only `config` is checked

    def run(self, module: Node) -> list[_Unit]:
        """Check every top-level binding (those under `config` in a module that also declares `options`).
        A binding's path is read only when its digest is new: most are found again unchanged."""
        top = [(node, _first_name(node)) for node in direct_bindings(module)]
        self.full_form = full_form = any(first in ("config", "options") for _node, first in top)
        items: list[tuple[Node, str, int, Node]] = []  # binding, its first name, `config.` dropped, its set
        for node, first in top:
            if first is None:
                continue
            if full_form and first == "options":
                binding = _binding(node)
                if binding is not None:
                    self._declare(binding)
            elif full_form and first == "config":
                binding = _binding(node)
                if binding is None:
                    continue
                if len(binding.path) == 1:
                    items.extend((inner, name, 0, s) for s in _sets(binding.value) for inner in direct_bindings(s)
                                 if (name := _first_name(inner)) is not None)
                else:
                    items.append((node, first, 1, module))
            elif not full_form and first not in NOT_OPTIONS:
                items.append((node, first, 0, module))
        contexts: dict[Node, bytes] = {}
        units = []
        for node, first, drop, container in items:
            if container not in contexts:
                contexts[container] = self._scope(container, full_form)
            units.append(self._top_unit(node, first, drop, contexts[container]))
        return units

    def _base(self, full_form: bool) -> bytes:
        """What every top-level binding's problems depend on besides its text: the module's form and the
        options the file declares (never unknown)."""
        digest = hashlib.blake2b(b"full" if full_form else b"short", digest_size=16)
        digest.update(repr(sorted(self.declared)).encode())
        return digest.digest()

    def _scope(self, container: Node, full_form: bool) -> bytes:
        """`_base`, and the names bound around the set a top-level binding is written in (function arguments,
        `let`), which its package lists read. A `rec` set binds its own names, so then every binding depends on
        all of them."""
        digest = hashlib.blake2b(self._base(full_form), digest_size=16)
        node: Node | None = container
        while node is not None:
            if node.type == "rec_attrset_expression":
                self.isolated = False
                digest.update(node.text or b"")
            elif node.type == "function_expression":
                for field in ("universal", "formals"):
                    part = node.child_by_field_name(field)
                    digest.update(part.text or b"" if part is not None else b"-")
            elif node.type == "let_expression":
                digest.update(b"".join(c.text or b"" for c in node.named_children if c.type == "binding_set"))
            node = node.parent
        return digest.digest()

    def update(self, last: _LastCheck) -> list[_Unit] | None:
        """When the change since `last` lies inside one top-level binding that is still there with the same
        first name, check only it and move the others; when it only touches white space or a comment between
        them and the names around stay the same, move them all. None when the change reaches further."""
        records = last.records
        if not records:
            return None
        start, old_end, new_end = changed_span(last.source, self.doc.source)
        delta = new_end - old_end
        self.full_form = last.full_form
        starts = [r.start for r in records]
        index = bisect.bisect_left(starts, old_end if start == old_end else start + 1) - 1
        if index < 0 or start >= records[index].end:
            return self._between(last, starts, index, start, old_end, new_end)
        if start <= records[index].start and records[index].end <= old_end:  # the whole binding went
            return self._between(last, starts, index - 1, start, old_end, new_end)
        if old_end > records[index].end:
            return None
        record = records[index]
        node = self.doc.tree.root_node.descendant_for_byte_range(start, new_end)
        while node is not None and not (node.type == "binding" and node.start_byte == record.start
                                        and node.end_byte == record.end + delta):
            if node.start_byte < record.start:
                return None
            node = node.parent
        if node is None or _first_name(node) != record.first_name:
            return None
        self.declared.update(last.declared)
        self.fresh = _carried(last)
        unit = self._top_unit(node, record.first_name, record.drop, record.context)
        moved = [r.moved(delta) for r in records[index + 1 :]]
        return [*records[:index], unit, *moved]

    def _between(self, last: _LastCheck, starts: list[int], before: int, start: int, old_end: int,
                 new_end: int) -> list[_Unit] | None:
        """The change starts after binding `before` (-1: before all). When it is only white space or inside a
        comment, every binding is moved; when whole bindings came or went with white space around them, the
        new ones are checked and the others moved. None when anything else changed."""
        records, delta = last.records, new_end - old_end
        after = bisect.bisect_left(starts, old_end, before + 1)
        dropped = records[before + 1 : after]
        if any(r.end > old_end for r in dropped):
            return None
        source = self.doc.source  # what shares a line with a binding decides how its removal fix deletes it
        if before >= 0 and _line_rest(last.source, records[before].end) != _line_rest(source, records[before].end):
            return None
        if after < len(records) and (_line_lead(last.source, records[after].start)
                                     != _line_lead(source, records[after].start + delta)):
            return None
        kept = [*records[: before + 1], *(r.moved(delta) for r in records[after:])]
        root = self.doc.tree.root_node
        added: list[tuple[Node, str, int, Node]] = []
        if dropped or not _quiet(root, self.doc.source, last.source[start:old_end], start, new_end):
            found = self._whole_bindings(last, records[before] if before >= 0 else None, dropped, start, old_end,
                                         new_end)
            if found is None:
                return None
            added = found
        self.declared.update(last.declared)
        contexts: dict[Node, bytes] = {}
        for context in {r.context for r in kept}:
            sample = next(r for r in kept if r.context == context)
            container = _container(root, sample.start)
            if container is None or self._scope(container, last.full_form) != context:
                return None
            contexts[container] = context
        self.fresh = _carried(last)
        units = [self._top_unit(node, first, drop, contexts.get(container) or self._scope(container, last.full_form))
                 for node, first, drop, container in added]
        return sorted([*kept, *units], key=lambda r: r.start)

    def _whole_bindings(self, last: _LastCheck, previous: _Unit | None, dropped: tuple[_Unit, ...] | list[_Unit],
                        start: int, old_end: int, new_end: int) -> list[tuple[Node, str, int, Node]] | None:
        """The top-level bindings that the change brought, when it only removed bindings of `dropped`, added
        whole bindings after `previous` in its set, and left white space between them; None otherwise."""
        if previous is None or (last.full_form and any(r.first_name == "config" for r in dropped)):
            return None
        removed = bytearray(last.source[start:old_end])
        for record in dropped:
            removed[record.start - start : record.end - start] = b" " * (record.end - record.start)
        before = _binding_at(self.doc.tree.root_node, previous.start)
        container = before.parent.parent if before is not None and before.parent is not None else None
        if before is None or container is None:
            return None
        inserted = bytearray(self.doc.source[start:new_end])
        found: list[tuple[Node, str, int, Node]] = []
        child = before.next_named_sibling
        module = container == module_attrset(self.doc.tree)
        while child is not None and child.start_byte < new_end:
            if child.type != "binding" or child.start_byte < start or child.end_byte > new_end:
                return None
            inserted[child.start_byte - start : child.end_byte - start] = b" " * (child.end_byte - child.start_byte)
            first = _first_name(child)  # which bindings are checked: as in `run`
            if module and first in ("config", "options"):
                return None  # the module's form or its own options change
            if first is not None and (not module or (not last.full_form and first not in NOT_OPTIONS)):
                found.append((child, first, 0, container))
            child = child.next_named_sibling
        if _BLANK.fullmatch(bytes(removed)) is None or _BLANK.fullmatch(bytes(inserted)) is None:
            return None
        return found

    def _top_unit(self, node: Node, first_name: str, drop: int, context: bytes) -> _Unit:
        first = len(self.problems)
        self._unit(node, context, 0, lambda: _item(node, (), drop), self._base(self.full_form))
        found = tuple(_moved(problem, -node.start_byte) for problem in self.problems[first:])
        return _Unit(node.start_byte, node.end_byte, first_name, drop, context, found)

    def _unit(self, node: Node, context: bytes, depth: int, item: Callable[[], Item | None],
              base: bytes | None = None) -> None:
        """Check a binding and everything below it; results of a binding checked before with the same text
        in the same context are reused, moved to where it now is. A top-level binding whose check read no
        names around it (no package list) is kept under `base` alone, so new module arguments or `let`
        bindings do not make it checked again."""
        start, end = node.start_byte, node.end_byte
        if depth > 0 and (depth > 3 or end - start < 256):
            found_item = item()
            if found_item is not None:
                self._walk([found_item])
            return
        # The key: the context, the binding's text (its path is in it and in the context), and the rest of its
        # lines before and after it (which decide how a removal fix deletes it).
        starts, source = self.doc.line_starts, self.doc.source
        line_start = starts[bisect.bisect_right(starts, start) - 1]
        after = bisect.bisect_right(starts, end)
        line_end = starts[after] if after < len(starts) else len(source)
        lines = b"\0".join((source[line_start:start], source[start:end], source[end:line_end]))
        key = hashlib.blake2b(context + b"\0" + lines, digest_size=16).digest()
        plain = hashlib.blake2b(base + b"\0" + lines, digest_size=16).digest() if base is not None else key
        for candidate in (plain, key):
            found = self.reuse.get(candidate) if candidate not in self.fresh else self.fresh[candidate]
            if found is not None:
                self.fresh[candidate] = found
                self.problems.extend(_moved(problem, start) for problem in found)
                return
        first, reads = len(self.problems), self.bindings.scope_reads
        checked = item()
        if checked is not None and self.bindings.check(checked):
            children = self._children(checked)
            rec = any(s.type == "rec_attrset_expression" for s in _sets(checked.binding.value))
            child_context = self._context(context, node, rec, children)
            for child in children:
                self._unit(child.binding.node, child_context, depth + 1, lambda child=child: child)
        self.fresh[plain if self.bindings.scope_reads == reads else key] = tuple(
            _moved(problem, -start) for problem in self.problems[first:])

    def _context(self, parent: bytes, outer: Node, rec: bool, items: list[Item]) -> bytes:
        """A digest of `parent` and the text of `outer` without the bindings of `items` (all of it when a
        `rec` set lets the bindings see each other): what a nested binding's problems depend on."""
        source, digest = self.doc.source, hashlib.blake2b(parent, digest_size=16)
        position = outer.start_byte
        for item in () if rec else items:
            node = item.binding.node
            digest.update(source[position : node.start_byte])
            position = node.end_byte
        digest.update(source[position : outer.end_byte])
        return digest.digest()

    def _walk(self, stack: list[Item]) -> None:
        stack = list(reversed(stack))
        while stack:
            item = stack.pop()
            if self.bindings.check(item):
                stack.extend(reversed(self._children(item)))

    def _children(self, item: Item) -> list[Item]:
        return [Item(b, b.path, 0) for s in _sets(item.binding.value) for b in static_bindings(s, item.path)]

    def _declare(self, binding: Binding) -> None:
        """Remember the options the file declares (`options.my.thing = lib.mkOption { … };`)."""
        stack = [(binding.path[1:], binding.value)]
        while stack:
            path, value = stack.pop()
            sets = _sets(value)
            if not sets:
                for length in range(1, len(path) + 1):
                    self.declared.add(path[:length])
            for inner in sets:
                stack.extend((path + b.path, b.value) for b in static_bindings(inner))

# -- helpers ---------------------------------------------------------------------------------------------------


_COMMENT_SAFE = re.compile(rb"[^*/#\r\n]*")
_BLANK = re.compile(rb"[ \t\r\n]*")


def _carried(last: _LastCheck) -> dict[bytes, tuple[Problem, ...]]:
    """The kept results a partial update starts from (they grow with every edit, so now and then they are let
    go of: the next whole check keeps only what it used)."""
    return dict(last.units) if len(last.units) < 8 * len(last.records) + 1024 else {}


def _quiet(root: Node, source: bytes, removed: bytes, start: int, end: int) -> bool:
    """The change (`removed` became `source[start:end]`) cannot change what any binding means: typing inside
    a comment (nothing that could end or open one), or white space next to white space (no token split or
    joined) outside strings and comments."""
    inserted = source[start:end]
    covering = root.descendant_for_byte_range(start, end)
    if covering is None:
        return False
    if covering.type == "comment":
        return (covering.start_byte < start and end < covering.end_byte
                and _COMMENT_SAFE.fullmatch(removed) is not None and _COMMENT_SAFE.fullmatch(inserted) is not None)
    if _BLANK.fullmatch(removed) is None or _BLANK.fullmatch(inserted) is None:
        return False
    if source[start - 1 : start] not in (b" ", b"\t", b"\n", b"\r") and source[end : end + 1] not in (b" ", b"\t", b"\n", b"\r"):
        return False
    for offset in (start - 1, end):
        near = root.descendant_for_byte_range(max(offset, 0), max(offset, 0))
        if near is not None and near.type == "comment":
            return False
    node: Node | None = covering
    while node is not None:
        if node.type in ("string_expression", "indented_string_expression", "comment"):
            return False
        node = node.parent
    return True


def _moved(problem: Problem, delta: int) -> Problem:
    """The same problem `delta` bytes further on (its fixes and related places too)."""
    return attrs.evolve(
        problem, start=problem.start + delta, end=problem.end + delta,
        related=tuple(attrs.evolve(r, start=r.start + delta, end=r.end + delta) for r in problem.related),
        fixes=tuple(attrs.evolve(fix, edits=tuple(TextEdit(e.start + delta, e.end + delta, e.text) for e in fix.edits))
                    for fix in problem.fixes),
    )


def _sets(value: Node | None) -> list[Node]:
    """The attribute sets a value is made of: `{ … }`, and through `lib.mkIf c { … }`, `lib.mkMerge [ … ]`,
    `lib.mkDefault`, `lib.optionalAttrs c { … }`, parentheses, `with` and `let`."""
    found: list[Node] = []
    stack = [value]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        kind = node.type
        if kind in ATTRSET_TYPES:
            found.append(node)
        elif kind == "parenthesized_expression":
            stack.append(node.child_by_field_name("expression"))
        elif kind in ("with_expression", "let_expression"):
            stack.append(node.child_by_field_name("body"))
        elif kind == "apply_expression":
            name = call_parts(node)[0]
            argument = node.child_by_field_name("argument")
            if name == "mkMerge" and argument is not None:
                inner = argument
                while inner.type == "parenthesized_expression" and inner.child_by_field_name("expression") is not None:
                    inner = inner.child_by_field_name("expression")  # type: ignore[assignment]
                if inner.type == "list_expression":
                    stack.extend(reversed(inner.children_by_field_name("element")))
            elif name in PRIORITY_WRAPPERS or name == "optionalAttrs":
                stack.append(argument)
    found.sort(key=lambda n: n.start_byte)
    return found


def _line_lead(source: bytes, offset: int) -> bytes:
    """What comes before `offset` on its line."""
    return source[max(source.rfind(b"\n", 0, offset), source.rfind(b"\r", 0, offset)) + 1 : offset]


def _line_rest(source: bytes, offset: int) -> bytes:
    """What comes after `offset` on its line."""
    ends = [end for end in (source.find(b"\n", offset), source.find(b"\r", offset)) if end >= 0]
    return source[offset : min(ends, default=len(source))]


def _binding_at(root: Node, start: int) -> Node | None:
    """The binding that starts at `start`."""
    node = root.descendant_for_byte_range(start, start)
    while node is not None and not (node.type == "binding" and node.start_byte == start):
        node = node.parent
    return node


def _container(root: Node, start: int) -> Node | None:
    """The set that holds the top-level binding starting at `start`."""
    node = _binding_at(root, start)
    return node.parent.parent if node is not None and node.parent is not None else None


def _first_name(binding: Node) -> str | None:
    """The first name of a binding's path (`services` of `services.openssh.enable = …;`); None when dynamic."""
    attrpath = binding.child_by_field_name("attrpath")
    first = attrpath.named_child(0) if attrpath is not None else None
    return attr_name(first) if first is not None else None


def _binding(node: Node, base: tuple[str, ...] = ()) -> Binding | None:
    """A `binding` node read as a `Binding` (path after `base`); None when a name is dynamic."""
    attrpath, value = node.child_by_field_name("attrpath"), node.child_by_field_name("expression")
    names = attrpath_names(attrpath) if attrpath is not None else None
    return Binding(base + names, node, attrpath, value) if names and value is not None else None


def _item(node: Node, base: tuple[str, ...], drop: int) -> Item | None:
    binding = _binding(node, base)
    return Item(binding, binding.path[drop:], drop) if binding is not None and len(binding.path) > drop else None


