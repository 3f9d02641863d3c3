"""Find the user's nixpkgs without being told, and say in a sentence which one was used and why.

In order:
1. a flake: `flake.nix` in a workspace folder or `/etc/nixos`, with the `nixpkgs` input its `flake.lock`
   locks. Every locked input lives at a store path that follows from its `narHash` (Nix's fixed-output path
   for a recursive SHA-256 named `source`), so the path is computed, not evaluated; if it is not in the local
   store (the flake was never built on this machine), that is said, and the search goes on;
2. `nix-instantiate --find-file nixpkgs` (channels, `NIX_PATH`, `-I` as Nix itself resolves them);
3. `NIX_PATH` read directly (for machines where `nix-instantiate` is not on the editor's `PATH`);
4. the `nixpkgsPath` setting.

Only folders that look like nixpkgs (they hold `nixos/modules` or `pkgs/top-level`) are accepted. Nothing here
reaches the network: when NIX_PATH names a URL that could answer `<nixpkgs>`, `nix-instantiate` (which would
download it) is not asked.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs

ETC_NIXOS = Path("/etc/nixos")
STORE_DIR = os.environ.get("NIX_STORE_DIR", "/nix/store")
_BASE32 = "0123456789abcdfghijklmnpqrsvwxyz"  # Nix's own base-32 alphabet (no e, o, u, t)


@attrs.frozen
class NixpkgsLocation:
    path: Path | None  # the nixpkgs tree to index, None when none was found
    key: str | None  # what identifies its content: a store path or a locked revision; None for a mutable tree
    revision: str | None  # a git revision when one is known (flake lock, `.git-revision` of a channel)
    source: str | None  # flake, nix-instantiate, NIX_PATH or setting
    explanation: str  # for the log and `nix-humanity doctor`: what is used, and why not the others
    flake: Path | None = None  # the folder whose flake.lock named it, when it came from a flake


def locate_nixpkgs(
    workspace_folders: Sequence[str | os.PathLike[str]] = (),
    setting: str | None = None,
    *,
    nix_instantiate: str = "nix-instantiate",
    timeout: float = 10.0,
    environ: Mapping[str, str] | None = None,
    etc_nixos: Path | None = ETC_NIXOS,
    store_dir: str = STORE_DIR,
) -> NixpkgsLocation:
    environ = os.environ if environ is None else environ
    notes: list[str] = []
    folders = [Path(f) for f in workspace_folders] + ([etc_nixos] if etc_nixos is not None else [])
    found, flake = _from_flakes(folders, store_dir, notes)
    if found is None:
        found = _from_nix_instantiate(nix_instantiate, timeout, environ, store_dir, notes)
    if found is None:
        found = _from_nix_path(environ.get("NIX_PATH"), store_dir, notes)
    if found is None:
        found = _from_setting(setting, store_dir, notes)
    if found is None:
        return NixpkgsLocation(None, None, None, None,
                               "No nixpkgs found: " + "; ".join(notes) + ". Only the bundled knowledge is used.")
    path, source, how, key, revision = found
    not_used = f" Not used: {'; '.join(notes)}." if notes else ""
    return NixpkgsLocation(path, key, revision, source, f"Using nixpkgs at {path}, {how}.{not_used}",
                           flake if source == "flake" else None)


# -- flakes --------------------------------------------------------------------------------------------------

Found = tuple[Path, str, str, str | None, str | None]  # path, source, how it was found, key, revision


def _from_flakes(folders: list[Path], store_dir: str, notes: list[str]) -> tuple[Found | None, Path | None]:
    """The nixpkgs the first usable flake locks, and that flake's folder."""
    looked = []
    for folder in dict.fromkeys(folders):
        if not (folder / "flake.nix").is_file():
            looked.append(str(folder))
            continue
        found = _from_flake_lock(folder, store_dir, notes)
        if found is not None:
            break
    else:
        found, folder = None, None
    if looked:
        notes.insert(0, f"no flake.nix in {', '.join(looked)}")
    return found, folder


def _from_flake_lock(folder: Path, store_dir: str, notes: list[str]) -> Found | None:
    lock_file = folder / "flake.lock"
    try:
        lock = json.loads(lock_file.read_text(encoding="utf-8"))
        nodes = lock["nodes"]
        root = nodes[lock.get("root", "root")]
    except FileNotFoundError:
        notes.append(f"{folder}/flake.nix has no flake.lock yet (run `nix flake lock` there)")
        return None
    except (OSError, ValueError, KeyError, TypeError) as error:
        notes.append(f"{lock_file} cannot be read ({error})")
        return None
    name = _input_node(nodes, root, (root.get("inputs") or {}).get("nixpkgs") if isinstance(root, dict) else None)
    node = nodes.get(name) if isinstance(name, str) and isinstance(nodes, dict) else None
    locked = node.get("locked") if isinstance(node, dict) else None
    if not isinstance(locked, dict):
        notes.append(f"{lock_file} locks no `nixpkgs` input")
        return None
    described = describe_locked(locked)
    revision = locked.get("rev") if isinstance(locked.get("rev"), str) else None
    nar_hash = locked.get("narHash")
    store_path = None
    if isinstance(nar_hash, str):
        try:
            store_path = source_store_path(nar_hash, store_dir)
        except ValueError as error:
            notes.append(f"{lock_file}: {error}")
    if store_path is not None and _is_nixpkgs(Path(store_path)):
        return (Path(store_path), "flake", f"the nixpkgs input locked in {lock_file} ({described})", store_path,
                revision)
    local = locked.get("path")
    if locked.get("type") == "path" and isinstance(local, str) and _is_nixpkgs(Path(local)):
        return (Path(local), "flake", f"the local nixpkgs input locked in {lock_file} ({described})", None, revision)
    where = f" ({store_path})" if store_path else ""
    notes.append(f"{lock_file} locks nixpkgs to {described}, but that source is not in the local Nix store{where}; "
                 "build the configuration once or run `nix flake archive` to fetch it")
    return None


def _input_node(nodes: dict, root: dict, ref: object, depth: int = 0) -> str | None:
    """The lock node an input reference names: a node name, or a `follows` path of input names starting at
    the root (`["home-manager", "nixpkgs"]`: the nixpkgs input of the root's home-manager input)."""
    if isinstance(ref, str):
        return ref
    if not isinstance(ref, list) or not ref or depth > 32:
        return None
    holder: object = root
    name: str | None = None
    for step in ref:
        inputs = holder.get("inputs") if isinstance(holder, dict) else None
        name = _input_node(nodes, root, (inputs or {}).get(step), depth + 1)
        if name is None:
            return None
        holder = nodes.get(name)
    return name


def describe_locked(locked: dict) -> str:
    kind = locked.get("type")
    if kind in ("github", "gitlab", "sourcehut"):
        return f"{kind}:{locked.get('owner')}/{locked.get('repo')}/{locked.get('rev')}"
    if kind == "git":
        return f"git+{locked.get('url')}?rev={locked.get('rev')}"
    if kind == "path":
        return f"path:{locked.get('path')}"
    if kind == "tarball" or kind == "file":
        return str(locked.get("url"))
    return json.dumps(locked, sort_keys=True)


def source_store_path(nar_hash: str, store_dir: str = STORE_DIR, name: str = "source") -> str:
    """The store path of a source fetched with content hash `nar_hash` (`sha256-<base64>` as in flake.lock):
    Nix's `makeFixedOutputPath` for recursive SHA-256, which a flake input's path is."""
    digest = _sha256_digest(nar_hash)
    fingerprint = f"source:sha256:{digest.hex()}:{store_dir}:{name}"
    full = hashlib.sha256(fingerprint.encode("utf-8")).digest()
    compressed = bytearray(20)
    for i, byte in enumerate(full):
        compressed[i % 20] ^= byte
    return f"{store_dir}/{_nix_base32(bytes(compressed))}-{name}"


def _sha256_digest(text: str) -> bytes:
    if text.startswith("sha256-"):
        try:
            digest = base64.b64decode(text[7:], validate=True)
        except binascii.Error as error:
            raise ValueError(f"unreadable narHash {text!r}") from error
    elif text.startswith("sha256:") and len(text) == 7 + 64:
        digest = bytes.fromhex(text[7:])
    else:
        raise ValueError(f"unsupported narHash {text!r}")
    if len(digest) != 32:
        raise ValueError(f"unreadable narHash {text!r}")
    return digest


def _nix_base32(data: bytes) -> str:
    length = (len(data) * 8 - 1) // 5 + 1
    out = []
    for n in range(length - 1, -1, -1):
        bit = n * 5
        i, j = divmod(bit, 8)
        value = data[i] >> j
        if i + 1 < len(data):
            value |= data[i + 1] << (8 - j)
        out.append(_BASE32[value & 0x1F])
    return "".join(out)


# -- channels, NIX_PATH, setting -----------------------------------------------------------------------------


def _from_nix_instantiate(executable: str, timeout: float, environ: Mapping[str, str], store_dir: str,
                          notes: list[str]) -> Found | None:
    if any(_needs_download(entry) for entry in split_nix_path(environ.get("NIX_PATH", ""))):
        notes.append("`nix-instantiate --find-file nixpkgs` was not asked: NIX_PATH names a download")
        return None
    program = shutil.which(executable, path=environ.get("PATH"))
    if program is None:
        notes.append(f"`{executable}` is not on PATH")
        return None
    try:
        result = subprocess.run([program, "--find-file", "nixpkgs"], capture_output=True, timeout=timeout,
                                env=dict(environ), check=False)
    except subprocess.TimeoutExpired:
        notes.append(f"`nix-instantiate --find-file nixpkgs` took longer than {timeout:g} s")
        return None
    except OSError as error:
        notes.append(f"could not run `{executable}`: {error}")
        return None
    answer = result.stdout.decode("utf-8", "replace").strip()
    if result.returncode != 0 or not answer:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        notes.append("`nix-instantiate --find-file nixpkgs` found nothing"
                     + (f" ({message[-1].removeprefix('error: ')})" if message else ""))
        return None
    return _accept(Path(answer), "nix-instantiate", "found by `nix-instantiate --find-file nixpkgs`", store_dir, notes)


def _from_nix_path(value: str | None, store_dir: str, notes: list[str]) -> Found | None:
    if not value:
        notes.append("NIX_PATH is not set")
        return None
    for entry in split_nix_path(value):
        prefix, target = _split_entry(entry)
        if prefix and prefix != "nixpkgs":
            continue
        if _needs_download(entry):
            notes.append(f"NIX_PATH names nixpkgs as {target}, which needs a download")
            continue
        candidate = Path(target) if prefix else Path(target) / "nixpkgs"
        if candidate.is_dir():
            return _accept(candidate, "NIX_PATH", f"from the NIX_PATH entry {entry}", store_dir, notes)
    notes.append("NIX_PATH has no usable nixpkgs entry")
    return None


def split_nix_path(value: str) -> list[str]:
    """`NIX_PATH` entries: split on `:`, except the one in a URL (`nixpkgs=https://…`)."""
    entries: list[str] = []
    for piece in value.split(":"):
        if entries and piece.startswith("//"):
            entries[-1] += ":" + piece
        elif piece:
            entries.append(piece)
    return entries


def _split_entry(entry: str) -> tuple[str, str]:
    """`nixpkgs=/path` → ("nixpkgs", "/path"); `/path` → ("", "/path")."""
    prefix, equals, target = entry.partition("=")
    return (prefix, target) if equals and "://" not in prefix else ("", entry)


def _needs_download(entry: str) -> bool:
    """An entry that could answer `<nixpkgs>` and is a URL (Nix would fetch it)."""
    prefix, target = _split_entry(entry)
    return prefix in ("", "nixpkgs") and ("://" in target or target.startswith(("flake:", "channel:")))


def _from_setting(setting: str | None, store_dir: str, notes: list[str]) -> Found | None:
    if not setting:
        notes.append("the nixpkgsPath setting is empty")
        return None
    return _accept(Path(os.path.expanduser(setting)), "setting", "from the nixpkgsPath setting", store_dir, notes)


def _accept(path: Path, source: str, how: str, store_dir: str, notes: list[str]) -> Found | None:
    if not _is_nixpkgs(path):
        notes.append(f"{path}, {how}, does not look like nixpkgs (no nixos/modules or pkgs/top-level in it)")
        return None
    real = Path(os.path.realpath(path))
    return real, source, how, str(real) if in_store(real, store_dir) else None, read_revision(real)


def _is_nixpkgs(path: Path) -> bool:
    return (path / "nixos" / "modules").is_dir() or (path / "pkgs" / "top-level").is_dir()


def in_store(path: str | os.PathLike[str], store_dir: str = STORE_DIR) -> bool:
    """A path inside the Nix store never changes: the path itself identifies its content."""
    return os.fspath(path).startswith(store_dir.rstrip("/") + "/")


def read_revision(path: Path) -> str | None:
    """Channels carry their git revision in `.git-revision`."""
    try:
        text = (path / ".git-revision").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text or None
