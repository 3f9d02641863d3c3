"""Did-you-mean candidates: option segments close to a typed one (among the few names a group has), and
package names one typo away from a typed one (among the user's whole nixpkgs: single edits are generated and
looked up, so 120,000 names cost no more than a few)."""

from __future__ import annotations

import difflib
import string
import weakref
from collections.abc import Iterator

from ..knowledge.packages import PackageIndex

MAX_SUGGESTIONS = 3


def close_names(word: str, names: list[str]) -> list[str]:
    """Names close to `word`: the same but for case first, then by similarity."""
    same_case = [name for name in names if name.lower() == word.lower() and name != word]
    close = difflib.get_close_matches(word, names, n=MAX_SUGGESTIONS + 2, cutoff=0.6)
    return list(dict.fromkeys(same_case + close))[:MAX_SUGGESTIONS + 2]


_LETTERS = string.ascii_letters + string.digits + "-_"
_package_tables: weakref.WeakKeyDictionary[PackageIndex, tuple[frozenset[str], dict[str, str]]] = (
    weakref.WeakKeyDictionary())


def package_names(packages: PackageIndex) -> tuple[frozenset[str], dict[str, str]]:
    """All names of `packages`, and each lower-cased name's spelling; built once per index (call it where
    waiting does not matter: in the indexing thread)."""
    tables = _package_tables.get(packages)
    if tables is None:
        names = packages.names()
        tables = _package_tables[packages] = (frozenset(names), {name.lower(): name for name in reversed(names)})
    return tables


def close_packages(word: str, packages: PackageIndex) -> list[str]:
    """Package names one typo away from `word` (a letter missing, extra, swapped or wrong; any case), best
    first. Single edits are generated and looked up, so 120,000 names cost no more than a few."""
    names, lowered = package_names(packages)
    found = {lowered[word.lower()]} if word.lower() in lowered else set()
    found.update(candidate for candidate in _one_edit(word) if candidate in names)
    found.discard(word)
    ranked = sorted(found, key=lambda n: (-difflib.SequenceMatcher(a=word.lower(), b=n.lower()).ratio(), n))
    return ranked[:MAX_SUGGESTIONS]


def _one_edit(word: str) -> Iterator[str]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    for left, right in splits:
        if right:
            yield left + right[1:]
            if len(right) > 1:
                yield left + right[1] + right[0] + right[2:]
            for letter in _LETTERS:
                yield left + letter + right[1:]
        for letter in _LETTERS:
            yield left + letter + right
