"""Which system a rebuild builds: a flake's `nixosConfigurations.<host>` or a channel-style `nixos-config` file,
decided the way nixos-rebuild decides, without evaluating anything.

A flake is used when the settings name one, when the workspace (or the folder of the file being edited) has a
`flake.nix` that defines `nixosConfigurations`, or when `/etc/nixos/flake.nix` exists. The host is the setting,
else this machine's host name (nixos-rebuild's default), matched against the names the flake defines (read
with tree-sitter) so that `laptop.example.org` finds `laptop`. Otherwise `<nixpkgs/nixos>` is built with
`nixos-config` = the configuration that imports the edited file (the edited file itself when nothing does),
else `/etc/nixos/configuration.nix`. `NIX_HUMANITY_ETC_NIXOS` moves /etc/nixos, for tests.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping

from ..files import FileProblem, read_nix_file
from ..syntax.document import Document
from ..syntax.query import attrpath_names, nodes_of_type, set_value, static_bindings
from .config_files import ConfigFiles
from .model import Target

CONFIGURATIONS = "nixosConfigurations"


def etc_nixos() -> str:
    return os.environ.get("NIX_HUMANITY_ETC_NIXOS") or "/etc/nixos"


def detect_target(
    config_file: str | None = None,
    workspace: str | None = None,
    *,
    flake: str | None = None,
    host: str | None = None,
    target_host: str | None = None,
    build_host: str | None = None,
    nixpkgs: str | None = None,
    hostname: str | None = None,
    sources: Mapping[str, str | bytes] | None = None,
) -> Target:
    """The target for a rebuild started from `config_file` (the file being edited) in `workspace`.
    `flake` and `host` are the settings; `sources` the text of files open in an editor."""
    remote = {"target_host": target_host or None, "build_host": build_host or None}
    flake_ref, fragment = split_flake_reference(flake) if flake else (None, None)
    if flake_ref is None:
        flake_ref = _local_flake(config_file, workspace)
    if flake_ref is not None:
        flake_file = local_flake_file(flake_ref)
        chosen = host or fragment or choose_host(flake_hosts(flake_file) if flake_file else (), hostname)
        files = ConfigFiles([flake_file], sources).files if flake_file else ()
        return Target("flake", flake=flake_ref, host=chosen, nixpkgs=nixpkgs, files=files, **remote)
    entry = _entry(config_file, workspace, sources)
    return Target("channel", config_file=entry, nixpkgs=nixpkgs, files=ConfigFiles([entry], sources).files, **remote)


def choose_host(names: tuple[str, ...] | list[str], hostname: str | None = None) -> str:
    """nixos-rebuild's default, this machine's host name, in the spelling the flake uses for it."""
    name = hostname or socket.gethostname() or "default"
    short = name.split(".", 1)[0]
    for candidate in (name, short):
        if candidate in names:
            return candidate
    lowered = {n.lower(): n for n in names}
    return lowered.get(short.lower(), name)


def flake_hosts(flake_file: str) -> tuple[str, ...]:
    """The names under `nixosConfigurations` that a flake.nix writes out (`nixosConfigurations.laptop = …` or
    `nixosConfigurations = { laptop = …; }`), in file order; names made by functions are not seen."""
    try:
        doc = Document(flake_file, read_nix_file(flake_file))
    except FileProblem:
        return ()
    found: dict[str, None] = {}
    for binding in nodes_of_type(doc.tree.root_node, "binding"):
        attrpath = binding.child_by_field_name("attrpath")
        names = attrpath_names(attrpath) if attrpath is not None else None
        if not names or CONFIGURATIONS not in names:
            continue
        rest = names[names.index(CONFIGURATIONS) + 1:]
        if rest:
            found.setdefault(rest[0], None)
            continue
        inner = set_value(binding.child_by_field_name("expression"))
        if inner is not None:
            for item in static_bindings(inner):
                found.setdefault(item.path[0], None)
    return tuple(found)


def split_flake_reference(reference: str) -> tuple[str, str | None]:
    ref, _, fragment = reference.partition("#")
    if fragment.startswith(f"{CONFIGURATIONS}."):
        fragment = fragment[len(CONFIGURATIONS) + 1:].strip('"')
    if ref and not (":" in ref.split("/", 1)[0]) and os.path.isdir(os.path.expanduser(ref)):
        ref = os.path.abspath(os.path.expanduser(ref))
    return ref or ".", fragment or None


def _defines_configurations(flake_file: str) -> bool:
    try:
        return CONFIGURATIONS.encode() in read_nix_file(flake_file)
    except FileProblem:
        return False


def _local_flake(config_file: str | None, workspace: str | None) -> str | None:
    """The workspace's flake (or the one beside the edited file), else /etc/nixos's, as a directory."""
    for directory in _search_dirs(config_file, workspace):
        candidate = os.path.join(directory, "flake.nix")
        if os.path.isfile(candidate) and _defines_configurations(candidate):
            return directory
    system = os.path.join(etc_nixos(), "flake.nix")
    if os.path.exists(system):
        return os.path.dirname(os.path.realpath(system))
    return None


def _search_dirs(config_file: str | None, workspace: str | None) -> list[str]:
    """The edited file's folder and its parents up to the workspace root (only that folder without one)."""
    dirs: list[str] = []
    root = os.path.abspath(workspace) if workspace else None
    if config_file:
        directory = os.path.dirname(os.path.abspath(config_file))
        while True:
            dirs.append(directory)
            parent = os.path.dirname(directory)
            if root is None or directory == root or parent == directory or not directory.startswith(root + os.sep):
                break
            directory = parent
    if root is not None and root not in dirs:
        dirs.append(root)
    return dirs


def local_flake_file(reference: str) -> str | None:
    """flake.nix of a flake on this machine (`/etc/nixos`, `path:/x`, `git+file:///x`); None for remote ones."""
    for prefix in ("path:", "git+file://", "file://"):
        if reference.startswith(prefix):
            reference = reference[len(prefix):].split("?", 1)[0]
            break
    if ":" in reference.split("/", 1)[0]:
        return None
    candidate = os.path.join(os.path.abspath(os.path.expanduser(reference)), "flake.nix")
    return candidate if os.path.isfile(candidate) else None


def _entry(config_file: str | None, workspace: str | None, sources: Mapping[str, str | bytes] | None) -> str:
    """The configuration.nix that imports the edited file (it may be a module such as hardware-configuration.nix),
    else the edited file, else /etc/nixos/configuration.nix."""
    system = os.path.join(etc_nixos(), "configuration.nix")
    if not config_file:
        return system
    edited = os.path.abspath(config_file)
    candidates = [os.path.join(d, "configuration.nix") for d in _search_dirs(config_file, workspace)] + [system]
    for entry in dict.fromkeys(candidates):
        if entry != edited and os.path.isfile(entry) and edited in ConfigFiles([entry], sources).files:
            return entry
    return edited
