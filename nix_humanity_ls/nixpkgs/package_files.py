"""Packages of a nixpkgs tree without evaluating it: `pkgs/by-name/*/*/package.nix` (name, `meta.description`,
licences written literally, `meta.broken`) and the names bound at the top of `pkgs/top-level/all-packages.nix`.

There are about 25,000 `package.nix` files, so each is read as bytes and searched (`bytes.find` for the
attribute names, then a regular expression anchored there); only a file whose description is not a plain
`"…"` or `''…''` string (a concatenation, a `${…}` inside), or whose `broken` is neither `true` nor `false`
(`stdenv.hostPlatform.isDarwin`: broken only where that holds), is parsed with tree-sitter. Which licences are
unfree comes from the tree's own `lib/licenses.nix` (`free = false;`), falling back to the well-known unfree
names when that file is missing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator

from tree_sitter import Node

from ..syntax.parser import parse
from ..syntax.query import (
    ATTRSET_TYPES,
    attrpath_names,
    bindings,
    direct_bindings,
    module_attrset,
    static_bindings,
    text_of,
    unwrap,
)
from .literals import doc_text, indented_text, one_line, quoted_text
from .reading import in_threads, read_bytes

BY_NAME = "pkgs/by-name"
ALL_PACKAGES = "pkgs/top-level/all-packages.nix"
LICENSES = "lib/licenses.nix"
FALLBACK_UNFREE = frozenset({"unfree", "unfreeRedistributable", "unfreeRedistributableFirmware"})

_META = re.compile(rb"meta\s*[=.]")
_DESCRIPTION = re.compile(
    rb'description\s*=\s*(?:"((?:[^"\\$]|\\.|\$(?!\{))*)"'  # "…" without ${…}
    rb"|''((?:[^'$]|'(?!')|\$(?!\{)|''['$\\])*)'')\s*;",  # ''…'' without ${…}
    re.DOTALL,
)
_BROKEN = re.compile(rb"broken\s*=\s*([^;]*);")
_LICENSE = re.compile(rb"license\s*=\s*(with\s+[\w.]+\s*;\s*)?([^;]*);")
_LICENSE_NAME = re.compile(rb"\blicenses\.([\w-]+)")
_BARE_NAME = re.compile(rb"(?<![\w.'-])([A-Za-z_][\w'-]*)(?![\w.'-])")
_NAME_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_'-")

# (attr, description, licence names, broken (see `package_broken`), file relative to the root)
PackageFacts = tuple[str, str, tuple[str, ...], str, str]


def by_name_shards(root: str) -> list[str]:
    """The two-letter folders of `pkgs/by-name`, sorted (worker processes share them out)."""
    try:
        return sorted(e.name for e in os.scandir(os.path.join(root, BY_NAME)) if e.is_dir())
    except OSError:
        return []


def read_shards(root: str, shards: Iterable[str]) -> tuple[list[PackageFacts], list[str]]:
    """Facts of every `package.nix` in the given shards, and problems (unreadable files) in words. Shards are
    listed and read by several threads (see `reading`)."""
    found: list[PackageFacts] = []
    problems: list[str] = []
    for shard_found, shard_problems in in_threads(lambda shard: _read_shard(root, shard), shards):
        found.extend(shard_found)
        problems.extend(shard_problems)
    return found, problems


def _read_shard(root: str, shard: str) -> tuple[list[PackageFacts], list[str]]:
    base = os.path.join(root, BY_NAME, shard)
    try:
        names = sorted(e.name for e in os.scandir(base) if e.is_dir())
    except OSError as error:
        return [], [f"{BY_NAME}/{shard}: {error.strerror or error}"]
    found: list[PackageFacts] = []
    problems: list[str] = []
    for name in names:
        relative = f"{BY_NAME}/{shard}/{name}/package.nix"
        source = read_bytes(os.path.join(base, name, "package.nix"))
        if isinstance(source, FileNotFoundError):
            continue  # a folder of helpers, not a package
        if isinstance(source, OSError):
            problems.append(f"{relative}: {source.strerror or source}")
            continue
        found.append((name, package_description(source), package_licenses(source), package_broken(source), relative))
    return found, problems


def package_description(source: bytes) -> str:
    """`meta.description` of a package file: a cheap search first, a parse only when the text is not a
    plain string (`"a" + b`, `${…}` inside)."""
    meta = _meta_start(source)
    if meta is None:
        return ""
    found_word = False
    for at in _word_starts(source, b"description", meta):
        found_word = True
        match = _DESCRIPTION.match(source, at)
        if match is not None:
            quoted, indented = match.group(1), match.group(2)
            if quoted is not None:
                return quoted_text(quoted.decode("utf-8", "replace")).strip()
            return indented_text(indented.decode("utf-8", "replace")).strip()
    if not found_word:
        return ""
    value = _parsed_meta(source, "description")
    if value is None:
        return ""
    text = doc_text(value)
    return (text if text is not None else one_line(text_of(value))).strip()


def package_broken(source: bytes) -> str:
    """`meta.broken` of a package file: "" when not marked (or `false`), "true" when marked broken, else the
    condition as written on one line (`stdenv.hostPlatform.isDarwin`). A cheap search first; a parse only for
    a condition. Only a binding that starts its line or follows `{` or `;` counts, so `# broken = true;` and
    `"… broken = true; …"` do not."""
    meta = _meta_start(source)
    if meta is None:
        return ""
    for at in _word_starts(source, b"broken", meta):
        match = _BROKEN.match(source, at)
        if match is None or not _starts_binding(source, at):
            continue
        value = match.group(1).strip()
        if value in (b"true", b"false"):
            return "true" if value == b"true" else ""
        parsed = _parsed_meta(source, "broken")
        text = one_line(text_of(parsed)) if parsed is not None else ""
        return "" if text == "false" else text
    return ""


def _starts_binding(source: bytes, at: int) -> bool:
    before = source[source.rfind(b"\n", 0, at) + 1 : at].rstrip()
    before = before.removesuffix(b"meta.").rstrip()
    return not before or before.endswith((b"{", b";"))


def _meta_start(source: bytes) -> int | None:
    return next((at for at in _word_starts(source, b"meta") if _META.match(source, at)), None)


def _word_starts(source: bytes, word: bytes, start: int = 0) -> Iterator[int]:
    """Where `word` starts as a whole attribute name (`description`, `meta.description`, not
    `longDescription` or `x.description`). `bytes.find` is far faster than a regex scan with a look-behind."""
    at = source.find(word, start)
    while at >= 0:
        before = source[at - 1] if at > 0 else 32
        if before not in _NAME_BYTES and (before != 46 or source[max(0, at - 5) : at] == b"meta."):  # 46: "."
            yield at
        at = source.find(word, at + len(word))


def _parsed_meta(source: bytes, name: str) -> Node | None:
    """The value of the first `meta = { <name> = …; }` or `meta.<name> = …` anywhere in the parsed file."""
    stack = [parse(source).root_node]
    while stack:
        node = stack.pop()
        if node.type in ATTRSET_TYPES:
            for binding in bindings(node):
                if binding.path[-2:] == ("meta", name):
                    return binding.value
            continue
        stack.extend(reversed(node.named_children))
    return None


def package_licenses(source: bytes) -> tuple[str, ...]:
    """Licence names in `license = …;` as written: `lib.licenses.unfree`, `licenses.mit`,
    `with lib.licenses; [ mit unfree ]`, lists of those."""
    names: list[str] = []
    for at in _word_starts(source, b"license"):
        match = _LICENSE.match(source, at)
        if match is None:
            continue
        opened, value = match.group(1), match.group(2)
        names.extend(m.decode() for m in _LICENSE_NAME.findall(value))
        if opened is not None and opened.rstrip(b"; \t\n").endswith(b"licenses"):
            names.extend(m.decode() for m in _BARE_NAME.findall(value) if m not in (b"with", b"lib", b"licenses"))
    return tuple(dict.fromkeys(names))


def unfree_licenses(root: str) -> frozenset[str]:
    """Licence names whose definition in `lib/licenses.nix` says `free = false;`."""
    try:
        with open(os.path.join(root, LICENSES), "rb") as handle:
            source = handle.read()
    except OSError:
        return FALLBACK_UNFREE
    found: set[str] = set()
    stack = [parse(source).root_node]
    while stack:
        node = stack.pop()
        if node.type == "binding":
            attrpath = node.child_by_field_name("attrpath")
            names = attrpath_names(attrpath) if attrpath is not None else None
            value = _licence_set(node.child_by_field_name("expression"))
            if names and value is not None:
                if any(b.path == ("free",) and text_of(b.value) == "false" for b in static_bindings(value)):
                    found.add(names[-1])
                continue
        stack.extend(node.named_children)
    return frozenset(found) if found else FALLBACK_UNFREE


def _licence_set(node: Node | None) -> Node | None:
    """The set of one licence: `{ … }` or `spdx { … }`."""
    node = unwrap(node)
    if node is not None and node.type == "apply_expression":
        node = unwrap(node.child_by_field_name("argument"))
    return node if node is not None and node.type in ATTRSET_TYPES else None


def top_level_names(root: str) -> tuple[list[str], str | None]:
    """Names bound at the top of `all-packages.nix` (bindings and `inherit`s), and a problem in words."""
    try:
        with open(os.path.join(root, ALL_PACKAGES), "rb") as handle:
            source = handle.read()
    except FileNotFoundError:
        return [], None
    except OSError as error:
        return [], f"{ALL_PACKAGES}: {error.strerror or error}"
    attrset = module_attrset(parse(source))
    if attrset is None:
        return [], f"{ALL_PACKAGES}: no attribute set at the top"
    names: list[str] = []
    for binding in direct_bindings(attrset):
        attrpath = binding.child_by_field_name("attrpath")
        path = attrpath_names(attrpath) if attrpath is not None else None
        if path:
            names.append(path[0])
    for child in (c for s in attrset.named_children if s.type == "binding_set" for c in s.named_children):
        if child.type in ("inherit", "inherit_from"):
            inherited = child.child_by_field_name("attrs")
            names.extend(text_of(a) for a in (inherited.named_children if inherited is not None else ()))
    return list(dict.fromkeys(names)), None
