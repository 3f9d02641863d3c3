"""Undefined variables, found while the user types, the way Nix's own parser finds them.

Nix resolves every name when it parses a file (`nix-instantiate --parse` already fails with `undefined
variable 'x'`). A name is bound by an enclosing function (`x:`, `{ a, b ? a, ... } @ args:`, whose defaults
see every argument), by `let … in`, legacy `let { … }` or `rec { … }` (the first name of each binding and
every inherited name), or else it is one of Nix's top-level names (`TOP_LEVEL_NAMES`). `inherit x;` reads
`x` from the scope *around* its `let` or `rec`; `inherit (e) x;` reads no `x` (only `e`, inside the scope).
The names of a plain `{ … }` bind nothing. A lexical binding wins over any `with`, however close.

Under `with e;` a name bound nowhere is looked up in `e` when Nix evaluates, so it is no error. When every
`with` around it opens the package set (`with pkgs;` for a `pkgs` argument, or one bound to
`import <nixpkgs> { … }`) and the user's nixpkgs is indexed, a name that is no package is a WARNING;
under any other `with` (`with lib;`, `with import ./x.nix;`) nothing is known, so nothing is said.

Cost. A whole-file pass (one query for the names and scopes, then one sweep with a stack of scopes) takes
~15 ms on a 10,000-line file, too much for every keystroke, so each document keeps its findings (`_State`).
A new check finds the changed bytes and the smallest expression around them (or a binding whose name is
not touched) that existed with the same span and type before: nothing outside it can read differently,
since it binds no name visible outside. Only that unit is checked again, in the scopes around it.
"""

from __future__ import annotations

import functools
import re
import sys
import weakref
from operator import attrgetter

from tree_sitter import Node, QueryCursor, Tree

from ..edits.scope import ScopeError, module_argument_edits
from ..edits.text_edit import TextEdit
from ..knowledge.packages import PackageIndex
from ..syntax.document import Document
from ..syntax.parser import load_query, parse
from ..syntax.query import module_attrset, text_of
from .close_names import MAX_SUGGESTIONS, close_names, close_packages
from .package_alias import OLD_NAME, old_name_problem, package_alias
from .parse_rules import DYNAMIC, STATIC, changed_span, static_name
from .problem import Problem, QuickFix, Severity

_SCOPES = load_query("scopes")

# Nix 2.8's top level, checked against the real Nix by tests/test_scope_check.py: the constants and the
# builtins Nix puts in scope without a prefix; every other builtin is in scope as `__name` (`__add`).
NIX_28_GLOBALS = frozenset({
    "builtins", "true", "false", "null", "import", "scopedImport", "derivation", "derivationStrict", "abort",
    "throw", "map", "toString", "baseNameOf", "dirOf", "isNull", "removeAttrs", "placeholder", "fromTOML",
    "fetchTarball", "fetchGit", "fetchMercurial", "fetchTree",
    "__curPos",  # the parser's own: the position where it is written
})
NIX_28_PREFIXED = frozenset(f"__{name}" for name in (
    "add", "addErrorContext", "all", "any", "appendContext", "attrNames", "attrValues", "bitAnd", "bitOr",
    "bitXor", "catAttrs", "ceil", "compareVersions", "concatLists", "concatMap", "concatStringsSep",
    "currentSystem", "currentTime", "deepSeq", "div", "elem", "elemAt", "fetchurl", "filter", "filterSource",
    "findFile", "floor", "foldl'", "fromJSON", "functionArgs", "genList", "genericClosure", "getAttr",
    "getContext", "getEnv", "groupBy", "hasAttr", "hasContext", "hashFile", "hashString", "head",
    "intersectAttrs", "isAttrs", "isBool", "isFloat", "isFunction", "isInt", "isList", "isPath", "isString",
    "langVersion", "length", "lessThan", "listToAttrs", "mapAttrs", "match", "mul", "nixPath", "nixVersion",
    "parseDrvName", "partition", "path", "pathExists", "readDir", "readFile", "replaceStrings", "seq", "sort",
    "split", "splitVersion", "storeDir", "storePath", "stringLength", "sub", "substring", "tail", "toFile",
    "toJSON", "toPath", "toXML", "trace", "tryEval", "typeOf", "unsafeDiscardOutputDependency",
    "unsafeDiscardStringContext", "unsafeGetAttrPos", "zipAttrsWith",
))
# In scope in newer Nix, or in Nix 2.8 only with a setting or an experimental feature on. Users run newer Nix
# than the 2.8 the tests compare with, so these are accepted too. (`fetchClosure`, `getFlake` and
# `convertHash` are no top-level names in any Nix: only `builtins.x` and `__x`.)
NEWER_GLOBALS = frozenset({
    "break",  # Nix 2.9, the debugger's breakpoint
    "__traceVerbose",  # 2.10
    "__readFileType",  # 2.14
    "__outputOf",  # 2.15, experimental feature dynamic-derivations
    "__parseFlakeRef", "__flakeRefToString",  # 2.18, experimental feature flakes
    "__convertHash", "__addDrvOutputDependencies",  # 2.19
    "__warn",  # 2.23
    "__getFlake",  # experimental feature flakes
    "__fetchClosure",  # experimental feature fetch-closure
    "__importNative", "__exec",  # setting allow-unsafe-native-code-during-evaluation
})
TOP_LEVEL_NAMES = NIX_28_GLOBALS | NIX_28_PREFIXED | NEWER_GLOBALS

# Names of the package set that neither `pkgs/by-name` nor `all-packages.nix` defines, so the index does not
# list them: pkgs/top-level/stage.nix (platform package sets, `pkgs`, `stdenv`), splice.nix (`callPackage`),
# build-support/trivial-builders (`writeShellScriptBin`, `runCommand`, …), and `lib`/`config`/the platforms.
PACKAGE_SET_EXTRAS = frozenset({
    "pkgs", "lib", "config", "system", "path", "stdenv", "stdenvNoCC", "stdenvAdapters", "buildPackages",
    "targetPackages", "pkgsBuildBuild", "pkgsBuildHost", "pkgsBuildTarget", "pkgsHostHost", "pkgsHostTarget",
    "pkgsTargetTarget", "pkgsCross", "pkgsLLVM", "pkgsArocc", "pkgsZig", "pkgsMusl", "pkgsi686Linux",
    "pkgsx86_64Darwin", "pkgsLinux", "pkgsStatic", "pkgsExtraHardening", "appendOverlays", "extend",
    "buildPlatform", "hostPlatform", "targetPlatform", "callPackage", "callPackages", "newScope",
    "splicePackages", "__splicedPackages", "runCommand", "runCommandLocal", "runCommandCC", "runCommandWith",
    "writeTextFile", "writeText", "writeTextDir", "writeScript", "writeScriptBin", "writeShellScript",
    "writeShellScriptBin", "writeShellApplication", "writeCBin", "concatTextFile", "concatText",
    "concatScript", "symlinkJoin", "linkFarm", "linkFarmFromDrvs", "onlyBin", "makeSetupHook", "writeClosure",
    "writeDirectReferencesToFile", "writeStringReferencesToFile", "requireFile", "copyPathToStore",
    "copyPathsToStore", "applyPatches", "emptyFile", "emptyDirectory",
})

# What a NixOS module is given and may add to its arguments.
MODULE_ARGUMENT_NAMES = ("pkgs", "lib", "config", "options", "modulesPath")

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_'-]*")
_WORD_BYTES = frozenset(bytes([c]) for c in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_'-")
_KEYWORDS = frozenset({"assert", "else", "if", "in", "inherit", "let", "or", "rec", "then", "with"})

_LEXICAL = frozenset({"function_expression", "let_expression", "let_attrset_expression", "rec_attrset_expression"})
_SET_SCOPES = frozenset({"let_expression", "let_attrset_expression", "rec_attrset_expression"})
_CONTAINERS = frozenset({"attrset_expression", "list_expression"})  # items that bind nothing for each other
_UNDEFINED, _NOT_A_PACKAGE = "undefined-variable", "unknown-package"
_EVERYWHERE = sys.maxsize
_start_byte = attrgetter("start_byte")
_start = attrgetter("start")


class _Scope:
    """What one scope binds: `names` for the expressions in `start`..`end` (a `with`: its body only),
    `package_sets` among them (`pkgs` given to a function, or bound to `import <nixpkgs> { … }`). `unclear`
    when a name it binds cannot be read (`${''a''}` in some Nix versions); `with_packages` for a `with` that
    opens the package set. `node_start` identifies the node, for the `inherit`s written directly in it."""

    __slots__ = ("end", "names", "node_start", "package_sets", "start", "type", "unclear", "with_packages")

    def __init__(self, node: Node, start: int, end: int) -> None:
        self.type, self.node_start, self.start, self.end = node.type, node.start_byte, start, end
        self.names: frozenset[str] = frozenset()
        self.package_sets: frozenset[str] = frozenset()
        self.unclear = self.with_packages = False


class _Finding:
    """A name that reads nothing (`kind` undefined) or no package (`kind` unknown package), with the scopes
    around it for suggestions; `shown` keeps the problem made from it (and the style it was worded in)
    until an edit moves what it points at."""

    __slots__ = ("end", "kind", "name", "scopes", "shown", "start")

    def __init__(self, start: int, end: int, name: str, kind: str, scopes: tuple[_Scope, ...]) -> None:
        self.start, self.end, self.name, self.kind, self.scopes = start, end, name, kind, scopes
        self.shown: tuple[str, Problem] | None = None

    def problem(self, doc: Document, packages: PackageIndex | None, style: str) -> Problem:
        if self.shown is None or self.shown[0] != style:
            self.shown = (style, _problem(doc, self, packages, style))
        return self.shown[1]

    def moved_by(self, low: int, delta: int) -> None:
        """Text changed at `low` (by `delta` bytes): move along if after it; forget the problem if it or one of
        its fixes lies after `low` (the module's arguments may be written after a name used above them)."""
        if self.start >= low:
            self.start += delta
            self.end += delta
            self.shown = None
        elif self.shown is not None and any(e.end > low for f in self.shown[1].fixes for e in f.edits):
            self.shown = None


class _State:
    """The last check of one document: its text, a private copy of its tree, and what was found."""

    def __init__(self, doc: Document, packages: PackageIndex | None, findings: list[_Finding]) -> None:
        self.source = doc.source
        self.tree: Tree = doc.tree.copy()
        self.packages = packages
        self.findings = findings


_STATES: weakref.WeakKeyDictionary[Document, _State] = weakref.WeakKeyDictionary()


def scope_problems(doc: Document, packages: PackageIndex | None = None, style: str = "friendly") -> list[Problem]:
    """Undefined variables (ERROR) and, when `packages` include the user's indexed nixpkgs, names under
    `with pkgs;` that are no package (WARNING), in document order. Only for a tree without syntax errors."""
    if doc.tree.root_node.has_error:
        _STATES.pop(doc, None)
        return []
    packages = _indexed(packages)
    state = _STATES.get(doc)
    if state is None or state.packages is not packages:
        state = _STATES[doc] = _State(doc, packages, _sweep(doc.tree.root_node, [], packages))
    elif state.source is not doc.source and state.source != doc.source:
        _recheck(state, doc)
    return [finding.problem(doc, packages, style) for finding in state.findings]


# -- the sweep ---------------------------------------------------------------------------------------------


def _sweep(
    root: Node, around: list[_Scope], packages: PackageIndex | None, span: tuple[int, int] | None = None
) -> list[_Finding]:
    """Findings under `root` (only those starting in `span`, when given), with the scopes `around` it
    (outermost first)."""
    cursor = QueryCursor(_SCOPES)
    if span is not None:
        cursor.set_byte_range(*span)
    nodes = cursor.captures(root).get("node", [])
    if span is not None:
        nodes = [node for node in nodes if span[0] <= node.start_byte < span[1]]
    nodes.sort(key=_start_byte)
    stack = list(around)
    found: list[_Finding] = []
    for node in nodes:
        start = node.start_byte
        while stack[-1:] and stack[-1].end <= start:
            stack.pop()
        kind = node.type
        if kind == "variable_expression":
            name = text_of(node)
            skip = None
        elif kind in _LEXICAL or kind == "with_expression":
            stack.append(_scope(node, stack))
            continue
        else:  # a name an `inherit` reads, from the scope around its `let` or `rec` (not inside it)
            name, how = static_name(node)
            if how != STATIC:
                continue
            skip = _inheriting_scope(node.parent.parent)  # the attr's inherited_attrs is in the inherit
        if not name:
            continue  # a MISSING identifier
        verdict = _resolve(name, start, stack, skip, packages)
        if verdict is not None:
            found.append(_Finding(start, node.end_byte, name, verdict, tuple(stack)))
    return found


def _resolve(
    name: str, at: int, stack: list[_Scope], skip: int | None, packages: PackageIndex | None
) -> str | None:
    """What is wrong with reading `name` at `at`: undefined, not a package, or nothing (None)."""
    under_with = False
    only_packages = True
    unclear = False
    for scope in reversed(stack):
        if scope.type == "with_expression":
            if scope.start <= at:
                under_with = True
                only_packages = only_packages and scope.with_packages
            continue
        if scope.node_start == skip:
            continue
        if name in scope.names:
            return None
        unclear = unclear or scope.unclear
    if name in TOP_LEVEL_NAMES or unclear:
        return None
    if not under_with:
        return _UNDEFINED
    if only_packages and packages is not None and not _is_package(packages, name):
        alias = package_alias(packages, name)
        if alias is None:
            return _NOT_A_PACKAGE
        return OLD_NAME if alias.kind != "alias" else None
    return None


def _scope(node: Node, around: list[_Scope]) -> _Scope:
    """The scope `node` opens, given the scopes around it (to tell what `with pkgs;` opens)."""
    kind = node.type
    if kind == "with_expression":
        body = node.child_by_field_name("body")
        scope = _Scope(node, body.start_byte if body is not None else node.end_byte, node.end_byte)
        environment = node.child_by_field_name("environment")
        scope.with_packages = (
            environment is not None and environment.type == "variable_expression" and text_of(environment) == "pkgs"
            and _is_package_set("pkgs", around)
        )
        return scope
    scope = _Scope(node, node.start_byte, node.end_byte)
    if kind == "function_expression":
        universal = node.child_by_field_name("universal")
        formals = node.child_by_field_name("formals")
        names = {text_of(universal)} if universal is not None else set()
        for formal in formals.children_by_field_name("formal") if formals is not None else ():
            formal_name = formal.child_by_field_name("name")
            if formal_name is not None:
                names.add(text_of(formal_name))
        scope.names = frozenset(names)
        scope.package_sets = scope.names & {"pkgs"}
        return scope
    scope.names, scope.package_sets, scope.unclear = _binders(_items_of(node))
    return scope


def _binders(items: list[Node]) -> tuple[frozenset[str], frozenset[str], bool]:
    """What the bindings and `inherit`s of a `let` or `rec { }` bind: the names, those bound to the package
    set, and whether some name cannot be read (a dynamic name binds nothing: Nix rejects it in `let`)."""
    names, package_sets, unclear = set(), set(), False
    for item in items:
        if item.type == "binding":
            attrpath = item.child_by_field_name("attrpath")
            first = attrpath.child_by_field_name("attr") if attrpath is not None else None
            attrs = [first] if first is not None else []
        else:
            inherited = item.child_by_field_name("attrs")
            attrs = inherited.children_by_field_name("attr") if inherited is not None else []
        for attr in attrs:
            name, how = static_name(attr)
            if how == STATIC:
                names.add(name)
                if name == "pkgs" and item.type == "binding" and _imports_nixpkgs(item):
                    package_sets.add(name)
            elif how != DYNAMIC:
                unclear = True
    return frozenset(names), frozenset(package_sets), unclear


def _is_package_set(name: str, around: list[_Scope]) -> bool:
    """Does `name` bind the package set? Only when the nearest lexical binding says so."""
    for scope in reversed(around):
        if scope.type != "with_expression" and name in scope.names:
            return name in scope.package_sets
    return False


def _imports_nixpkgs(binding: Node) -> bool:
    """`pkgs = import <nixpkgs> { … };` (any `<nixpkgs…>` path)."""
    value = binding.child_by_field_name("expression")
    while value is not None and value.type == "parenthesized_expression":
        value = value.child_by_field_name("expression")
    if value is None or value.type != "apply_expression":
        return False
    call = value.child_by_field_name("function")
    if call is None or call.type != "apply_expression":
        return False
    function, argument = call.child_by_field_name("function"), call.child_by_field_name("argument")
    return (
        function is not None and function.type == "variable_expression" and text_of(function) == "import"
        and argument is not None and argument.type == "spath_expression" and text_of(argument).startswith("<nixpkgs")
    )


# -- keeping the findings up to date ------------------------------------------------------------------------


def _recheck(state: _State, doc: Document) -> None:
    """Bring `state` from its old text to `doc`'s: check again only what the change can affect."""
    start, old_end, new_end = changed_span(state.source, doc.source)
    delta = new_end - old_end
    _edit_tree(state.tree, state.source, doc, start, old_end, new_end)
    plan = _plan(doc.tree.root_node, state.tree.root_node, state.source, start, new_end, delta)
    if plan is None:
        state.findings = _sweep(doc.tree.root_node, [], state.packages)
    else:
        node, around, low, high, renamed = plan
        old_node = (node.start_byte, node.end_byte - delta)  # in old offsets, as the old findings are
        kept = [
            f for f in state.findings
            if (f.end <= low or f.start >= high - delta)
            and not (f.name in renamed and old_node[0] <= f.start < old_node[1])
        ]
        for finding in kept:
            finding.moved_by(low, delta)
        found = _sweep(node, around, state.packages, (low, high))
        if renamed:
            found += _reread(doc, node, around, renamed, low, high, state.packages)
        state.findings = sorted(kept + found, key=_start)
    state.source = doc.source
    state.tree = doc.tree.copy()


def _edit_tree(tree: Tree, old: bytes, doc: Document, start: int, old_end: int, new_end: int) -> None:
    """Edit the private old tree into the new text's coordinates, so its nodes can be compared."""
    start_point = doc.point_at(start)
    tree.edit(
        start_byte=start, old_end_byte=old_end, new_end_byte=new_end, start_point=start_point,
        old_end_point=_after(start_point, old[start:old_end]), new_end_point=doc.point_at(new_end),
    )


def _after(point: tuple[int, int], text: bytes) -> tuple[int, int]:
    lines = text.count(b"\n")
    return (point[0], point[1] + len(text)) if not lines else (point[0] + lines, len(text) - text.rfind(b"\n") - 1)


_Plan = tuple[Node, list[_Scope], int, int, frozenset[str]]
_RENAMED_MAX = 16  # more names changed at once, and the whole `let`/`rec` is checked again


def _plan(new_root: Node, old_root: Node, old: bytes, start: int, end: int, delta: int) -> _Plan | None:
    """What a change of `start`..`end` (new offsets) can affect: (node, the scopes around what is checked,
    the span checked again, names whose every read in `node` is judged again). From the change outwards:
    - in a plain set or a list, whose items bind nothing for each other: only the items it touches;
    - among the bindings of a `let` or `rec`: those bindings, and every read of a name they bound before or
      bind now (the old ones are read from a parse of the old text of those bindings);
    - else the smallest expression around it (or a binding whose name it leaves alone): it binds no name
      seen outside itself.
    Each must have existed before with the same span and type (the old tree is edited into new offsets).
    None when only the whole file will do."""
    node = new_root.descendant_for_byte_range(start, end)
    while node is not None and node.type != "source_code":
        if node.start_byte < start and end < node.end_byte:
            kind = node.type
            wanted = kind in _CONTAINERS or kind in _SET_SCOPES or _closed(node, start)
            twin = _old_twin(old_root, node) if wanted else None
            if twin is not None and kind in _CONTAINERS:
                low, high = _touched(_item_parents(node, twin), start, end)
                return node, _scopes_around(node), low, high, frozenset()
            if twin is not None and kind in _SET_SCOPES:
                renaming = _renaming(node, twin, old, start, end, delta)
                if renaming is not None:
                    return renaming
            if twin is not None:
                return node, _scopes_around(node), node.start_byte, node.end_byte, frozenset()
        node = node.parent
    return None


def _renaming(scope: Node, twin: Node, old: bytes, start: int, end: int, delta: int) -> _Plan | None:
    """A change among the bindings of a `let` or `rec` (see `_plan`); None when it is not only there, or
    changes which names are unclear or bound to the package set, or renames too many."""
    if not (_inside_bindings(scope, start, end) and _inside_bindings(twin, start, end)):
        return None
    new_parents, old_parents = _binding_sets(scope), _binding_sets(twin)
    low, high = _touched(new_parents + old_parents, start, end)
    before = parse(b"let " + old[low : high - delta] + b"\nin null").root_node
    let = before.child_by_field_name("expression")
    if before.has_error or let is None or let.type != "let_expression":
        return None
    old_names, old_sets, old_unclear = _binders(_items_of(let))
    new_names, new_sets, new_unclear = _binders([item for p in new_parents for item in _touching(p, low, high)])
    renamed = old_names ^ new_names
    if (old_sets != new_sets or old_unclear or new_unclear or len(renamed) > _RENAMED_MAX
            or not all(_IDENTIFIER.fullmatch(name) for name in renamed)):
        return None
    around = _scopes_around(scope)
    own = _scope(scope, around)
    own.end = _EVERYWHERE
    return scope, [*around, own], low, high, renamed


def _inside_bindings(scope: Node, start: int, end: int) -> bool:
    """Is `start`..`end` between `let` and `in` (or inside the braces of `rec { }` or `let { }`)?"""
    opening = closing = None
    for child in scope.children:
        if child.type in ("let", "{"):  # the last of them: `let {` opens at its brace
            opening = child
        elif child.type in ("in", "}"):
            closing = child
    return opening is not None and closing is not None and opening.end_byte <= start and end <= closing.start_byte


def _item_parents(node: Node, twin: Node) -> list[Node]:
    """Where the items of a set or list and of its old twin are: the binding sets, or the lists."""
    return [node, twin] if node.type == "list_expression" else _binding_sets(node) + _binding_sets(twin)


def _binding_sets(node: Node) -> list[Node]:
    return [child for child in node.named_children if child.type == "binding_set"]


def _touched(parents: list[Node], start: int, end: int) -> tuple[int, int]:
    """The span of the items (new and old) that the change touches, grown until no item sticks out of it."""
    low, high = start, end
    while True:
        items = [item for parent in parents for item in _touching(parent, low, high)]
        grown = (min([low, *(i.start_byte for i in items)]), max([high, *(i.end_byte for i in items)]))
        if grown == (low, high):
            return low, high
        low, high = grown


def _touching(parent: Node, low: int, high: int) -> list[Node]:
    """The named children of `parent` that meet `low`..`high` (touching counts), found from `low` on."""
    cursor = parent.walk()
    if cursor.goto_first_child_for_byte(max(low - 1, 0)) is None:
        return []
    found = []
    while cursor.node.start_byte <= high:
        if cursor.node.is_named and cursor.node.end_byte >= low:
            found.append(cursor.node)
        if not cursor.goto_next_sibling():
            break
    return found


def _items_of(scope: Node) -> list[Node]:
    return [item for binding_set in _binding_sets(scope) for item in binding_set.named_children]


def _reread(
    doc: Document, scope: Node, around: list[_Scope], names: frozenset[str], low: int, high: int,
    packages: PackageIndex | None,
) -> list[_Finding]:
    """Judge again every read of `names` in `scope` (whose own scope ends `around`) outside `low`..`high`:
    the names it binds changed. The names are found as words in the bytes (C speed), each confirmed on the
    way down from `scope` to it, which also passes the scopes in between."""
    if not names:
        return []
    # longest first, and no look-around in the pattern: it stays a fast literal search
    words = b"|".join(re.escape(name.encode()) for name in sorted(names, key=len, reverse=True))
    source = doc.source
    found: list[_Finding] = []
    cache: dict[tuple[int, str], _Scope] = {}
    for spot in re.finditer(words, source[scope.start_byte : scope.end_byte]):
        at, end = scope.start_byte + spot.start(), scope.start_byte + spot.end()
        if low <= at < high or source[at - 1 : at] in _WORD_BYTES or source[end : end + 1] in _WORD_BYTES:
            continue
        path = _path_to(scope, at)
        read = _read(path, end)
        if read is None or read[1] not in names:
            continue
        reader, name, skip = read
        stack = list(around)
        for holder in path[1:-1]:
            if holder.type in _LEXICAL or (holder.type == "with_expression" and _in_body(holder, at)):
                key = (holder.start_byte, holder.type)
                if key not in cache:
                    cache[key] = _scope(holder, stack)
                    cache[key].end = _EVERYWHERE
                stack.append(cache[key])
        verdict = _resolve(name, at, stack, skip, packages)
        if verdict is not None:
            found.append(_Finding(reader.start_byte, reader.end_byte, name, verdict, tuple(stack)))
    return found


def _in_body(with_node: Node, at: int) -> bool:
    """Is byte `at` in the body of this `with` (not in what it opens)?"""
    body = with_node.child_by_field_name("body")
    return body is not None and body.start_byte <= at


def _path_to(top: Node, at: int) -> list[Node]:
    """The nodes from `top` down to the token at byte `at` (a cursor walk: no parent look-ups)."""
    cursor = top.walk()
    path = [top]
    while cursor.goto_first_child_for_byte(at) is not None and cursor.node.start_byte <= at:
        path.append(cursor.node)
    return path


def _read(path: list[Node], end: int) -> tuple[Node, str, int | None] | None:
    """The variable read (or name an `inherit` reads) that the path ends in, if it ends at `end`: (node,
    name, the `let`/`rec` whose own names it skips); None for a string, an attribute name, a comment."""
    if len(path) >= 2 and path[-1].type == "string_fragment":
        path = path[:-1]  # `inherit "a";`
    if len(path) < 2 or path[-1].end_byte != end:
        return None
    node, parent = path[-1], path[-2]
    if parent.type == "variable_expression":
        return parent, text_of(parent), None
    if parent.type == "inherited_attrs" and len(path) >= 5 and path[-3].type == "inherit":
        name, how = static_name(node)
        owner = path[-5]
        return (node, name, owner.start_byte if owner.type in _SET_SCOPES else None) if how == STATIC else None
    return None


def _inheriting_scope(inherit: Node) -> int | None:
    """Where the `let` or `rec` whose bindings hold this `inherit x;` starts (its own names do not count for
    `x`); None in a plain set."""
    binding_set = inherit.parent
    owner = binding_set.parent if binding_set is not None else None
    return owner.start_byte if owner is not None and owner.type in _SET_SCOPES else None


def _closed(node: Node, start: int) -> bool:
    """An expression binds nothing outside itself; a binding does unless it lies in a plain set or the
    change comes after its name."""
    if node.type.endswith("_expression"):
        return True
    if node.type != "binding":
        return False
    owner = node.parent.parent if node.parent is not None else None
    attrpath = node.child_by_field_name("attrpath")
    return (owner is not None and owner.type == "attrset_expression") or (attrpath is not None and attrpath.end_byte < start)


def _old_twin(old_root: Node, node: Node) -> Node | None:
    """The node of the old tree (edited into new offsets) with the same span and type, if there was one."""
    old: Node | None = old_root.descendant_for_byte_range(node.start_byte, node.end_byte)
    while old is not None and (old.start_byte, old.end_byte) == (node.start_byte, node.end_byte):
        if old.type == node.type:
            return old
        old = old.parent
    return None


def _scopes_around(unit: Node, cache: dict[tuple[int, str], _Scope] | None = None) -> list[_Scope]:
    """The scopes whose names `unit` sees, outermost first (`cache` keeps them for several units)."""
    holders: list[Node] = []
    node = unit.parent
    while node is not None:
        if node.type in _LEXICAL:
            holders.append(node)
        elif node.type == "with_expression" and _in_body(node, unit.start_byte):
            holders.append(node)
        node = node.parent
    around: list[_Scope] = []
    for holder in reversed(holders):
        key = (holder.start_byte, holder.type)
        scope = cache.get(key) if cache is not None else None
        if scope is None:
            scope = _scope(holder, around)
            scope.end = _EVERYWHERE
            if cache is not None:
                cache[key] = scope
        around.append(scope)
    return around


# -- problems and fixes ---------------------------------------------------------------------------------------


def _problem(doc: Document, finding: _Finding, packages: PackageIndex | None, style: str) -> Problem:
    name = finding.name
    if finding.kind == OLD_NAME:
        assert packages is not None
        alias = package_alias(packages, name)
        found = alias and old_name_problem(alias, finding.start, finding.end, finding.start, finding.end, packages, style)
        if found is not None:
            return found
    if finding.kind == _NOT_A_PACKAGE:
        assert packages is not None
        similar = _similar_packages(packages, name)
        fixes = tuple(_replace(finding, other, i == 0) for i, other in enumerate(similar))
        message = f"`{name}` is not a package in your nixpkgs"
        hint = f"did you mean `{similar[0]}`?" if similar else ""
        return Problem(finding.start, finding.end, _with_hint(message, hint, style), Severity.WARNING,
                       code=_NOT_A_PACKAGE, fixes=fixes)
    argument = _argument_fix(doc, name)
    similar = tuple(_similar_names(finding))
    fixes = (argument,) if argument is not None else ()
    fixes += tuple(_replace(finding, other, not fixes and i == 0) for i, other in enumerate(similar))
    if argument is not None:
        hint = f"the module does not take `{name}` as an argument"
    else:
        hint = f"did you mean `{similar[0]}`?" if similar else "nothing by this name is defined here"
    message = f"undefined variable `{name}`"
    return Problem(finding.start, finding.end, _with_hint(message, hint, style), code=_UNDEFINED, fixes=fixes)


def _with_hint(message: str, hint: str, style: str) -> str:
    """The friendly style adds a hint in words; the others say only what Nix says."""
    return f"{message}: {hint}" if style == "friendly" and hint else message


def _replace(finding: _Finding, other: str, preferred: bool) -> QuickFix:
    return QuickFix(f"Change to `{other}`", (TextEdit(finding.start, finding.end, other),), preferred)


def _argument_fix(doc: Document, name: str) -> QuickFix | None:
    """`pkgs` (or `lib`, `config`, …) used in a NixOS module that does not take it: add it to the arguments."""
    if name not in MODULE_ARGUMENT_NAMES or module_attrset(doc.tree) is None:
        return None
    try:
        edits = module_argument_edits(doc, [name])
    except ScopeError:
        return None
    return QuickFix(f"Add `{name}` to the module's arguments", tuple(edits), preferred=True)


def _similar_names(finding: _Finding) -> tuple[str, ...]:
    return _similar_in_scope(finding.name, tuple(scope.names for scope in finding.scopes))


_GLOBAL_WORDS = frozenset(name for name in TOP_LEVEL_NAMES if not name.startswith("__"))


@functools.lru_cache(maxsize=1024)
def _similar_in_scope(name: str, in_scope: tuple[frozenset[str], ...]) -> tuple[str, ...]:
    """Names in scope spelled like the undefined one (top-level names without `__` count); remembered, since
    renaming a `let` binding makes every read of it undefined at once."""
    candidates = sorted(_GLOBAL_WORDS.union(*in_scope) - {name})
    return tuple(other for other in close_names(name, candidates) if _writable(other))[:MAX_SUGGESTIONS]


def _writable(name: str) -> bool:
    """Can `name` replace a variable as it is (an identifier, no keyword)?"""
    return _IDENTIFIER.fullmatch(name) is not None and name not in _KEYWORDS


def _is_package(packages: PackageIndex, name: str) -> bool:
    return name in PACKAGE_SET_EXTRAS or packages.get(name) is not None


_SUGGESTED: weakref.WeakKeyDictionary[PackageIndex, dict[str, tuple[str, ...]]] = weakref.WeakKeyDictionary()


def _similar_packages(packages: PackageIndex, name: str) -> tuple[str, ...]:
    """Package names one typo away, as for the package lists of options; remembered per index and name."""
    known = _SUGGESTED.setdefault(packages, {})
    if name not in known:
        known[name] = tuple(other for other in close_packages(name, packages) if _writable(other))
    return known[name]


def _indexed(packages: PackageIndex | None) -> PackageIndex | None:
    """`packages` when they include the user's indexed nixpkgs: the bundled list alone is far from complete."""
    from ..nixpkgs.records import NixpkgsPackages

    if packages is None or not any(isinstance(s, NixpkgsPackages) and len(s) > 0 for s in packages.sources):
        return None
    return packages
