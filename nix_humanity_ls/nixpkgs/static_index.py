"""A static index of a nixpkgs tree: its NixOS options, renamed and removed options, and packages, read with
tree-sitter in a few seconds, without evaluating anything.

Which files are NixOS modules comes from `nixos/modules/module-list.nix` and the `imports` of those modules
(files only reached through `types.submodule (import ./x.nix …)` are read under their submodule's path, and
helper files are not mistaken for top-level modules). Without a module list every file under
`nixos/modules` that no other file uses as a submodule counts as a module.

Every file is parsed once. With `jobs` > 1, that many worker processes (`workers.py`) each read a share of
the module files and `pkgs/by-name` shards and send back plain tuples, while this process reads
`all-packages.nix`, `aliases.nix` (old package names), `lib/licenses.nix` and the module list; then the pieces are put together here. If a worker
fails, the index is read in this process instead (logged). `jobs=1` does everything in the calling process.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Iterable

import attrs
from tree_sitter import QueryCursor

from ..syntax.parser import load_query, parse
from ..syntax.query import text_of
from .modules import MAX_DEPTH, ModuleFacts, read_module, resolve_path
from .package_aliases import read_aliases
from .package_files import (
    PackageFacts,
    by_name_shards,
    read_shards,
    top_level_names,
    unfree_licenses,
)
from .reading import read_files
from .records import (
    ANY_ELEMENT,
    ANY_NAME,
    NixpkgsPackage,
    NixpkgsPackages,
    OptionDecl,
    OptionIndex,
    OptionRename,
    PackageAlias,
    StaticIndex,
)
from .workers import WorkerFailed, collect, start_workers, stop_workers

log = logging.getLogger(__name__)

MODULES = "nixos/modules"
MODULE_LIST = "nixos/modules/module-list.nix"
_PATHS = load_query("paths")

# What `read_share` gives: module facts as rows, problems, package facts, problems (plain, for `marshal`).
Share = tuple[list[tuple], list[str], list[PackageFacts], list[str]]


def default_jobs() -> int:
    """Worker processes when not told: one per CPU, at most 4 (beyond that, reading the files and sending the
    results back dominate). On 2 free cores two workers took 1.2 s where one process took 2.9 s, and 3.6 s
    against 5.9 s from a cold disk (bench/README.md); on one core everything runs here."""
    return max(1, min(4, os.cpu_count() or 1))


def build_static_index(root: str | os.PathLike[str], jobs: int | None = None) -> StaticIndex:
    """Index the nixpkgs tree at `root`. `jobs`: worker processes (default: `default_jobs()`)."""
    root = os.path.realpath(os.fspath(root))
    jobs = max(1, default_jobs() if jobs is None else jobs)
    shares: list[Share] | None = None
    in_parent = None
    if jobs > 1:
        try:
            workers = start_workers(root, jobs)
            try:
                in_parent = _read_in_parent(root)  # while the workers read
            except BaseException:
                stop_workers(workers)
                raise
            shares = collect(workers)
        except WorkerFailed as error:
            log.warning("nixpkgs index: %s; reading in this process instead", error)
    if shares is None:
        shares = [read_share(root, 0, 1)]
    (top_names, top_problem), (aliases, alias_problem), unfree, modules_listed = in_parent or _read_in_parent(root)
    problems = sorted(p for share in shares for p in share[1] + share[3])
    problems.extend(p for p in (top_problem, alias_problem) if p)
    facts = {rows[0]: ModuleFacts.from_rows(rows) for share in shares for rows in share[0]}
    options, renames = assemble_modules(facts, modules_listed)
    packages = assemble_packages([p for share in shares for p in share[2]], top_names, unfree)
    for problem in problems:
        log.warning("nixpkgs index: %s", problem)
    return StaticIndex(root, OptionIndex(options, renames), NixpkgsPackages(packages, root, aliases),
                       tuple(problems))


def read_share(root: str, index: int, count: int) -> Share:
    """Every `count`-th module file and `pkgs/by-name` shard from the `index`-th on (in path order, so the
    shares of `count` readers are about the same size), read and parsed."""
    module_rows: list[tuple] = []
    module_problems: list[str] = []
    for file, source in read_files(root, _module_files(root)[index::count]):
        if isinstance(source, OSError):
            module_problems.append(f"{file}: {source.strerror or source}")
        else:
            module_rows.append(read_module(file, source).to_rows())
    packages, package_problems = read_shards(root, by_name_shards(root)[index::count])
    return module_rows, module_problems, packages, package_problems


def _read_in_parent(root: str) -> tuple[tuple[list[str], str | None], tuple[list[PackageAlias], str | None],
                                        frozenset[str], list[str] | None]:
    """The four single files: top-level package names, old package names, unfree licences, the module list."""
    return top_level_names(root), read_aliases(root), unfree_licenses(root), module_list(root)


def _module_files(root: str) -> list[str]:
    found: list[str] = []
    base = os.path.join(root, MODULES)
    for directory, subdirectories, files in os.walk(base):
        subdirectories.sort()
        relative = os.path.relpath(directory, root).replace(os.sep, "/")
        found.extend(f"{relative}/{name}" for name in sorted(files) if name.endswith(".nix"))
    return found


def module_list(root: str) -> list[str] | None:
    """The files `nixos/modules/module-list.nix` names (relative to the root), or None without that file."""
    try:
        with open(os.path.join(root, MODULE_LIST), "rb") as handle:
            source = handle.read()
    except OSError:
        return None
    paths = QueryCursor(_PATHS).captures(parse(source).root_node).get("path", [])
    resolved = (resolve_path(MODULE_LIST, text_of(p)) for p in sorted(paths, key=lambda p: p.start_byte))
    return [p for p in resolved if p is not None]


def assemble_modules(facts: dict[str, ModuleFacts], listed: list[str] | None
                     ) -> tuple[list[OptionDecl], list[OptionRename]]:
    """Put each file's facts where it is used: top-level modules at the top, submodule files under their
    submodule's path. The same path declared twice (modules that extend `users.users.<name>`) is one option
    with the other places in `also_declared`. A submodule with a `freeformType` marks the option it is the
    type of (`users.users` for `users.users.<name>`) as `freeform`."""

    def resolve(file: str) -> str | None:
        if file in facts:
            return file
        inside = f"{file}/default.nix"
        return inside if inside in facts else None

    if listed is not None:
        roots = [r for r in (resolve(f) for f in listed) if r is not None]
    else:
        used_as_submodule = {resolve(t) for f in facts.values() for _, t in f.submodule_files}
        roots = [f for f in sorted(facts) if f not in used_as_submodule]
    options: dict[tuple[str, ...], OptionDecl] = {}
    renames: list[OptionRename] = []
    freeform: set[tuple[str, ...]] = set()
    queue: deque[tuple[tuple[str, ...], str]] = deque(((), r) for r in roots)
    seen: set[tuple[tuple[str, ...], str]] = set()
    while queue:
        prefix, file = queue.popleft()
        if (prefix, file) in seen or len(prefix) > MAX_DEPTH:
            continue
        seen.add((prefix, file))
        found = facts[file]
        freeform.update(prefix + inner for inner in found.freeform if prefix + inner)
        for option in found.options:
            _add_option(options, attrs.evolve(option, path=prefix + option.path) if prefix else option)
        for rename in found.renames:
            renames.append(attrs.evolve(rename, old=prefix + rename.old,
                                        new=prefix + rename.new if rename.new is not None else None)
                           if prefix else rename)
        for imported in found.imports:
            target = resolve(imported)
            if target is not None:
                queue.append((prefix, target))
        for inner, submodule_file in found.submodule_files:
            target = resolve(submodule_file)
            if target is not None:
                queue.append((prefix + inner, target))
    for path in freeform:
        while path and path[-1] in (ANY_NAME, ANY_ELEMENT):
            path = path[:-1]
        option = options.get(path)
        if option is not None and not option.freeform:
            options[path] = attrs.evolve(option, freeform=True)
    return sorted(options.values(), key=lambda o: o.path), renames


def _add_option(options: dict[tuple[str, ...], OptionDecl], option: OptionDecl) -> None:
    known = options.get(option.path)
    if known is None:
        options[option.path] = option
        return
    primary, other = (known, option) if known.description or not option.description else (option, known)
    places = tuple(dict.fromkeys(primary.also_declared + ((other.file, other.line),) + other.also_declared))
    options[option.path] = attrs.evolve(
        primary,
        type=primary.type or other.type,
        default=primary.default if primary.default is not None else other.default,
        example=primary.example if primary.example is not None else other.example,
        freeform=primary.freeform or other.freeform,
        also_declared=tuple(p for p in places if p != (primary.file, primary.line)),
    )


def assemble_packages(by_name: Iterable[PackageFacts], top_names: Iterable[str], unfree: frozenset[str]
                      ) -> list[NixpkgsPackage]:
    packages = {attr: NixpkgsPackage(attr, description, any(name in unfree for name in licenses), licenses, file,
                                     broken)
                for attr, description, licenses, broken, file in by_name}
    for name in top_names:
        packages.setdefault(name, NixpkgsPackage(name))
    return [packages[attr] for attr in sorted(packages)]
