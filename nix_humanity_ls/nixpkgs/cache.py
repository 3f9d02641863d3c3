"""The static index on disk, so a server start reads it back in a few dozen milliseconds instead of parsing
nixpkgs again: `$XDG_CACHE_HOME/nix-humanity/nixpkgs-index/<hash of key>.nhidx`.

The key is what identifies the tree's content: a store path or a locked revision (immutable), or for a
checkout that can change, its path plus the modification times of the files that change with every update
(`.git/HEAD` and the ref it names, `module-list.nix`, `all-packages.nix`, …). The format version is part of
the file, so a newer nix-humanity never reads an older layout.

Format, chosen by measuring a full-size index (20,000 options, 31,000 packages): a one-line JSON header, then
`zlib(marshal(plain tuples))`. marshal of plain tuples loads about 5x faster than JSON (25 ms against 115 ms)
and zlib level 1 shrinks 6 MB to under 2 MB for about 20 ms. Because marshal is not meant for damaged input,
the header carries a BLAKE2 digest of the payload, checked before anything is decoded. A missing, truncated,
corrupt, foreign or older file is a cache miss with a log line, never an error; writes go to a temporary file
renamed over the old one, so a reader never sees half a file.

The evaluated options (`evaluated.py`) are kept the same way, in a folder of their own beside this one
(`load_plain`, `save_plain`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import marshal
import os
import sys
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from .locate import STORE_DIR, in_store
from .records import StaticIndex
from .static_index import build_static_index

log = logging.getLogger(__name__)
T = TypeVar("T")

FORMAT_VERSION = 3  # 2: old package names (aliases.nix), freeform flag of options; 3: meta.broken of packages
MAGIC = "nix-humanity-nixpkgs-index"
SUFFIX = ".nhidx"
KEEP = 4  # index files kept per cache folder (the newest), so updates of nixpkgs do not pile up
_MARKERS = (
    ".git-revision",
    ".version",
    ".git/HEAD",
    "nixos/modules/module-list.nix",
    "nixos/modules",
    "pkgs/top-level/all-packages.nix",
    "pkgs/top-level/aliases.nix",
    "pkgs/by-name",
    "lib/licenses.nix",
)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nix-humanity" / "nixpkgs-index"


def index_key(root: str | os.PathLike[str], revision: str | None = None) -> str:
    """What identifies the content at `root`: `revision` (a store path or locked revision) when known, the
    path itself inside the Nix store, else the path and the state of files every update touches."""
    real = os.path.realpath(os.fspath(root))
    if revision:
        return f"{revision} at {real}"
    if in_store(real, STORE_DIR):  # read at call time, so tests can point it at a folder of their own
        return real
    return f"{real} as of {_fingerprint(real)}"


def _fingerprint(root: str) -> str:
    parts = []
    for marker in _MARKERS:
        try:
            info = os.stat(os.path.join(root, marker))
        except OSError:
            parts.append("-")
            continue
        parts.append(f"{info.st_mtime_ns}:{info.st_size}")
    head = _read_small(os.path.join(root, ".git", "HEAD"))
    if head.startswith("ref: "):  # the branch tip moves on `git pull` even when HEAD does not change
        parts.append(_read_small(os.path.join(root, ".git", head[5:].strip())) or "-")
    return hashlib.blake2b("|".join(parts).encode(), digest_size=12).hexdigest()


def _read_small(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read(256).strip()
    except OSError:
        return ""


def cache_path(key: str, directory: Path | None = None) -> Path:
    """The file for `key`; the format version is part of the name, so two versions of nix-humanity used side
    by side keep one file each instead of rebuilding over each other."""
    name = hashlib.sha256(f"{FORMAT_VERSION}\0{key}".encode()).hexdigest()[:32]
    return (directory or cache_dir()) / f"{name}{SUFFIX}"


def load_index(key: str, directory: Path | None = None) -> StaticIndex | None:
    """The index cached for `key`, or None (logged) when there is none or it cannot be used."""
    return load_plain(key, directory or cache_dir(), StaticIndex.from_plain, "nixpkgs index")


def save_index(index: StaticIndex, key: str, directory: Path | None = None) -> Path | None:
    """Write `index` for `key` atomically; the path, or None (logged) when it could not be written."""
    return save_plain(index.to_plain(), key, directory or cache_dir(), "nixpkgs index")


def load_plain(key: str, directory: Path, convert: Callable[[Any], T], what: str) -> T | None:
    """What was saved for `key` in `directory`, made into a record by `convert`; None (logged, naming it as
    `what`) when there is nothing or it cannot be used. An exception in `convert` counts as damage too."""
    path = cache_path(key, directory)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        log.info("no cached %s for %s yet", what, key)
        return None
    except OSError as error:
        log.warning("cannot read the cached %s %s (%s); rebuilding it", what, path, error.strerror or error)
        return None
    try:
        return convert(_decode(data, key))
    except Exception as error:  # noqa: BLE001 - any damage at all means: rebuild
        log.warning("the cached %s %s cannot be used (%s); rebuilding it", what, path, error)
        return None


def _decode(data: bytes, key: str) -> Any:
    end = data.find(b"\n")
    if end < 0:
        raise ValueError("no header")
    header = json.loads(data[:end])
    if not isinstance(header, dict) or header.get("magic") != MAGIC:
        raise ValueError("not an index file")
    if header.get("format") != FORMAT_VERSION or header.get("marshal") != marshal.version:
        raise ValueError(f"written in format {header.get('format')}, this version reads format {FORMAT_VERSION}")
    if header.get("key") != key:
        raise ValueError("made for another nixpkgs")
    payload = data[end + 1 :]
    if len(payload) != header.get("size") or hashlib.blake2b(payload).hexdigest() != header.get("digest"):
        raise ValueError("truncated or damaged")
    return marshal.loads(zlib.decompress(payload))


def save_plain(plain: Any, key: str, directory: Path, what: str) -> Path | None:
    """Write `plain` (nested tuples of str, int, bool and None) for `key` atomically; the path, or None
    (logged) when it could not be written."""
    path = cache_path(key, directory)
    payload = zlib.compress(marshal.dumps(plain), 1)
    header = {"magic": MAGIC, "format": FORMAT_VERSION, "marshal": marshal.version, "python": sys.version.split()[0],
              "key": key, "size": len(payload), "digest": hashlib.blake2b(payload).hexdigest()}
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=".index-", suffix=".tmp", dir=path.parent)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(json.dumps(header, sort_keys=True).encode("utf-8") + b"\n")
            handle.write(payload)
        os.replace(temporary, path)
    except OSError as error:
        log.warning("could not cache the %s in %s: %s", what, path.parent, error.strerror or error)
        if temporary is not None and os.path.exists(temporary):
            os.unlink(temporary)
        return None
    _prune(path)
    return path


def _prune(keep: Path) -> None:
    """Remove all but the newest `KEEP` index files beside `keep`."""
    try:
        files = sorted(keep.parent.glob(f"*{SUFFIX}"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in files[KEEP:]:
            if old != keep:
                old.unlink()
    except OSError as error:
        log.info("could not tidy the nixpkgs index cache in %s: %s", keep.parent, error)


def cached_index(root: str | os.PathLike[str], revision: str | None = None, directory: Path | None = None,
                 jobs: int | None = None) -> StaticIndex:
    """The index of the tree at `root`: from the cache when it is there and sound, else built and cached."""
    key = index_key(root, revision)
    found = load_index(key, directory)
    if found is not None:
        return found
    index = build_static_index(root, jobs=jobs)
    save_index(index, key, directory)
    return index
