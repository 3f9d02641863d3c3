"""Options, renames and imports of one NixOS module file, read from its syntax tree.

A file is read as a module rooted at its own top: paths here are relative to wherever the file ends up
(the top level for files in `module-list.nix`, or under `services.nginx.virtualHosts.<name>` for a file that is
a submodule, as `import ./vhost-options.nix` is). `static_index` puts the pieces together.

The walk starts at `options` bindings and goes down through sets, `let`/`with`/parentheses, `//` and names bound
by `let`; it never evaluates. Submodule types (`submodule`, `submoduleWith`, under `attrsOf`/`lazyAttrsOf`,
which add a `<name>` segment, or `listOf`, which adds `*`) are read as modules in turn. Anything computed
(`genAttrs`, `mapAttrs`, `${name}` segments) is skipped rather than guessed.

Where any name may be set below an option is recorded exactly (`OptionDecl.freeform`), so checks need not
guess: a module set with a `freeformType` (inline, or a submodule file's own top), and option types that
take any names themselves (`settingsFormat.type`, `(pkgs.formats.json { }).type`, `attrsOf str`,
`anything`, `attrs`, also through `nullOr` and `let` names).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator
from typing import TypeVar

import attrs
from tree_sitter import Node

from ..syntax.parser import parse
from ..syntax.query import (
    ATTRSET_TYPES,
    attrpath_names,
    let_binding_value,
    static_bindings,
    text_of,
    unwrap,
)
from .literals import (
    TEXT_WRAPPERS,
    call_parts,
    doc_text,
    one_line,
    string_list,
    string_text,
)
from .records import ANY_ELEMENT, ANY_NAME, OptionDecl, OptionRename

OPTION_CALLS = frozenset({"mkOption", "mkEnableOption", "mkPackageOption", "mkPackageOptionMD", "mkEnableOptionMD"})
RENAME_CALLS = {
    "mkRenamedOptionModule": "renamed",
    "mkRenamedOptionModuleWith": "renamed",
    "mkAliasOptionModule": "alias",
    "mkAliasOptionModuleMD": "alias",
    "mkChangedOptionModule": "changed",
    "mkMergedOptionModule": "merged",
    "mkRemovedOptionModule": "removed",
}
_ANY_NAME_TYPES = frozenset({"anything", "attrs"})  # `types.anything`: any value, so any names below
NAMED_TYPES = frozenset({"attrsOf", "lazyAttrsOf"})  # values under any attribute name: `<name>`
LIST_TYPES = frozenset({"listOf", "nonEmptyListOf"})  # list elements: `*`
MAX_DEPTH = 60  # nesting of sets, submodules and `let` names followed; deeper is cut off
ELIDED = "{ … }"
T = TypeVar("T")


@attrs.frozen
class ModuleFacts:
    """What one file declares, relative to where it is used."""

    file: str
    options: tuple[OptionDecl, ...] = ()
    renames: tuple[OptionRename, ...] = ()
    imports: tuple[str, ...] = ()  # files this module imports (relative to the nixpkgs root, unresolved dirs)
    submodule_files: tuple[tuple[tuple[str, ...], str], ...] = ()  # (prefix, file) read as a submodule there
    freeform: tuple[tuple[str, ...], ...] = ()  # prefixes of module sets with a `freeformType`

    def to_rows(self) -> tuple:
        """Plain tuples, for sending between processes: pickling thousands of attrs objects costs more than
        parsing the files took."""
        options = tuple((o.path, o.kind, o.type, o.default, o.example, o.description, o.line, o.internal,
                         o.read_only, o.freeform) for o in self.options)
        renames = tuple((r.kind, r.old, r.new, r.message, r.since, r.line) for r in self.renames)
        return (self.file, options, renames, self.imports, self.submodule_files, self.freeform)

    @classmethod
    def from_rows(cls, rows: tuple) -> ModuleFacts:
        file, options, renames, imports, submodule_files, freeform = rows
        return cls(
            file,
            tuple(OptionDecl(path, kind, type_, default, example, description, file, line, internal, read_only,
                             freeform=open_)
                  for path, kind, type_, default, example, description, line, internal, read_only, open_ in options),
            tuple(OptionRename(kind, old, new, message, since, file, line)
                  for kind, old, new, message, since, line in renames),
            imports,
            submodule_files,
            freeform,
        )


def read_module(file: str, source: bytes) -> ModuleFacts:
    """Facts of the module in `source`; `file` is its path relative to the nixpkgs root (for imports)."""
    reader = _ModuleReader(file)
    reader.module(parse(source).root_node.child_by_field_name("expression"), (), 0)
    return ModuleFacts(file, tuple(reader.options), tuple(reader.renames), tuple(reader.imports),
                       tuple(reader.submodule_files), tuple(reader.freeform))


def resolve_path(base_file: str, written: str) -> str | None:
    """`./services/foo.nix` written in `nixos/modules/module-list.nix` → `nixos/modules/services/foo.nix`.
    None for a path that leaves the tree, is absolute, or is not written literally."""
    if "${" in written or not written.startswith(("./", "../")):
        return None
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(base_file), written))
    return None if joined.startswith("..") else joined


class _ModuleReader:
    def __init__(self, file: str) -> None:
        self.file = file
        self.options: list[OptionDecl] = []
        self.renames: list[OptionRename] = []
        self.imports: list[str] = []
        self.submodule_files: list[tuple[tuple[str, ...], str]] = []
        self.freeform: list[tuple[str, ...]] = []
        self._following: set[int] = set()  # `let` values being followed (by start byte): no cycles

    # -- modules ---------------------------------------------------------------------------------------------

    def module(self, node: Node | None, prefix: tuple[str, ...], depth: int) -> None:
        """A module value: a set with `options`/`imports`, a function returning one, a path or `import`
        of another file, a name bound by `let`, or a list of those (`submoduleWith { modules = …; }`)."""
        node = unwrap(node)
        if node is None or depth > MAX_DEPTH:
            return
        kind = node.type
        if kind in ATTRSET_TYPES:
            for binding in static_bindings(node):
                if binding.path in (("freeformType",), ("_module", "freeformType")):
                    self.freeform.append(prefix)
                elif binding.path[0] == "options":
                    self.option_set(binding.value, prefix + binding.path[1:], binding.node, depth + 1)
                elif binding.path == ("imports",):
                    for element in _list_items(binding.value):
                        self.module(element, prefix, depth + 1)
        elif kind == "path_expression":
            target = resolve_path(self.file, text_of(node))
            if target is not None and prefix:
                self.submodule_files.append((prefix, target))
            elif target is not None:
                self.imports.append(target)
        elif kind == "apply_expression":
            name, args = call_parts(node)
            if name == "import" and args:
                self.module(args[0], prefix, depth + 1)
            elif name in RENAME_CALLS:
                self.rename(node, name, args, prefix)
        elif kind == "list_expression":
            for element in node.children_by_field_name("element"):
                self.module(element, prefix, depth + 1)
        elif kind == "variable_expression":
            self.follow(node, lambda value: self.module(value, prefix, depth + 1))

    def follow(self, variable: Node, then: Callable[[Node], T]) -> T | None:
        """Go on with the value `let` binds to `variable`'s name (once per value on the way: no cycles);
        what `then` gives, or None when there is no such value."""
        value = let_binding_value(variable, text_of(variable))
        if value is None or value.start_byte in self._following:
            return None
        self._following.add(value.start_byte)
        try:
            return then(value)
        finally:
            self._following.discard(value.start_byte)

    # -- options ---------------------------------------------------------------------------------------------

    def option_set(self, node: Node | None, path: tuple[str, ...], at: Node, depth: int) -> None:
        """The value under `options…`: an option call, or a set of more paths."""
        node = unwrap(node)
        if node is None or depth > MAX_DEPTH:
            return
        kind = node.type
        if kind in ATTRSET_TYPES:
            for binding in static_bindings(node):
                self.option_set(binding.value, path + binding.path, binding.node, depth + 1)
        elif kind == "apply_expression":
            name, args = call_parts(node)
            if name in OPTION_CALLS:
                self.option(name, args, {}, path, at, depth)
            elif name == "mkMerge" and args:
                for element in _list_items(args[0]):
                    self.option_set(element, path, at, depth + 1)
        elif kind == "binary_expression" and _operator(node) == "//":
            left, right = unwrap(node.child_by_field_name("left")), node.child_by_field_name("right")
            name, args = call_parts(left) if left is not None and left.type == "apply_expression" else (None, [])
            if name in OPTION_CALLS:  # `mkEnableOption "x" // { default = true; }`
                self.option(name, args, _fields(right), path, at, depth)
            else:
                self.option_set(left, path, at, depth + 1)
                self.option_set(right, path, at, depth + 1)
        elif kind == "variable_expression":
            self.follow(node, lambda value: self.option_set(value, path, at, depth + 1))

    def option(self, call: str, args: list[Node], overrides: dict[str, Node], path: tuple[str, ...], at: Node,
               depth: int) -> None:
        if not path:
            return
        if call.startswith("mkEnableOption"):
            what = doc_text(args[0]) if args else None
            fields: dict[str, Node] = {}
            record = {"type": "types.bool", "default": "false", "example": "true",
                      "description": f"Whether to enable {what if what is not None else '…'}."}
        elif call.startswith("mkPackageOption"):
            fields = _fields(args[2]) if len(args) > 2 else {}
            record = _package_option(args, fields)
        else:
            fields = _fields(args[0]) if args else {}
            record = {}
        fields = {**fields, **overrides}
        elided: list[tuple[int, int]] = []
        type_node = fields.get("type")
        if type_node is not None:
            self.submodules(type_node, path, (), elided, depth + 1)
            record["type"] = _type_text(type_node, elided)
        if "defaultText" in fields:
            record["default"] = _literal_text(fields["defaultText"])
        elif "default" in fields:
            record["default"] = _literal_text(fields["default"])
        if "example" in fields:
            record["example"] = _literal_text(fields["example"])
        if "description" in fields:
            record["description"] = _description(fields["description"])
        self.options.append(OptionDecl(
            path=path,
            kind=call.removesuffix("MD"),
            type=record.get("type", ""),
            default=record.get("default"),
            example=record.get("example"),
            description=record.get("description", ""),
            file=self.file,
            line=at.start_point.row + 1,
            internal=_is(fields.get("internal"), "true") or _is(fields.get("visible"), "false"),
            read_only=_is(fields.get("readOnly"), "true"),
            freeform=type_node is not None and self.takes_any_name(type_node, depth + 1),
        ))

    def takes_any_name(self, node: Node | None, depth: int) -> bool:
        """Does a type take any attribute name by itself: a format's `.type`, `anything`, `attrs`, or
        `attrsOf`/`lazyAttrsOf` of something other than a submodule (through `nullOr` and `let` names)?"""
        node = unwrap(node)
        if node is None or depth > MAX_DEPTH:
            return False
        if node.type == "variable_expression":
            return text_of(node) in _ANY_NAME_TYPES or bool(
                self.follow(node, lambda value: self.takes_any_name(value, depth + 1)))
        if node.type == "select_expression":
            attrpath = node.child_by_field_name("attrpath")
            names = attrpath_names(attrpath) if attrpath is not None else None
            return bool(names) and (names[-1] == "type" or names[-1] in _ANY_NAME_TYPES)
        name, args = call_parts(node) if node.type == "apply_expression" else (None, [])
        if name in NAMED_TYPES and args:
            return not self.has_submodule(args[-1], depth + 1)
        return name in ("nullOr", "uniq", "unique") and bool(args) and self.takes_any_name(args[-1], depth + 1)

    def has_submodule(self, node: Node | None, depth: int) -> bool:
        """Is there a submodule in this type (whose own declared names are then checked)?"""
        node = unwrap(node)
        if node is None or depth > MAX_DEPTH:
            return False
        if node.type == "variable_expression":
            return bool(self.follow(node, lambda value: self.has_submodule(value, depth + 1)))
        name, args = call_parts(node) if node.type == "apply_expression" else (None, [])
        return name in ("submodule", "submoduleWith") or any(self.has_submodule(a, depth + 1) for a in args)

    def submodules(self, node: Node | None, path: tuple[str, ...], segments: tuple[str, ...],
                   elided: list[tuple[int, int]], depth: int) -> None:
        """Read the submodules a type expression contains as modules under `path` + `segments`."""
        node = unwrap(node)
        if node is None or depth > MAX_DEPTH:
            return
        if node.type == "apply_expression":
            name, args = call_parts(node)
            if name == "submodule" and args:
                self._submodule(args[0], path + segments, elided, depth)
            elif name == "submoduleWith" and args:
                modules = _fields(args[0]).get("modules")
                if modules is not None:
                    self._submodule(modules, path + segments, elided, depth)
            elif name in NAMED_TYPES and args:
                self.submodules(args[-1], path, segments + (ANY_NAME,), elided, depth + 1)
            elif name in LIST_TYPES and args:
                self.submodules(args[-1], path, segments + (ANY_ELEMENT,), elided, depth + 1)
            elif name not in ("enum", "strMatching", "functionTo") and name not in TEXT_WRAPPERS:
                for arg in args:  # nullOr, either, oneOf, coercedTo, addCheck, uniq…: same place
                    self.submodules(arg, path, segments, elided, depth + 1)
        elif node.type == "list_expression":
            for element in node.children_by_field_name("element"):
                self.submodules(element, path, segments, elided, depth + 1)
        elif node.type == "variable_expression":
            self.follow(node, lambda value: self.submodules(value, path, segments, elided, depth + 1))

    def _submodule(self, module: Node, prefix: tuple[str, ...], elided: list[tuple[int, int]], depth: int) -> None:
        inner = unwrap(module)
        if inner is not None and (inner.type in ATTRSET_TYPES or inner.type == "function_expression"):
            elided.append((module.start_byte, module.end_byte))
        self.module(module, prefix, depth + 1)

    # -- renames ---------------------------------------------------------------------------------------------

    def rename(self, node: Node, call: str, args: list[Node], prefix: tuple[str, ...]) -> None:
        kind = RENAME_CALLS[call]
        line = node.start_point.row + 1
        since: str | None = None
        if call == "mkRenamedOptionModuleWith" and args:
            fields = _fields(args[0])
            froms = [string_list(fields.get("from"))]
            new = string_list(fields.get("to"))
            since = text_of(fields["sinceRelease"]) if "sinceRelease" in fields else None
            message = ""
        elif kind == "removed":
            froms = [string_list(args[0]) if args else None]
            new = None
            message = (doc_text(args[1]) if len(args) > 1 else None) or ""
            message = message.strip()
        elif kind == "merged":
            froms = [string_list(item) for item in _list_items(args[0])] if args else []
            new = string_list(args[1]) if len(args) > 1 else None
            message = ""
        else:
            froms = [string_list(args[0]) if args else None]
            new = string_list(args[1]) if len(args) > 1 else None
            message = ""
        if kind != "removed" and new is None:
            return  # the target is computed: nothing reliable to say
        for old in froms:
            if old:
                self.renames.append(OptionRename(kind, prefix + old, prefix + new if new is not None else None,
                                                 message, since, self.file, line))


# -- small readers -----------------------------------------------------------------------------------------


def _description(node: Node) -> str:
    """A description: a string (wrapped or not), a name `let` binds to one, or `a + b` of strings; anything
    else as its source text."""
    value = unwrap(node)
    if value is not None and value.type == "variable_expression":
        value = let_binding_value(value, text_of(value)) or value
    if value is not None and value.type == "binary_expression" and _operator(value) == "+":
        parts = [doc_text(value.child_by_field_name(side)) for side in ("left", "right")]
        if None not in parts:
            return "".join(parts).strip()  # type: ignore[arg-type]
    text = doc_text(value)
    return text.strip() if text is not None else one_line(text_of(node))


def _fields(node: Node | None) -> dict[str, Node]:
    """`{ type = …; default = …; }` → {"type": node, …}; first definition of a one-segment name wins."""
    node = unwrap(node)
    fields: dict[str, Node] = {}
    if node is not None and node.type in ATTRSET_TYPES:
        for binding in static_bindings(node):
            if len(binding.path) == 1:
                fields.setdefault(binding.path[0], binding.value)
    return fields


def _list_items(node: Node | None) -> Iterator[Node]:
    """Elements of a list value, through `++` and parentheses (`imports = [ … ] ++ [ … ];`)."""
    stack = [node]
    while stack:
        current = unwrap(stack.pop())
        if current is None:
            continue
        if current.type == "list_expression":
            yield from current.children_by_field_name("element")
        elif current.type == "binary_expression" and _operator(current) == "++":
            stack.append(current.child_by_field_name("right"))
            stack.append(current.child_by_field_name("left"))


def _operator(node: Node) -> str:
    operator = node.child_by_field_name("operator")
    return text_of(operator) if operator is not None else ""


def _is(node: Node | None, literal: str) -> bool:
    return node is not None and text_of(node).strip() == literal


def _literal_text(node: Node) -> str:
    """A default or example as it would be shown: the text of `literalExpression "…"`, else the source (a
    value over several lines loses the indentation it had in the file)."""
    value = unwrap(node) if node.type == "parenthesized_expression" else node
    if value is not None and value.type == "apply_expression":
        name, args = call_parts(value)
        if name in TEXT_WRAPPERS and len(args) == 1 and string_text(unwrap(args[0])) is not None:
            return (string_text(unwrap(args[0])) or "").strip()
    first, *rest = text_of(node).strip().split("\n")
    indent = min((len(line) - len(line.lstrip()) for line in rest if line.strip()), default=0)
    return "\n".join([first] + [line[indent:] for line in rest])


def _type_text(node: Node, elided: list[tuple[int, int]]) -> str:
    """The source of a type, one line, with inline submodule bodies replaced by `{ … }`."""
    source = node.text or b""
    base = node.start_byte
    pieces: list[bytes] = []
    cursor = 0
    for start, end in sorted(elided):
        if start - base < cursor or end > node.end_byte:
            continue
        pieces.append(source[cursor : start - base])
        pieces.append(ELIDED.encode("utf-8"))
        cursor = end - base
    pieces.append(source[cursor:])
    return one_line(b"".join(pieces).decode("utf-8", "replace"))


def _package_option(args: list[Node], fields: dict[str, Node]) -> dict[str, str]:
    """What `mkPackageOption pkgs "name" { default = …; example = …; extraDescription = …; }` declares, as
    nixpkgs' lib writes it: type package (nullOr package when `nullable = true`), default `pkgs.<default>`."""
    names = _package_path(args[1]) if len(args) > 1 else None
    shown = names[-1] if names else "…"
    record = {"type": "types.package", "description": f"The {shown} package to use."}
    extra = doc_text(fields["extraDescription"]) if "extraDescription" in fields else None
    if extra:
        record["description"] += " " + extra.strip()
    if _is(fields.get("nullable"), "true"):
        record["type"] = "types.nullOr types.package"
    default = fields.get("default")
    if default is None:
        if names:
            record["default"] = "pkgs." + ".".join(names)
    elif _is(default, "null"):
        record["default"] = "null"
    else:
        written = _package_path(default)
        record["default"] = "pkgs." + ".".join(written) if written else text_of(default)
    example = fields.get("example")
    if example is not None:  # lib shows a list as `pkgs.a.b` and a string as the expression it holds
        written = string_list(example)
        text = string_text(unwrap(example))
        record["example"] = ("pkgs." + ".".join(written) if written else text if text is not None
                             else _literal_text(example))
    fields.pop("default", None)
    fields.pop("example", None)
    return record


def _package_path(node: Node) -> tuple[str, ...] | None:
    """`"hello"` → ("hello",); `[ "python3Packages" "requests" ]` → the two names."""
    text = string_text(unwrap(node))
    if text is not None and "${" not in text:
        return (text,)
    return string_list(node)
