"""The folder a NixOS configuration lives in, as both the evaluated options (`nixpkgs/evaluated.py`) and the
rebuild (`rebuild/fingerprint.py`, `rebuild/config_files.py`, `rebuild/explain_places.py`) need it: which
files in it can change what the configuration evaluates to (for a cache key or a fingerprint), and where a
file of a flake's store copy (`/nix/store/<hash>-source/a/b.nix`, the path Nix prints) is in that folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import attrs

from .nixpkgs.locate import STORE_DIR

MAX_FILES = 2000  # `.nix` files and `flake.lock`s listed, at most
MAX_FOLDERS = 500  # folders looked through for them, at most: a configuration kept in a home folder
_SKIPPED = frozenset({"result", "node_modules"})  # besides hidden folders (`.git`)
_STORE_SOURCE = re.compile(re.escape(STORE_DIR.rstrip("/")) + r"/[a-z0-9]{32}-[^/]+/")


@attrs.frozen
class FolderFiles:
    """The files found, in walk order (sorted within each folder); `complete` is False when the walk stopped
    at `MAX_FILES` or `MAX_FOLDERS`, or was not made (the file system's root)."""

    files: tuple[str, ...]
    complete: bool


def configuration_files(folder: str | os.PathLike[str]) -> FolderFiles:
    """The `.nix` files and `flake.lock`s in `folder` and below, skipping hidden folders, `result` links and
    `node_modules`: an imported module counts even when nothing lists it."""
    folder = os.path.abspath(folder)
    if folder == os.path.dirname(folder):
        return FolderFiles((), complete=False)
    found: list[str] = []
    for visited, (directory, subdirectories, names) in enumerate(os.walk(folder)):
        if visited == MAX_FOLDERS:
            return FolderFiles(tuple(found), complete=False)
        subdirectories[:] = sorted(d for d in subdirectories if not d.startswith(".") and d not in _SKIPPED)
        found.extend(os.path.join(directory, n) for n in sorted(names) if n.endswith(".nix") or n == "flake.lock")
        if len(found) > MAX_FILES:
            return FolderFiles(tuple(found[:MAX_FILES]), complete=False)
    return FolderFiles(tuple(found), complete=True)


def store_relative(path: str) -> str | None:
    """`a/b.nix` for a flake's store copy `/nix/store/<hash>-source/a/b.nix`; None for any other path."""
    found = _STORE_SOURCE.match(path)
    return path[found.end():] if found else None


def in_folder(path: str, folder: str | os.PathLike[str]) -> str:
    """`/nix/store/<hash>-source/a/b.nix` → `<folder>/a/b.nix` when that file is there, else `path`."""
    relative = store_relative(path)
    if relative:
        local = Path(folder, relative)
        if local.is_file():
            return str(local)
    return path
