"""What identifies the inputs of a build, so a dry-build of unchanged inputs can answer from the record.

The fingerprint is a SHA-256 over: the target (which system, which hosts), the content of every configuration
file (`Target.files`, plus every `.nix` file and `flake.lock` under the configuration's directory, as
`config_folder.configuration_files` lists them, so an imported module the target did not list still counts),
and which nixpkgs: for a flake its `flake.lock` (hashed with the files), for channels the nixpkgs store path,
or the `.git-revision` a channel carries, or a clean git checkout's commit. When nixpkgs cannot be pinned down
(a working tree with changes, a flake without a lock) or the directory is too big to list whole, there is no
fingerprint, and nothing is skipped.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from ..config_folder import configuration_files
from ..nixpkgs.locate import in_store, locate_nixpkgs, read_revision
from .model import Target


def fingerprint(target: Target, environ: Mapping[str, str] | None = None, timeout: float = 10.0) -> str | None:
    """The inputs' fingerprint, or None when they cannot be pinned down."""
    environ = os.environ if environ is None else environ
    base = _base_dir(target)
    files = set(target.files)
    if base is not None:
        found = configuration_files(base)
        if not found.complete:
            return None  # a folder too big to be a configuration, or the file system's root
        files.update(found.files)
    if not files:
        return None
    digest = hashlib.sha256()
    digest.update(f"{target.describe()}\0{target.target_host}\0{target.build_host}\0".encode())
    for path in sorted(files):
        digest.update(path.encode("utf-8", "surrogateescape") + b"\0")
        try:
            with open(path, "rb") as handle:
                digest.update(hashlib.sha256(handle.read()).digest())
        except OSError:
            digest.update(b"(unreadable)")
    if target.kind == "flake":
        if base is None or not os.path.isfile(os.path.join(base, "flake.lock")):
            return None  # a remote or unlocked flake: its inputs may move
    else:
        nixpkgs = _nixpkgs_identity(target.nixpkgs, environ, timeout)
        if nixpkgs is None:
            return None
        digest.update(f"nixpkgs\0{nixpkgs}\0NIX_PATH\0{environ.get('NIX_PATH', '')}".encode())
    return digest.hexdigest()


def _base_dir(target: Target) -> str | None:
    if target.kind == "flake" and target.flake:
        local = target.flake.removeprefix("path:").removeprefix("git+file://")
        return local if os.path.isdir(local) else None
    if target.config_file:
        return os.path.dirname(os.path.abspath(target.config_file))
    return None


def _nixpkgs_identity(path: str | None, environ: Mapping[str, str], timeout: float) -> str | None:
    """What pins the nixpkgs a channel build uses (`path`, else `<nixpkgs>` as Nix finds it): a store path, a
    channel's `.git-revision`, or the commit of a clean git checkout; None when nothing pins it."""
    if path is None:
        location = locate_nixpkgs((), None, timeout=timeout, environ=environ, etc_nixos=None)
        if location.path is None:
            return None
        real, revision = str(location.path), location.revision
    else:
        real = os.path.realpath(path)
        revision = read_revision(Path(real))
    if in_store(real):
        return real  # a store path never changes
    if revision:
        return f"rev:{revision}"
    return _clean_git_commit(real, timeout)


def _clean_git_commit(path: str, timeout: float) -> str | None:
    """The commit of a git checkout without uncommitted changes; None otherwise."""
    try:
        head = subprocess.run(["git", "-C", path, "rev-parse", "HEAD"], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout, check=False)
        dirty = subprocess.run(["git", "-C", path, "status", "--porcelain", "--untracked-files=no"],
                               stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if head.returncode != 0 or dirty.returncode != 0 or dirty.stdout.strip():
        return None
    return f"git:{head.stdout.strip()}"
