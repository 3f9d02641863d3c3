"""Package knowledge, from layered sources: the user's own nixpkgs when it is known (a later source), and
always the bundled list of common packages with descriptions in our own words (`data/packages.tsv`).

A source only answers questions; `PackageIndex` layers sources and does the matching, so adding a source
never changes how matching works.
"""

from __future__ import annotations

import bisect
import difflib
import functools
import re
from collections.abc import Callable, Iterable, Sequence
from importlib import resources
from typing import Protocol

import attrs


@attrs.frozen
class Package:
    attr: str
    description: str = ""
    unfree: bool = False
    kinds: frozenset[str] = frozenset()
    aliases: tuple[str, ...] = ()
    broken: str = ""  # meta.broken in the user's nixpkgs: "" no, "true" yes, else the condition as written


class PackageSource(Protocol):
    """Where package facts come from. `name` is shown to users ("bundled", "nixpkgs at /nix/store/…")."""

    name: str

    def get(self, attr: str) -> Package | None: ...

    def packages(self) -> Iterable[Package]: ...


class BundledPackages:
    """The packages shipped with nix-humanity-ls, read on first use."""

    name = "bundled"

    def __init__(self, text: str | None = None) -> None:
        self._text = text

    @functools.cached_property
    def _by_attr(self) -> dict[str, Package]:
        text = self._text
        if text is None:
            text = (resources.files("nix_humanity_ls.knowledge") / "data" / "packages.tsv").read_text("utf-8")
        return {p.attr: p for p in parse_packages_tsv(text)}

    def get(self, attr: str) -> Package | None:
        return self._by_attr.get(attr)

    def packages(self) -> Iterable[Package]:
        return self._by_attr.values()


def parse_packages_tsv(text: str) -> list[Package]:
    """Rows `attr<TAB>flags<TAB>description<TAB>aliases` (flags and aliases comma-separated, `-` for none)."""
    found = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        attr, flags, description, aliases = (line.split("\t") + ["", "", ""])[:4]
        kinds = frozenset(f for f in flags.split(",") if f and f != "-")
        found.append(
            Package(
                attr=attr.strip(),
                description=description.strip(),
                unfree="unfree" in kinds,
                kinds=kinds - {"unfree"},
                aliases=tuple(a.strip() for a in aliases.split(",") if a.strip() and a.strip() != "-"),
            )
        )
    return found


@attrs.frozen
class PackageMatch:
    """A package a word may mean; `how` says why: exact, alias, variant (case or `-`/`_`), or close (a typo)."""

    package: Package
    how: str
    score: float


def _variant_key(word: str) -> str:
    return re.sub(r"[-_\s.]", "", word.lower())


class PackageIndex:
    """Package lookup over layered sources (earlier sources win for the same attribute).

    A `fallback` index is asked only for what these sources do not name: `find` answers from the fallback
    when its own sources give no more than close spellings, and its close spellings come after ours. Requests
    use it for the user's whole nixpkgs behind the bundled list, so "browser" keeps meaning our aliases while
    "zellij" is found too. It may be given as a function, called on first need (the CLI reads the user's
    nixpkgs only for a word the bundled list does not know). `names` and `names_starting` list the own
    sources only."""

    def __init__(self, sources: Sequence[PackageSource],
                 fallback: PackageIndex | Callable[[], PackageIndex | None] | None = None) -> None:
        self.sources = tuple(sources)
        self._fallback = fallback

    @functools.cached_property
    def fallback(self) -> PackageIndex | None:
        return self._fallback() if callable(self._fallback) else self._fallback

    def get(self, attr: str) -> Package | None:
        for source in self.sources:
            found = source.get(attr)
            if found is not None:
                return found
        return self.fallback.get(attr) if self._fallback is not None and self.fallback is not None else None

    @functools.cached_property
    def _tables(self) -> tuple[dict[str, Package], dict[str, list[str]], dict[str, list[str]]]:
        by_attr: dict[str, Package] = {}
        for source in reversed(self.sources):
            by_attr.update({p.attr: p for p in source.packages()})
        aliases: dict[str, list[str]] = {}
        variants: dict[str, list[str]] = {}
        for package in by_attr.values():
            for alias in package.aliases:
                aliases.setdefault(alias.lower(), []).append(package.attr)
            variants.setdefault(_variant_key(package.attr), []).append(package.attr)
        return by_attr, aliases, variants

    def find(self, word: str, limit: int = 5) -> list[PackageMatch]:
        """What `word` may name, best first: an exact attribute wins alone; otherwise aliases and spelling
        variants; otherwise close spellings (a typo), ranked by similarity."""
        found = self._find(word, limit)
        if self._fallback is None or (found and found[0].how != "close") or self.fallback is None:
            return found
        more = self.fallback.find(word, limit)
        if more and more[0].how != "close":
            return more
        ours = {m.package.attr for m in found}
        return (found + [m for m in more if m.package.attr not in ours])[:limit]

    def _find(self, word: str, limit: int) -> list[PackageMatch]:
        by_attr, aliases, variants = self._tables
        word = word.strip()
        if word in by_attr:
            return [PackageMatch(by_attr[word], "exact", 1.0)]
        found: dict[str, PackageMatch] = {}
        for attr in aliases.get(word.lower(), []):
            found[attr] = PackageMatch(by_attr[attr], "alias", 0.95)
        for attr in variants.get(_variant_key(word), []):
            found.setdefault(attr, PackageMatch(by_attr[attr], "variant", 0.9))
        if found:
            return sorted(found.values(), key=lambda m: (-m.score, len(m.package.attr), m.package.attr))[:limit]
        if len(word) < 3:
            return []  # a one- or two-letter typo is close to too many names to suggest any
        names = list(by_attr) + list(aliases)
        close = difflib.get_close_matches(word.lower(), names, n=limit * 2, cutoff=0.75)
        for name in close:
            score = difflib.SequenceMatcher(a=word.lower(), b=name).ratio()
            for attr in [name] if name in by_attr else aliases[name]:
                if attr not in found or found[attr].score < score:
                    found[attr] = PackageMatch(by_attr[attr], "close", round(score, 3))
        return sorted(found.values(), key=lambda m: (-m.score, m.package.attr))[:limit]

    @functools.cached_property
    def _sorted_names(self) -> list[str]:
        return sorted(self._tables[0])

    def names(self) -> list[str]:
        return list(self._sorted_names)

    def names_starting(self, prefix: str, limit: int) -> list[str]:
        """Up to `limit` attribute names that start with `prefix`, in order; a binary search, so completion
        stays quick with a full nixpkgs' 120,000 names."""
        names = self._sorted_names
        first = bisect.bisect_left(names, prefix)
        found = []
        for name in names[first : first + limit]:
            if not name.startswith(prefix):
                break
            found.append(name)
        return found


@functools.cache
def bundled_index() -> PackageIndex:
    return PackageIndex([BundledPackages()])
