"""Ways out of a problem, each with the concrete change to the user's file when there is one to make.

A `Fix` always has a `title` for a person. When the change can be made safely it also carries `file` and
`edits`: minimal byte-offset `TextEdit`s against that file's text as `ConfigFiles` read it (the editor's
buffer when the caller passed it in `sources`, else the file on disk). They come from the one edit engine
(`edits.plan` operations: allow unfree, remove packages, set options, add to lists) or from a replacement of
one token (a renamed option's path, a misspelled package, a hash); the result must parse or no edits are
given. New text that reads `pkgs` or `lib` gets the module argument added, as the edit engine does.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Sequence

import attrs

from ..edits.options import EditError, render_path
from ..edits.plan import (
    AddToList,
    AllowUnfree,
    Operation,
    RemoveFromList,
    RemovePackages,
    SetOption,
    _with_module_arguments,
    apply_operations,
)
from ..edits.scope import ScopeError, module_argument_edits
from ..edits.text_edit import TextEdit, apply_edits, minimal_edits
from ..knowledge.packages import bundled_index
from ..knowledge.vocabulary import bundled_vocabulary, split_path
from ..nixpkgs.records import OptionIndex
from ..syntax.document import Document
from ..syntax.query import Binding, attrpath_names, text_of, unwrap
from . import nix_hash
from .config_files import ConfigFiles
from .explain_places import Place, hash_literal, import_literal, node_at, package_element


@attrs.frozen
class Fix:
    """A way out: `title` for a person; `edit` says the change in words; `file` and `edits` make it (byte
    offsets into `file`'s text as read when explaining; empty when the change is not one we can make)."""

    title: str
    edit: str | None = None
    file: str | None = None
    edits: tuple[TextEdit, ...] = ()


@attrs.frozen
class Problem:
    """What the fixes are computed from: one classified message and where it was found."""

    kind: str
    parts: dict[str, str]
    message: str  # Nix's wording
    raw: str
    option: str | None
    package: str | None
    place: Place | None  # where the finding points
    binding: Binding | None  # the option's binding, when the place is one


def pname(name: str) -> str:
    """`firefox-121.0` → `firefox`: nixpkgs' `name` is pname-version, the version starting with a digit; a
    Python package's name starts with its interpreter (`python3.12-tensorflow-2.13.0` → `tensorflow`)."""
    return re.sub(r"-\d.*$", "", re.sub(r"^python\d(?:\.\d+)?-", "", name))


def store_name(path: str) -> str | None:
    """`firefox-121.0` from `/nix/store/<hash>-firefox-121.0/bin/firefox`."""
    found = re.match(r"/nix/store/[a-z0-9]{32}-([^/]+)", path)
    return found.group(1) if found else None


def fixes(problem: Problem, files: ConfigFiles, options: OptionIndex | None) -> list[Fix]:
    found = list(_fixes(problem, files, options))
    unique: dict[tuple[str, str | None], Fix] = {}
    for fix in found:
        unique.setdefault((fix.title, fix.file), fix)
    return list(unique.values())


def _fixes(problem: Problem, files: ConfigFiles, options: OptionIndex | None) -> Iterator[Fix]:
    kind, parts = problem.kind, problem.parts
    if kind.startswith("option-") or kind == "conflicting-definitions":
        yield from _option_fixes(problem, files, options)
    elif kind in ("unfree-package", "broken-package", "insecure-package", "unsupported-platform"):
        yield from _package_fixes(problem, files)
    elif kind in ("undefined-variable", "missing-attribute"):
        yield from _name_fixes(problem, files)
    elif kind == "syntax-error":
        expecting = re.search(r"expecting (?:'(.)'|(\S+))", problem.message)
        if expecting and expecting.group(1):
            yield Fix(f"Add the missing `{expecting.group(1)}` just before the marked spot")
        elif "already defined" in problem.message:
            yield Fix("Keep only one of the two definitions")
        else:
            yield Fix("Close every `{`, `[`, `(` and quote you opened, and end each binding with `;`")
    elif kind == "failed-assertion":
        yield Fix("Do what the message asks; it names the option or package to change")
    elif kind == "hash-mismatch":
        yield from _hash_fixes(problem, files)
    elif kind == "import-not-found":
        yield from _import_fixes(problem, files)
    elif kind == "flake-untracked-file":
        path = parts.get("path") or "the file"
        yield Fix(f"Add {path} to git", f"git add {path} (flakes only see files git knows)")
    elif kind == "flake-attr-missing":
        yield Fix("Use the host name defined in flake.nix", "nixos-rebuild --flake .#<name in nixosConfigurations>")
    elif kind == "file-collision":
        yield from _collision_fixes(problem, files)
    elif kind == "permission-denied":
        yield Fix("Run it as root (sudo), or add your user to nix.settings.trusted-users")
    elif kind == "out-of-space":
        yield Fix("Free space: delete old generations", "sudo nix-collect-garbage -d")
    elif kind == "network-failure":
        yield Fix("Check the internet connection and try again, or build with --offline")
    elif kind == "infinite-recursion":
        yield Fix("Do not use `config` to decide `imports` or to set the option it reads; use `lib.mkIf`")
    elif kind == "activation-failed":
        units = re.search(r"the following units failed: (.+)", problem.raw)
        if units:
            yield Fix(f"See why: journalctl -xeu {units.group(1).split(',')[0].strip()}")
        yield Fix("Go back to the previous generation", "nixos-rebuild switch --rollback")
    elif kind == "build-failed":
        yield Fix("Read the log tail above; `nix log` shows the whole build log")


# ---- making the change --------------------------------------------------------------------------------------


def _changed(doc: Document, new: bytes) -> tuple[TextEdit, ...]:
    """Minimal edits from `doc` to `new`, with module arguments the new text needs; () when the result does
    not parse or nothing changed."""
    if new == doc.source:
        return ()
    current = Document(doc.uri, new)
    if current.tree.root_node.has_error:
        return ()
    try:
        current = _with_module_arguments(doc, current)
    except EditError:
        return ()
    if current.tree.root_node.has_error:
        return ()
    return tuple(minimal_edits(doc.source, current.source))


def _operations(title: str, words: str, files: ConfigFiles, path: str | None, operations: Sequence[Operation]) -> Fix:
    """A fix made by edit-engine operations on `path`; without edits when they cannot be made there."""
    doc = files.document(path) if path else None
    if doc is None:
        return Fix(title, words)
    try:
        applied = apply_operations(doc, operations)
    except (EditError, ScopeError):
        return Fix(title, words)
    edits = _changed(doc, applied.source)
    return Fix(title, words, path, edits) if edits else Fix(title, words)


def _replaced(title: str, words: str, place: Place, start: int, end: int, text: str) -> Fix:
    edits = _changed(place.doc, apply_edits(place.doc.source, [TextEdit(start, end, text)]))
    return Fix(title, words, place.file, edits) if edits else Fix(title, words)


def _without_binding(doc: Document, binding: Binding) -> bytes:
    """The source with the binding removed: its whole line (with a comment after it) when it stands alone."""
    source = doc.source
    start, end = binding.node.start_byte, binding.node.end_byte
    line_start = source.rfind(b"\n", 0, start) + 1
    newline = source.find(b"\n", end)
    line_end = len(source) if newline < 0 else newline + 1
    if not source[line_start:start].strip() and (not source[end:line_end].strip() or source[end:line_end].strip().startswith(b"#")):
        start, end = line_start, line_end
    return source[:start] + source[end:]


def option_span(binding: Binding, option: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(what comes before, what comes after) `option` in the binding's path: ((), ()) for the option's own
    binding, ((), ("example.org", "root")) for a binding inside it, (("config",), …) under `config = { … }`."""
    for start in (0, 1):
        if binding.path[start : start + len(option)] == option and binding.path[:start] in ((), ("config",)):
            return binding.path[:start], binding.path[start + len(option):]
    return None


def _renamed(place: Place, binding: Binding, old: tuple[str, ...], new: tuple[str, ...]) -> bytes | None:
    """The source with `old` set under the name `new`: the attribute path rewritten where the binding's own
    path covers the difference, else the binding removed and its value set at the new path."""
    span = option_span(binding, old)
    if span is None:
        return None
    base, rest = span
    written = attrpath_names(binding.attrpath) or ()
    container = binding.path[: len(binding.path) - len(written)]
    target = base + new + rest
    if target[: len(container)] == container and len(target) > len(container):
        edit = TextEdit(binding.attrpath.start_byte, binding.attrpath.end_byte, render_path(target[len(container):]))
        return apply_edits(place.doc.source, [edit])
    moved = Document(place.doc.uri, _without_binding(place.doc, binding))
    try:
        return apply_operations(moved, [SetOption(target, text_of(binding.value))]).source
    except (EditError, ScopeError):
        return None


def _rename_fix(title: str, problem: Problem, old: str, new: str) -> Fix:
    words = f"replace `{old}` with `{new}`"
    if problem.place is None or problem.binding is None:
        return Fix(title, words)
    source = _renamed(problem.place, problem.binding, split_path(old), split_path(new))
    edits = _changed(problem.place.doc, source) if source is not None else ()
    return Fix(title, words, problem.place.file, edits) if edits else Fix(title, words)


# ---- options --------------------------------------------------------------------------------------------------


def _option_fixes(problem: Problem, files: ConfigFiles, options: OptionIndex | None) -> Iterator[Fix]:
    kind, parts, option = problem.kind, problem.parts, problem.option or ""
    vocabulary = bundled_vocabulary()
    renamed_to = parts.get("new") or vocabulary.renamed.get(option)
    hit = options.rename_for(split_path(option)) if options is not None and option else None
    if renamed_to is None and hit is not None and hit.new_path is not None and hit.rename.kind in ("renamed", "alias"):
        renamed_to = ".".join(hit.new_path)
    if renamed_to and kind in ("option-renamed", "option-does-not-exist"):
        yield _rename_fix(f"Use `{renamed_to}` instead", problem, option, renamed_to)
    removed = next((r for r in vocabulary.removed if option == r.old or option.startswith(r.old + ".")), None)
    if kind == "option-removed" or (kind == "option-does-not-exist" and (removed or (hit and hit.rename.kind == "removed"))):
        advice = removed.advice if removed and removed.advice else (hit.rename.message if hit else "")
        title = f"Remove `{option}`" + (f": {advice}" if advice else "")
        yield _removal_fix(title, problem)
    if kind == "option-does-not-exist" and not renamed_to and not removed:
        for close in _close_options(option, options):
            yield _rename_fix(f"Did you mean `{close}`?", problem, option, close)
        yield _removal_fix(f"Remove the setting of `{option}`", problem)
    if kind == "conflicting-definitions" and "already declared" not in problem.message:
        yield _force_fix(problem)
    if kind == "option-type-mismatch":
        wanted = parts.get("type") or ""
        yield from _type_fixes(problem, wanted)
        yield Fix(f"Give `{option}` a value of type {wanted}")
    if kind == "option-used-but-not-defined":
        yield Fix(f"Set `{option}` in your configuration", f"add `{option} = …;`")


def _removal_fix(title: str, problem: Problem) -> Fix:
    words = f"remove the line setting `{problem.option}`"
    if problem.place is None or problem.binding is None or option_span(problem.binding, split_path(problem.option or "")) is None:
        return Fix(title, words)
    edits = _changed(problem.place.doc, _without_binding(problem.place.doc, problem.binding))
    return Fix(title, words, problem.place.file, edits) if edits else Fix(title, words)


def _close_options(option: str, options: OptionIndex | None) -> list[str]:
    """Declared option paths close to a misspelled one: siblings under the longest prefix that exists in the
    user's nixpkgs index, else paths from our vocabulary."""
    path = split_path(option)
    if options is not None:
        for length in range(len(path) - 1, 0, -1):
            children = options.children(path[:length])
            if children:
                rest = ".".join(path[length:])
                names = [c.name for c in children]
                close = difflib.get_close_matches(path[length], names, n=3, cutoff=0.75)
                tail = "." + ".".join(path[length + 1:]) if len(path) > length + 1 else ""
                return [".".join(path[:length]) + "." + name + tail for name in close if name + tail != rest]
    known = bundled_vocabulary().option_paths()
    return [c for c in difflib.get_close_matches(option, known, n=3, cutoff=0.8) if c != option]


def _force_fix(problem: Problem) -> Fix:
    title = "Keep your value: wrap it in `lib.mkForce`"
    words = f"set `{problem.option} = lib.mkForce …;`"
    binding = problem.binding
    if problem.place is None or binding is None:
        return Fix(title, words)
    value = binding.value
    text = text_of(value)
    if re.match(r"(lib\.)?mk(Force|Override)\b", text):
        return Fix(title, words)
    atomic = value.type in ("string_expression", "indented_string_expression", "integer_expression",
                            "float_expression", "list_expression", "attrset_expression", "parenthesized_expression",
                            "variable_expression", "select_expression", "path_expression")
    wrapped = f"lib.mkForce {text}" if atomic else f"lib.mkForce ({text})"
    return _replaced(title, words, problem.place, value.start_byte, value.end_byte, wrapped)


_TRUE, _FALSE = {"yes", "true", "on", "1", "enable", "enabled"}, {"no", "false", "off", "0", "disable", "disabled"}


def _type_fixes(problem: Problem, wanted: str) -> Iterator[Fix]:
    """The value rewritten to the type the option wants, where the intent is plain: "yes" for a boolean,
    "8080" for a port (also inside a list), a single value where a list is wanted."""
    if problem.place is None or problem.binding is None:
        return
    value = unwrap(problem.binding.value)
    if value is None:
        return
    place, text = problem.place, text_of(value)
    plain = text.strip('"').strip().lower() if value.type == "string_expression" else None
    if wanted == "boolean" and plain in _TRUE | _FALSE:
        new = "true" if plain in _TRUE else "false"
        yield _replaced(f"Write `{new}` (without quotes)", f"replace {text} with {new}", place, value.start_byte, value.end_byte, new)
    elif re.search(r"integer|port|number", wanted) and plain is not None and plain.isdigit():
        yield _replaced(f"Write {plain} (without quotes)", f"replace {text} with {plain}", place, value.start_byte, value.end_byte, plain)
    elif re.search(r"integer|port|number", wanted) and value.type == "list_expression":
        quoted = [e for e in value.named_children if e.type == "string_expression" and text_of(e).strip('"').isdigit()]
        if quoted:
            edits = [TextEdit(e.start_byte, e.end_byte, text_of(e).strip('"')) for e in quoted]
            changed = _changed(place.doc, apply_edits(place.doc.source, edits))
            if changed:
                yield Fix("Write the numbers without quotes", "remove the quotes around the numbers", place.file, changed)
    elif wanted.startswith("list of") and value.type != "list_expression":
        yield _replaced("Put the value in a list", f"replace {text} with [ {text} ]", place, value.start_byte, value.end_byte, f"[ {text} ]")


# ---- packages -------------------------------------------------------------------------------------------------


def _package_fixes(problem: Problem, files: ConfigFiles) -> Iterator[Fix]:
    kind, package = problem.kind, problem.package or ""
    name = pname(package)
    listed = problem.place.file if problem.place is not None else None
    target = listed or files.main_module()
    if kind == "unfree-package":
        yield _operations("Allow unfree packages", "allow unfree (nixpkgs.config.allowUnfree = true)", files, target,
                          [AllowUnfree((name,))])
    if kind == "broken-package":
        yield _operations("Allow broken packages (it may still fail to build)", "nixpkgs.config.allowBroken = true",
                          files, target, [SetOption(("nixpkgs", "config", "allowBroken"), "true")])
    if kind == "insecure-package":
        yield _operations(f"Accept the risk for `{package}`", f'nixpkgs.config.permittedInsecurePackages = [ "{package}" ]',
                          files, target, [AddToList(("nixpkgs", "config", "permittedInsecurePackages"), (f'"{package}"',))])
    if kind == "unsupported-platform":
        yield _operations("Try it anyway", "nixpkgs.config.allowUnsupportedSystem = true", files, target,
                          [SetOption(("nixpkgs", "config", "allowUnsupportedSystem"), "true")])
    if name:
        yield _operations(f"Remove `{name}`", f"remove the package `{name}` from environment.systemPackages", files,
                          listed, [RemovePackages((name,))])


def _name_fixes(problem: Problem, files: ConfigFiles) -> Iterator[Fix]:
    """`pkgs.firefx` → the names Nix or our index suggest; `firefox` unqualified → `pkgs.firefox`; a missing
    `pkgs`/`lib`/`config` → the module's arguments."""
    kind, parts, place = problem.kind, problem.parts, problem.place
    word = parts.get("name") or parts.get("attr") or ""
    hinted = re.search(r"Did you mean (?:one of )?(.+?)\?", problem.message)
    candidates = [n.strip() for n in re.split(r",\s*|\s+or\s+", hinted.group(1))] if hinted else []
    matches = bundled_index().find(word) if word else []
    token = None
    if place is not None:
        node = node_at(place, ("select_expression",) if kind == "missing-attribute" else ("variable_expression",))
        if node is not None and kind == "missing-attribute":
            attrpath = node.child_by_field_name("attrpath")
            last = attrpath.children_by_field_name("attr")[-1] if attrpath is not None else None
            token = last if last is not None and text_of(last) == word else None
        elif node is not None and text_of(node) == word:
            token = node
    if kind == "undefined-variable" and word in ("pkgs", "lib", "config"):
        title = f"Add `{word}` to the module's arguments"
        words = "change the first line to `{ config, pkgs, lib, ... }:`"
        if place is None:
            yield Fix(title, words)
            return
        try:
            edits = _changed(place.doc, apply_edits(place.doc.source, module_argument_edits(place.doc, [word])))
        except ScopeError:
            edits = ()
        yield Fix(title, words, place.file, edits) if edits else Fix(title, words)
        return
    if kind == "undefined-variable" and matches and matches[0].how == "exact":
        title, words = f"Write `pkgs.{word}`", f"replace `{word}` with `pkgs.{word}` (or use `with pkgs; [ … ]`)"
        if token is not None and place is not None:
            yield _replaced(title, words, place, token.start_byte, token.end_byte, f"pkgs.{word}")
        else:
            yield Fix(title, words)
    if not candidates:
        candidates = [m.package.attr for m in matches[:3] if m.package.attr != word]
    for name in candidates:
        title = f"Did you mean `{name}`?" if hinted or kind == "missing-attribute" else f"Did you mean the package `{name}`?"
        words = f"replace `{word}` with `{name}`"
        if token is not None and place is not None:
            yield _replaced(title, words, place, token.start_byte, token.end_byte, name)
        else:
            yield Fix(title, words)


def _collision_fixes(problem: Problem, files: ConfigFiles) -> Iterator[Fix]:
    paths = [problem.parts.get(k) for k in ("first", "second")]
    names = [pname(n) for n in (store_name(p) for p in paths if p) if n]
    for name in dict.fromkeys(names):
        place = package_element(files, name)
        if place is None:
            continue
        element = text_of(place.doc.tree.root_node.named_descendant_for_byte_range(place.start, place.end) or place.doc.tree.root_node)
        yield _replaced(f"Prefer `{name}`: give it priority with `lib.hiPrio`", f"replace {element} with (lib.hiPrio {element})",
                        place, place.start, place.end, f"(lib.hiPrio {element})")
        yield _operations(f"Remove `{name}`", f"remove the package `{name}`", files, place.file, [RemovePackages((name,))])
    if not names or not any(package_element(files, n) for n in names):
        yield Fix("Remove one of the two packages, or give one priority", "wrap one in `lib.hiPrio`")


# ---- files ----------------------------------------------------------------------------------------------------


def _hash_fixes(problem: Problem, files: ConfigFiles) -> Iterator[Fix]:
    got = re.search(r"got:\s+(\S+)", problem.raw)
    specified = re.search(r"specified:\s+(\S+)", problem.raw)
    if not got:
        return
    new = nix_hash.parse(got.group(1))
    old = nix_hash.parse(specified.group(1)) if specified else None
    title = f"Use the hash Nix got: {got.group(1)}"
    words = f"replace {'`' + specified.group(1) + '`' if specified else 'the old hash'} with `{got.group(1)}`"
    found = hash_literal(files, old) if old is not None else None
    if found is None or new is None:
        yield Fix(title, words)
        return
    place, written = found
    yield _replaced(title, words, place, place.start, place.end, nix_hash.render(new.digest, written))


def _import_fixes(problem: Problem, files: ConfigFiles) -> Iterator[Fix]:
    yield Fix("Check the path, or create the file (hardware-configuration.nix comes from `nixos-generate-config`)")
    missing = next((problem.parts[k] for k in ("path",) if k in problem.parts), None)
    place = import_literal(files, missing) if missing else None
    if place is not None:
        literal = place.doc.slice(place.start, place.end)
        element = place.doc.tree.root_node.named_descendant_for_byte_range(place.start, place.end)
        while element is not None and element.parent is not None and element.parent.type != "list_expression":
            element = element.parent
        item = text_of(element) if element is not None and element.parent is not None else literal
        yield _operations(f"Remove `{literal}` from the imports", f"remove {item} from imports", files, place.file,
                          [RemoveFromList(("imports",), (item,))])

