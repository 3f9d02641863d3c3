"""What the user's nixpkgs index says about an option path written in a module: an option, a group of
options, a place inside an option's value, an old (renamed or removed) name, or unknown.

A concrete path matches declarations through `<name>` segments (`users.users.alice.isNormalUser`). A name the
index does not know is unknown only under a pure group of options, or inside a submodule that accepts no other
names: the indexer marks options below which any name may be set (`OptionDecl.freeform`: a submodule with a
`freeformType`, `settingsFormat.type`, `attrsOf str`…), and an evaluated type that says "open submodule"
means the same. Answers are remembered per index, since a configuration asks about the same prefixes again
and again.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Set

import attrs

from ..nixpkgs.records import ANY_ELEMENT, ANY_NAME, OptionDecl, OptionIndex, RenameHit

OPTION, GROUP, INSIDE, RENAMED, UNKNOWN, UNSURE = "option", "group", "inside", "renamed", "unknown", "unsure"
_OPEN_SUBMODULE = "open submodule"  # how Nix describes a submodule with a `freeformType` (evaluated types)


@attrs.frozen
class Status:
    """What a path is: an OPTION (with its declaration), a GROUP of options, INSIDE an option's value (or
    under a silent alias), RENAMED (or removed), UNKNOWN (with the index of the first unknown segment), or
    UNSURE (unknown, but inside a submodule that may accept any name)."""

    kind: str
    option: OptionDecl | None = None
    rename: RenameHit | None = None
    first_unknown: int = 0


class PathLookup:
    """Statuses of paths for one index, remembered: a configuration asks the same prefixes many times."""

    def __init__(self, options: OptionIndex) -> None:
        self.options = options
        self._known: dict[tuple[str, ...], Status | None] = {}
        self._names: dict[tuple[str, ...], list[str]] = {}
        self.repairs: dict[tuple[tuple[str, ...], tuple[str, ...]], list[tuple[str, ...]]] = {}  # did-you-means

    def known(self, path: tuple[str, ...]) -> Status | None:
        """OPTION, GROUP, RENAMED or INSIDE (an alias); None when the index has nothing at `path`."""
        if path in self._known:
            return self._known[path]
        if len(self._known) > 100_000:
            self._known.clear()
        status: Status | None
        option = self.options.find(path)
        if option is not None:
            status = Status(OPTION, option)
        else:
            hit = self.options.rename_for(path)
            if hit is not None:
                status = Status(INSIDE if hit.rename.kind == "alias" else RENAMED, rename=hit)
            else:
                group = not path or path in self.renamed_prefixes or self.options.children(path)
                status = Status(GROUP) if group else None
        self._known[path] = status
        return status

    @functools.cached_property
    def renamed_prefixes(self) -> frozenset[tuple[str, ...]]:
        """Sets on the way to an old name (`hardware.opengl` of `hardware.opengl.enable`): writing them is
        not an unknown option; the old name inside is reported."""
        return frozenset(rename.old[:length] for rename in self.options.renames() for length in range(1, len(rename.old)))

    def names(self, path: tuple[str, ...]) -> list[str]:
        """The segments a user may write after `path`."""
        found = self._names.get(path)
        if found is None:
            found = self._names[path] = [
                child.name for child in self.options.children(path)
                if child.name not in (ANY_NAME, ANY_ELEMENT) and not (child.option is not None and child.option.internal)
            ]
        return found

    def status(self, path: tuple[str, ...], declared: Set[tuple[str, ...]] = frozenset()) -> Status:
        """What `path` is. `declared`: paths (and their prefixes) of options the file declares itself."""
        known = self.known(path)
        if known is not None:
            return known
        if any(path[:length] in declared for length in range(1, len(path) + 1)):
            return Status(INSIDE)
        for length in range(1, len(path)):
            prefix = self.known(path[:length])
            if prefix is None:
                return self._unknown_below(path, length - 1)
            if prefix.kind in (RENAMED, INSIDE):
                return Status(INSIDE)  # below a rename (reported at its own binding) or an alias
        return self._unknown_below(path, len(path) - 1)

    def _unknown_below(self, path: tuple[str, ...], first: int) -> Status:
        """`path[first]` is unknown under `path[:first]`. Under a pure group of options that is an unknown
        option; under an option, or a group inside an option's submodule, only when that submodule takes
        nothing but its declared options (no `freeformType`); otherwise it is part of the option's value."""
        group = path[:first]
        status = self.known(group) if group else None
        above = status.option if status is not None and status.kind == OPTION else (
            self.options.option_above(group) if group else None)
        if above is None or _closed_submodule(group, above, self):
            return Status(UNKNOWN, first_unknown=first)
        return Status(INSIDE if status is not None and status.kind == OPTION else UNSURE)


_lookups: weakref.WeakKeyDictionary[OptionIndex, PathLookup] = weakref.WeakKeyDictionary()


def path_lookup(options: OptionIndex) -> PathLookup:
    """The lookup for `options`, made once per index."""
    found = _lookups.get(options)
    if found is None:
        found = _lookups[options] = PathLookup(options)
    return found


def _closed_submodule(group: tuple[str, ...], above: OptionDecl, lookup: PathLookup) -> bool:
    """True when `group` lies in a submodule that takes nothing but its declared options: `above` (the
    option it is in) is not freeform and options are declared just below `group` (or one level further, for
    the `<name>` of an `attrsOf`)."""
    if above.freeform or _OPEN_SUBMODULE in above.type:
        return False
    children = lookup.options.children(group)
    return any(child.option is not None for child in children) or any(
        grandchild.option is not None for child in children[:8]
        for grandchild in lookup.options.children(group + (child.name,)))
