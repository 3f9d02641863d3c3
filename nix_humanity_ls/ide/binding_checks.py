"""What is wrong with one binding of a NixOS module, in the user's words and with fixes: an unknown option
(did-you-mean respellings of the segments, in place), a renamed or removed option (the new name; deleting the
line), a literal value of the wrong type (`true` for "yes", `[ 22 ]` for 22, the closest allowed value), an
unknown package in a package list (the closest names in the user's nixpkgs), an old package name that warns
or throws (`package_alias`).

Messages follow the explanation style: friendly sentences, concise phrases, or expert notes with the type
and where nixpkgs declares it. Every fix is a minimal edit whose text is parsed before it is offered.
"""

from __future__ import annotations

from collections.abc import Set

import attrs
from tree_sitter import Node

from ..edits.options import render_path
from ..edits.scope import is_bound
from ..edits.text_edit import TextEdit
from ..nixpkgs.records import NixpkgsPackages, OptionDecl
from ..syntax.document import Document
from ..syntax.parser import parse
from ..syntax.query import Binding, lists_in_value
from .close_names import MAX_SUGGESTIONS, close_names, close_packages
from .hover import Sources
from .option_lookup import GROUP, INSIDE, OPTION, RENAMED, UNKNOWN, UNSURE, PathLookup, Status
from .option_types import Mismatch, OptionType, describe, judge, parse_type
from .package_alias import old_name_problem, package_alias
from .problem import Problem, QuickFix, Severity


@attrs.frozen
class Item:
    """A binding with the option path it sets (without a leading `config.`)."""

    binding: Binding
    path: tuple[str, ...]
    first_attr: int  # 1 when the binding's first attribute is `config` (not part of the option path)


class BindingChecker:
    """Checks bindings one at a time, adding what it finds to `problems`. `declared`: the options the file
    declares itself (and their prefixes), which are never unknown."""

    def __init__(self, doc: Document, sources: Sources, lookup: PathLookup, style: str,
                 declared: Set[tuple[str, ...]], problems: list[Problem]) -> None:
        self.doc, self.sources, self.lookup, self.style = doc, sources, lookup, style
        self.declared, self.problems = declared, problems
        self.severity = Severity.ERROR if lookup.options.complete else Severity.WARNING
        self.scope_reads = 0  # how many checks read names bound around a binding (package lists do)

    def check(self, item: Item) -> bool:
        """Check one binding; True when the sets in its value are worth walking into."""
        path = item.path
        status = self.lookup.status(path, self.declared)
        if status.kind == OPTION:
            assert status.option is not None
            self._check_value(item, status.option)
            return True
        if status.kind in (GROUP, INSIDE, UNSURE):
            return True
        if status.kind == RENAMED:
            self._renamed(item, status)
        elif status.kind == UNKNOWN:
            self._unknown(item, status.first_unknown)
        return False

    # -- unknown options ------------------------------------------------------------------------------------

    def _unknown(self, item: Item, first: int) -> None:
        path = item.path
        attrs_ = _attrs(item)
        at = attrs_.get(first)
        if at is None:
            return
        group = path[:first]
        dotted = ".".join(path[: first + 1])
        repairs = self._repairs(group, path[first:])
        fixes = []
        for repaired in repairs:
            edits = tuple(
                TextEdit(attrs_[first + i].start_byte, attrs_[first + i].end_byte, render_path((new,)))
                for i, new in enumerate(repaired) if new != path[first + i]
            )
            if edits and _attrpath_parses(self.doc, item.binding.attrpath, edits):
                fixes.append(QuickFix(f"Change to `{'.'.join(group + repaired)}`", edits, preferred=not fixes))
        names = _either([f"`{'.'.join(group + repaired)}`" for repaired in repairs]) if repairs else ""
        complete = self.lookup.options.complete
        message = _say(
            self.style,
            friendly=f"NixOS has no option `{dotted}` in your nixpkgs." + (f" Did you mean {names}?" if names else "")
            + ("" if complete else " (If a module you import declares it, ignore this.)"),
            concise=f"unknown option `{dotted}`" + (f"; did you mean {names}?" if names else ""),
            expert=f"no option `{path[first]}` " + (f"under `{'.'.join(group)}`" if group else "at the top level")
            + f" in the {'evaluated' if complete else 'static'} option index" + (f"; closest: {names}" if names else ""),
        )
        self.problems.append(Problem(at.start_byte, at.end_byte, message, self.severity, "unknown-option",
                                     fixes=tuple(fixes)))

    def _repairs(self, group: tuple[str, ...], written: tuple[str, ...]) -> list[tuple[str, ...]]:
        """Respellings of `written` (the segments after `group`) that the index knows, best first: the
        first segment replaced by a close name, and each further segment too when it is unknown there.
        Remembered, so an unknown name costs its search once, not on every keystroke."""
        key = (group, written)
        cached = self.lookup.repairs.get(key)
        if cached is not None:
            return cached
        results: list[tuple[bool, tuple[str, ...]]] = []
        for candidate in close_names(written[0], self.lookup.names(group)):
            repaired = [candidate]
            current = group + (candidate,)
            for segment in written[1:]:
                if self.lookup.known(current + (segment,)) is None:
                    better = close_names(segment, self.lookup.names(current))
                    segment = better[0] if better else segment
                repaired.append(segment)
                current += (segment,)
            resolves = self.lookup.status(current, self.declared).kind != UNKNOWN
            results.append((resolves, tuple(repaired)))
        if any(resolves for resolves, _ in results):  # a respelling that leads nowhere helps no one then
            results = [r for r in results if r[0]]
        found = [repaired for _, repaired in results[:MAX_SUGGESTIONS]]
        if len(self.lookup.repairs) > 4096:
            self.lookup.repairs.clear()
        self.lookup.repairs[key] = found
        return found

    # -- renamed and removed options ------------------------------------------------------------------------

    def _renamed(self, item: Item, status: Status) -> None:
        hit = status.rename
        assert hit is not None
        rename = hit.rename
        path, attrs_ = item.path, _attrs(item)
        old_end = min(len(rename.old), len(path)) - 1
        first, last = attrs_.get(min(attrs_)), attrs_.get(old_end)
        if first is None or last is None:
            return
        old, where = ".".join(rename.old), f"{rename.file}:{rename.line}"
        if rename.kind == "removed":
            note = rename.message.strip() or "nixpkgs gives no reason."
            message = _say(
                self.style,
                friendly=f"`{old}` was removed from NixOS, so building fails here. nixpkgs says: {note}",
                concise=f"`{old}` was removed: {note}",
                expert=f"`{old}` removed (mkRemovedOptionModule, {where}): {note}",
            )
            fixes = (QuickFix(f"Remove the setting of `{'.'.join(path)}`", (_removal(self.doc, item.binding.node),)),)
            self.problems.append(Problem(first.start_byte, last.end_byte, message, Severity.ERROR, "removed-option",
                                         fixes=fixes))
            return
        assert hit.new_path is not None
        new = ".".join(hit.new_path)
        if rename.kind == "renamed":
            friendly = f"`{old}` was renamed to `{'.'.join(rename.new or ())}`. It still works for now, but Nix warns about it: use `{new}`."
        else:
            friendly = (f"`{old}` was replaced by `{'.'.join(rename.new or ())}`, which takes its value in another form. "
                        "NixOS still converts it for now and warns about it.")
        message = _say(self.style, friendly=friendly, concise=f"`{old}` is now `{new}`",
                       expert=f"`{old}` → `{new}` ({rename.kind}, {where}"
                       + (f", since {rename.since}" if rename.since else "") + ")")
        fixes = ()
        if rename.kind == "renamed":
            edit = _rename_edit(item, hit.new_path, attrs_)
            if edit is not None and _attrpath_parses(self.doc, item.binding.attrpath, (edit,)):
                fixes = (QuickFix(f"Use the new name `{new}`", (edit,), preferred=True),)
        self.problems.append(Problem(first.start_byte, last.end_byte, message, Severity.WARNING, "renamed-option",
                                     fixes=fixes))

    # -- values ----------------------------------------------------------------------------------------------

    def _check_value(self, item: Item, option: OptionDecl) -> None:
        if option.also_declared:
            return  # declared by several modules: the merged type is not one text
        option_type = parse_type(option.type)
        if option_type is None:
            return
        for mismatch in judge(option_type, item.binding.value):
            self._mismatch(item, option, mismatch)
        if _holds_packages(option_type) and self._knows_packages():
            self._check_packages(item)

    def _mismatch(self, item: Item, option: OptionDecl, mismatch: Mismatch) -> None:
        dotted, expected, got = ".".join(item.path), describe(mismatch.expected), mismatch.got
        declared = f"`{option.type}`, {option.file}:{option.line}"
        if mismatch.code == "out-of-range":
            friendly = f"`{dotted}` takes {expected}; {got} is outside that range."
            concise = f"{got} is out of range ({expected})"
        elif mismatch.code == "not-allowed-value":
            friendly = f"`{dotted}` takes {expected}, not {got}."
            concise = f"{got} is not allowed here"
        else:
            friendly = f"`{dotted}` takes {expected}, but this is {got}."
            concise = f"expected {expected}, got {got}"
        message = _say(self.style, friendly=friendly, concise=concise, expert=f"`{dotted}`: {concise} (type {declared})")
        fixes = []
        for title, text in mismatch.fixes:
            if _value_parses(text):
                fixes.append(QuickFix(title, (TextEdit(mismatch.node.start_byte, mismatch.node.end_byte, text),),
                                      preferred=not fixes and len(mismatch.fixes) == 1))
        self.problems.append(Problem(mismatch.node.start_byte, mismatch.node.end_byte, message, Severity.ERROR,
                                     mismatch.code, fixes=tuple(fixes)))

    # -- packages -----------------------------------------------------------------------------------------

    def _knows_packages(self) -> bool:
        """Package names are judged only against the user's nixpkgs, never the bundled list alone."""
        return any(isinstance(s, NixpkgsPackages) and len(s) > 0 for s in self.sources.packages.sources)

    def _check_packages(self, item: Item) -> None:
        """Names in the lists the value is made of; a list a `let` holds elsewhere is left alone (its
        problems would lie outside the binding, where they cannot follow the binding's changes)."""
        binding = item.binding.node
        self.scope_reads += 1
        for nix_list in lists_in_value(item.binding.value, item.path):
            if not binding.start_byte <= nix_list.node.start_byte < binding.end_byte:
                continue
            for element in nix_list.elements:
                name = element.name
                if name is None or element.node.type not in ("variable_expression", "select_expression"):
                    continue
                if element.qualifier is None and (nix_list.with_scope != "pkgs" or is_bound(element.node, name)):
                    continue
                if element.qualifier not in (None, "pkgs") or self.sources.packages.get(name) is not None:
                    continue
                alias = package_alias(self.sources.packages, name)
                if alias is None:
                    self._unknown_package(element.node, name, element.qualifier)
                    continue
                name_node = element.node if element.qualifier is None else _last_attr(element.node)
                if name_node is not None:
                    found = old_name_problem(alias, element.node.start_byte, element.node.end_byte,
                                             name_node.start_byte, name_node.end_byte, self.sources.packages,
                                             self.style)
                    self.problems.extend([found] if found is not None else [])

    def _unknown_package(self, node: Node, name: str, qualifier: str | None) -> None:
        close = close_packages(name, self.sources.packages)
        names = _either([f"`{c}`" for c in close]) if close else ""
        message = _say(
            self.style,
            friendly=f"Your nixpkgs has no package `{name}`." + (f" Did you mean {names}?" if names else ""),
            concise=f"unknown package `{name}`" + (f"; did you mean {names}?" if names else ""),
            expert=f"`pkgs.{name}` is not in the package index of your nixpkgs" + (f"; closest: {names}" if names else ""),
        )
        name_node = node if qualifier is None else _last_attr(node)
        fixes = []
        if name_node is not None:
            for candidate in close:
                written = render_path((candidate,))
                if _value_parses(written if qualifier is None else f"pkgs.{written}"):
                    edit = TextEdit(name_node.start_byte, name_node.end_byte, written)
                    fixes.append(QuickFix(f"Change to `{candidate}`", (edit,), preferred=not fixes))
        self.problems.append(Problem(node.start_byte, node.end_byte, message, Severity.WARNING, "unknown-package",
                                     fixes=tuple(fixes)))


def _last_attr(select: Node) -> Node | None:
    path = select.child_by_field_name("attrpath")
    attrs_ = path.children_by_field_name("attr") if path is not None else []
    return attrs_[-1] if attrs_ else None


def _attrs(item: Item) -> dict[int, Node]:
    """The attribute nodes of a binding by the index of the path segment each spells."""
    nodes = item.binding.attrpath.children_by_field_name("attr")
    start = len(item.path) - len(nodes)
    return {start + i: node for i, node in enumerate(nodes) if start + i >= 0 and i >= item.first_attr}


def _holds_packages(option_type: OptionType) -> bool:
    """A list of packages (possibly `nullOr`, or one alternative of `either`)."""
    kind = option_type.kind
    if kind == "list":
        return option_type.items[0].kind == "package"
    return kind in ("null_or", "either") and any(_holds_packages(item) for item in option_type.items)


def _rename_edit(item: Item, new_path: tuple[str, ...], attrs_: dict[int, Node]) -> TextEdit | None:
    """Respell the binding's own attribute path as the new option path, when only segments this binding
    writes change (`services.openssh = { permitRootLogin = …; }` → `settings.PermitRootLogin`)."""
    first_segment = min(attrs_)
    base, old = item.path[:first_segment], item.path[first_segment:]
    if new_path[:first_segment] != base or len(new_path) <= first_segment:
        return None
    new = new_path[first_segment:]
    same = 0
    while same < min(len(old), len(new)) and old[same] == new[same]:
        same += 1
    if same == len(new):
        return None
    last = attrs_[max(attrs_)]
    if same == len(old):
        return TextEdit(last.end_byte, last.end_byte, "." + render_path(new[same:]))
    tail = 0  # segments equal at the end too (`opengl.enable` → `graphics.enable` changes only `opengl`)
    while tail < min(len(old), len(new)) - same - 1 and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    end = attrs_[first_segment + len(old) - 1 - tail].end_byte
    return TextEdit(attrs_[first_segment + same].start_byte, end, render_path(new[same : len(new) - tail]))


def _removal(doc: Document, binding: Node) -> TextEdit:
    """Delete a binding, with its lines when nothing else is on them."""
    first, last = doc.line_of(binding.start_byte), doc.line_of(binding.end_byte)
    line_start, line_end = doc.line_span(first)[0], doc.line_span(last)[1]
    source = doc.source
    if source[line_start : binding.start_byte].strip() or source[binding.end_byte : line_end].strip():
        return TextEdit(binding.start_byte, binding.end_byte, "")
    following = doc.line_starts[last + 1] if last + 1 < len(doc.line_starts) else line_end
    return TextEdit(line_start, following, "")


def _attrpath_parses(doc: Document, attrpath: Node | None, edits: tuple[TextEdit, ...]) -> bool:
    """The binding name after `edits` still reads as an attribute path (so the document still parses)."""
    if attrpath is None:
        return False
    text = doc.source[attrpath.start_byte : attrpath.end_byte]
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        text = text[: edit.start - attrpath.start_byte] + edit.text.encode() + text[edit.end - attrpath.start_byte :]
    tree = parse(b"{ " + text + b" = null; }")
    return not tree.root_node.has_error


def _value_parses(text: str) -> bool:
    """`text` is one self-contained expression, so it can replace any expression (a list element included)."""
    tree = parse(b"[ " + text.encode() + b" ]")
    expression = tree.root_node.child_by_field_name("expression")
    return (not tree.root_node.has_error and expression is not None
            and len(expression.children_by_field_name("element")) == 1)


def _either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _say(style: str, friendly: str, concise: str, expert: str) -> str:
    return {"concise": concise, "expert": expert}.get(style, friendly)
