"""What the static index knows about a nixpkgs tree, in the shape later features ask for it.

- `OptionDecl`: one declared option (path, type text, default, example, description, where it is declared).
- `OptionRename`: an option path that was renamed, aliased, changed or removed, with its target or message.
- `OptionIndex`: lookups by exact path, by a concrete path that goes through `<name>` (attrsOf submodule)
  segments, the children of a prefix (completion), the option a freeform value sits under, and renames.
- `NixpkgsPackage` and `NixpkgsPackages`: the packages found, as a `PackageSource` for the existing
  `PackageIndex` (so matching stays the same whichever source answers), and `PackageAlias`: an old package
  name from `aliases.nix` (never offered as a package, but no unknown name either).
- `StaticIndex`: all of it for one tree, convertible to and from plain tuples for the on-disk cache.

Paths are tuples of segments because a segment may itself contain a dot (`fileSystems."/boot"`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence

import attrs

from ..knowledge.packages import Package

ANY_NAME = "<name>"  # the segment `attrsOf (submodule …)` adds: any attribute name matches it
ANY_ELEMENT = "*"  # the segment `listOf (submodule …)` adds: elements of a list, never reached by a name


@attrs.frozen
class OptionDecl:
    path: tuple[str, ...]
    kind: str  # how it was declared: mkOption, mkEnableOption or mkPackageOption
    type: str  # source text of `type` (one line, inline submodules shown as `{ … }`); "" when not given
    default: str | None  # `defaultText` when given, else the source text of `default`
    example: str | None
    description: str
    file: str  # relative to the nixpkgs root, with `/`
    line: int  # 1-based line of the declaring binding
    internal: bool = False  # `internal = true` or `visible = false`: not for users to set
    read_only: bool = False
    also_declared: tuple[tuple[str, int], ...] = ()  # further declarations of the same path (file, line)
    # any name may be set below it: a submodule with a `freeformType`, or a type like `attrsOf str` or
    # `settingsFormat.type` (names below an option without it are checked when its submodule declares any)
    freeform: bool = False

    @property
    def name(self) -> str:
        return ".".join(self.path)


@attrs.frozen
class OptionRename:
    """`old` no longer exists. `kind`: renamed, alias, changed, merged (then `new` is where values go) or
    removed (then `message` says what to do instead)."""

    kind: str
    old: tuple[str, ...]
    new: tuple[str, ...] | None
    message: str
    since: str | None  # `sinceRelease` of mkRenamedOptionModuleWith, as written
    file: str
    line: int


@attrs.frozen
class RenameHit:
    """A rename that applies to an asked path; `new_path` carries the rest of the asked path over."""

    rename: OptionRename
    new_path: tuple[str, ...] | None


@attrs.frozen
class OptionChild:
    """One next segment under a prefix: an option there, further segments below, or both."""

    name: str
    option: OptionDecl | None
    has_children: bool


class _Node:
    __slots__ = ("children", "option")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.option: OptionDecl | None = None


class OptionIndex:
    """Options by path. A concrete path (`users.users.alice.isNormalUser`) matches a declared path with
    `<name>` in its place (`users.users.<name>.isNormalUser`); an exact segment is preferred over `<name>`."""

    def __init__(
        self, options: Iterable[OptionDecl], renames: Iterable[OptionRename] = (), complete: bool = False
    ) -> None:
        # complete: every option of the system is here (evaluated), so "not found" means Nix would fail; a
        # static index can miss options declared by code it cannot read, so its "not found" is a warning
        self.complete = complete
        self._by_path: dict[tuple[str, ...], OptionDecl] = {o.path: o for o in options}
        self._renames: dict[tuple[str, ...], OptionRename] = {}
        for rename in renames:
            self._renames.setdefault(rename.old, rename)

    def __len__(self) -> int:
        return len(self._by_path)

    def options(self) -> Iterator[OptionDecl]:
        return iter(self._by_path.values())

    def renames(self) -> Iterator[OptionRename]:
        return iter(self._renames.values())

    def get(self, path: Sequence[str]) -> OptionDecl | None:
        """The option declared at exactly `path` (`<name>` segments written out)."""
        return self._by_path.get(tuple(path))

    def find(self, path: Sequence[str]) -> OptionDecl | None:
        """The option a concrete path sets, through `<name>` segments."""
        for node in self._nodes(tuple(path)):
            if node.option is not None:
                return node.option
        return None

    def option_above(self, path: Sequence[str]) -> OptionDecl | None:
        """The deepest option that `path` is inside of (itself included): `services.foo.settings.a.b` is
        inside `services.foo.settings` when that is declared with a freeform type. None when no prefix is an
        option."""
        path = tuple(path)
        for length in range(len(path), 0, -1):
            found = self.find(path[:length])
            if found is not None:
                return found
        return None

    def children(self, prefix: Sequence[str] = ()) -> list[OptionChild]:
        """The segments that may follow `prefix` (concrete or with `<name>`), sorted by name: what completion
        offers inside `services = {` (→ openssh, nginx, …)."""
        merged: dict[str, OptionChild] = {}
        for node in self._nodes(tuple(prefix)):
            for name, child in node.children.items():
                known = merged.get(name)
                option = child.option or (known.option if known else None)
                merged[name] = OptionChild(name, option, bool(child.children) or bool(known and known.has_children))
        return [merged[name] for name in sorted(merged)]

    def rename_for(self, path: Sequence[str]) -> RenameHit | None:
        """The rename or removal that `path` falls under (the longest old path that is a prefix of it)."""
        path = tuple(path)
        for length in range(len(path), 0, -1):
            rename = self._renames.get(path[:length])
            if rename is not None:
                new = rename.new + path[length:] if rename.new is not None else None
                return RenameHit(rename, new)
        return None

    @functools.cached_property
    def _trie(self) -> _Node:
        root = _Node()
        for option in self._by_path.values():
            node = root
            for segment in option.path:
                node = node.children.get(segment) or node.children.setdefault(segment, _Node())
            node.option = option
        return root

    def _nodes(self, path: tuple[str, ...]) -> list[_Node]:
        """Every trie node `path` reaches, exact segments before `<name>`."""
        frontier = [self._trie]
        for segment in path:
            following: list[_Node] = []
            for node in frontier:
                exact = node.children.get(segment)
                if exact is not None:
                    following.append(exact)
                if segment != ANY_NAME:
                    wildcard = node.children.get(ANY_NAME)
                    if wildcard is not None:
                        following.append(wildcard)
            if not following:
                return []
            frontier = following
        return frontier


@attrs.frozen
class NixpkgsPackage:
    attr: str
    description: str = ""
    unfree: bool = False
    licenses: tuple[str, ...] = ()  # licence names written in meta.license (`unfree`, `mit`, …)
    file: str | None = None  # `pkgs/by-name/…/package.nix`; None for a name known only from all-packages.nix
    broken: str = ""  # meta.broken: "" not marked, "true" marked broken, else the condition as written


@attrs.frozen
class PackageAlias:
    """An old package name (`pkgs/top-level/aliases.nix`). `kind`: alias (still works), warn (works with a
    warning, `message`) or throw (evaluation fails with `message`). `new`: the name to write instead
    (`kdePackages.x` may have a dot), when known."""

    name: str
    kind: str
    new: str | None
    message: str
    line: int


PackageRow = tuple[str, str, bool, tuple[str, ...], "str | None", str]  # the fields of a NixpkgsPackage, in order


class NixpkgsPackages:
    """The indexed packages as a `PackageSource`. Records read from the cache stay plain rows until asked
    for (tens of thousands of them; most are never looked at in a session)."""

    def __init__(self, packages: Iterable[NixpkgsPackage | PackageRow], root: str,
                 aliases: Iterable[PackageAlias] = ()) -> None:
        self.name = f"nixpkgs at {root}"
        self._entries: dict[str, NixpkgsPackage | PackageRow] = {
            (p.attr if isinstance(p, NixpkgsPackage) else p[0]): p for p in packages
        }
        self._made: dict[str, Package] = {}
        self._aliases = {a.name: a for a in aliases if a.name not in self._entries}

    def alias(self, name: str) -> PackageAlias | None:
        """The old name `name` (None for a package, or a name nixpkgs never had)."""
        return self._aliases.get(name)

    def aliases(self) -> Iterator[PackageAlias]:
        return iter(self._aliases.values())

    def __len__(self) -> int:
        return len(self._entries)

    def record(self, attr: str) -> NixpkgsPackage | None:
        entry = self._entries.get(attr)
        if entry is None or isinstance(entry, NixpkgsPackage):
            return entry
        made = self._entries[attr] = NixpkgsPackage(*entry)
        return made

    def records(self) -> Iterator[NixpkgsPackage]:
        for attr in list(self._entries):
            yield self.record(attr)  # type: ignore[misc]

    def get(self, attr: str) -> Package | None:
        made = self._made.get(attr)
        if made is None:
            found = self.record(attr)
            if found is None:
                return None
            made = self._made[attr] = Package(attr=found.attr, description=found.description, unfree=found.unfree,
                                              broken=found.broken)
        return made

    def packages(self) -> Iterable[Package]:
        return [self.get(attr) for attr in self._entries]  # type: ignore[misc]


@attrs.frozen
class StaticIndex:
    root: str
    options: OptionIndex
    packages: NixpkgsPackages
    problems: tuple[str, ...] = ()  # files that could not be read, in words

    def to_plain(self) -> tuple:
        """Nested tuples of str, int, bool and None only: what the cache stores."""
        files: dict[str, int] = {}

        def file_id(name: str | None) -> int:
            return -1 if name is None else files.setdefault(name, len(files))

        options = tuple(
            (o.path, o.kind, o.type, o.default, o.example, o.description, file_id(o.file), o.line, o.internal,
             o.read_only, tuple((file_id(f), line) for f, line in o.also_declared), o.freeform)
            for o in self.options.options()
        )
        renames = tuple(
            (r.kind, r.old, r.new, r.message, r.since, file_id(r.file), r.line) for r in self.options.renames()
        )
        packages = tuple(
            (p.attr, p.description, p.unfree, p.licenses, file_id(p.file), p.broken)
            for p in self.packages.records()
        )
        aliases = tuple((a.name, a.kind, a.new, a.message, a.line) for a in self.packages.aliases())
        return (self.root, tuple(files), options, renames, packages, self.problems, aliases)

    @classmethod
    def from_plain(cls, data: tuple) -> StaticIndex:
        root, files, options, renames, packages, problems, aliases = data

        def file_name(index: int) -> str | None:
            return None if index < 0 else files[index]

        option_records = [
            OptionDecl(tuple(path), kind, type_, default, example, description, files[file], line, internal,
                       read_only, tuple((files[f], ln) for f, ln in also) if also else (), freeform)
            for path, kind, type_, default, example, description, file, line, internal, read_only, also, freeform
            in options
        ]
        rename_records = [
            OptionRename(kind, tuple(old), tuple(new) if new is not None else None, message, since, files[file], line)
            for kind, old, new, message, since, file, line in renames
        ]
        package_rows = [(attr, description, unfree, tuple(licenses), file_name(file), broken)
                        for attr, description, unfree, licenses, file, broken in packages]
        packages_read = NixpkgsPackages(package_rows, root, (PackageAlias(*row) for row in aliases))
        return cls(str(root), OptionIndex(option_records, rename_records), packages_read, tuple(problems))
