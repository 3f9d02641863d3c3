"""What a switch would change, in packages: the closures of the running and the new system compared by name.

Before switch, boot or rollback asks for confirmation it says "3 added (firefox 121.0, …), 1 removed, 2 changed
in version (openssl 3.0.12 → 3.0.13)". Both closures come from `nix-store -qR` (a read-only query, no root);
every store path name is split into name and version the way Nix's own `builtins.parseDrvName` does (the
version starts at the first `-` not followed by a letter), after dropping an output suffix such as `-bin` or
`-man`. Paths without a version (generated files, units, `etc`) are counted, not listed: they are not packages.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable

import attrs

_STORE_NAME = re.compile(r"^[0-9a-z]{32}-(?P<name>.+)$")
_OUTPUT = re.compile(r"^(?P<rest>.+)-(?:[a-z]+|lib32|lib64)$")  # `openssl-3.0.12-bin`, `linux-6.6.1-modules`
LISTED = 8  # names shown per group before "and N more"


class ClosureUnavailable(Exception):
    """A closure could not be read; the message says which and why."""


@attrs.frozen
class ClosureDiff:
    added: tuple[tuple[str, str], ...] = ()  # (name, version)
    removed: tuple[tuple[str, str], ...] = ()
    changed: tuple[tuple[str, str, str], ...] = ()  # (name, old versions, new versions)
    other_paths: int = 0  # store paths without a version that appeared or went away

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.other_paths)

    def summary(self) -> str:
        """One paragraph a person reads before saying yes."""
        if self.empty:
            return "No packages change."
        parts = []
        if self.added:
            parts.append(f"{_count(len(self.added), 'package')} added ({_names(f'{n} {v}' for n, v in self.added)})")
        if self.removed:
            parts.append(f"{_count(len(self.removed), 'package')} removed ({_names(f'{n} {v}' for n, v in self.removed)})")
        if self.changed:
            parts.append(f"{_count(len(self.changed), 'package')} changed in version "
                         f"({_names(f'{n} {a} → {b}' for n, a, b in self.changed)})")
        if not parts:
            return f"No packages change ({_count(self.other_paths, 'other store path')} differ)."
        tail = f"; {_count(self.other_paths, 'other store path')} differ" if self.other_paths else ""
        return "; ".join(parts) + tail + "."

    def to_json(self) -> dict[str, object]:
        return {
            "added": [{"name": n, "version": v} for n, v in self.added],
            "removed": [{"name": n, "version": v} for n, v in self.removed],
            "changed": [{"name": n, "old": a, "new": b} for n, a, b in self.changed],
            "otherPaths": self.other_paths,
        }


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _names(items: Iterable[str]) -> str:
    items = list(items)
    shown = ", ".join(items[:LISTED])
    return shown + (f", and {len(items) - LISTED} more" if len(items) > LISTED else "")


def parse_drv_name(name: str) -> tuple[str, str]:
    """`firefox-121.0` → (`firefox`, `121.0`); `hello` → (`hello`, ``). Nix's rule: the version starts after
    the first `-` that is not followed by a letter."""
    for index, char in enumerate(name):
        if char == "-" and index + 1 < len(name) and not name[index + 1].isalpha():
            return name[:index], name[index + 1:]
    return name, ""


def package_of(store_path: str) -> tuple[str, str]:
    """Name and version of a store path, with an output suffix (`-bin`, `-man`, `-lib`…) dropped when a
    version is left in front of it."""
    found = _STORE_NAME.match(os.path.basename(store_path.rstrip("/")))
    name = found.group("name") if found else os.path.basename(store_path)
    without_output = _OUTPUT.match(name)
    if without_output:
        base, version = parse_drv_name(without_output.group("rest"))
        if version:
            return base, version
    return parse_drv_name(name)


def closure(path: str, nix_store: str = "nix-store", timeout: float = 120.0) -> list[str]:
    """Every store path `path` needs at run time (`nix-store -qR`)."""
    try:
        done = subprocess.run([nix_store, "--query", "--requisites", path], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ClosureUnavailable(f"cannot ask nix-store about {path}: {error}") from error
    if done.returncode != 0:
        said = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        raise ClosureUnavailable(f"cannot read the closure of {path}: {said[0]}")
    return done.stdout.split()


def diff_paths(old: Iterable[str], new: Iterable[str]) -> ClosureDiff:
    """Compare two closures by package name: a name only on one side is added or removed, a name on both
    sides with other versions changed. Paths that differ otherwise (another output of the same version, a
    generated file) are only counted."""
    old_set, new_set = set(old), set(new)
    before, after = _versions_by_name(old_set), _versions_by_name(new_set)
    added = tuple((n, _versions(after[n])) for n in sorted(after.keys() - before.keys()))
    removed = tuple((n, _versions(before[n])) for n in sorted(before.keys() - after.keys()))
    changed = tuple((n, _versions(before[n]), _versions(after[n]))
                    for n in sorted(before.keys() & after.keys()) if before[n] != after[n])
    listed = {n for n, _ in added} | {n for n, _ in removed} | {n for n, _, _ in changed}
    other = sum(1 for path in old_set ^ new_set if package_of(path)[0] not in listed)
    return ClosureDiff(added, removed, changed, other)


def _versions_by_name(paths: Iterable[str]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in paths:
        name, version = package_of(path)
        if version:
            found.setdefault(name, set()).add(version)
    return found


def _versions(versions: set[str]) -> str:
    return ", ".join(sorted(versions))


def diff_systems(current: str, new: str, nix_store: str = "nix-store") -> ClosureDiff:
    """The package changes from the system at `current` (e.g. `/run/current-system`) to `new`."""
    return diff_paths(closure(current, nix_store), closure(new, nix_store))
