"""Finding the user's nixpkgs: a flake's locked input (store path from its narHash, `follows`, a local path
input, a source that is not in the store), `nix-instantiate --find-file` (the real Nix, pointed at a test folder
through NIX_PATH), NIX_PATH read directly, the setting, and the sentence that says which one was used and why
not the others. No network; the Nix store is a folder of the test's own."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nix_humanity_ls.nixpkgs.locate import (
    locate_nixpkgs,
    source_store_path,
    split_nix_path,
)

NAR_HASH = "sha256-" + base64.b64encode(hashlib.sha256(b"nixpkgs source").digest()).decode()
REV = "0123456789abcdef0123456789abcdef01234567"
NIX_INSTANTIATE = shutil.which("nix-instantiate")
needs_nix = pytest.mark.skipif(NIX_INSTANTIATE is None, reason="nix-instantiate is not installed")


def make_nixpkgs(path: Path, revision: str | None = None) -> Path:
    (path / "nixos" / "modules").mkdir(parents=True)
    (path / "default.nix").write_text("{ ... }: { }\n")
    if revision:
        (path / ".git-revision").write_text(revision + "\n")
    return path


def write_flake(folder: Path, lock: dict | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "flake.nix").write_text('{ inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable"; outputs = _: { }; }\n')
    if lock is not None:
        (folder / "flake.lock").write_text(json.dumps(lock, indent=2))
    return folder


def github_lock(nixpkgs_ref: object = "nixpkgs", nodes: dict | None = None, inputs: dict | None = None) -> dict:
    return {
        "nodes": {
            "nixpkgs": {
                "locked": {"lastModified": 1700000000, "narHash": NAR_HASH, "owner": "NixOS", "repo": "nixpkgs",
                           "rev": REV, "type": "github"},
                "original": {"owner": "NixOS", "ref": "nixos-unstable", "repo": "nixpkgs", "type": "github"},
            },
            "root": {"inputs": {"nixpkgs": nixpkgs_ref, **(inputs or {})}},
            **(nodes or {}),
        },
        "root": "root",
        "version": 7,
    }


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "store"
    path.mkdir()
    return path


def quiet_env(**extra: str) -> dict[str, str]:
    """An environment with no NIX_PATH and no channels of the machine's own (HOME points nowhere useful)."""
    return {"PATH": os.environ.get("PATH", ""), "HOME": "/nonexistent", **extra}


def locate(tmp_path: Path, store: Path, folders: list[Path] = (), **kwargs):  # type: ignore[no-untyped-def]
    kwargs.setdefault("environ", quiet_env())
    kwargs.setdefault("nix_instantiate", "nix-instantiate-that-does-not-exist")
    return locate_nixpkgs(folders, etc_nixos=tmp_path / "etc-nixos", store_dir=str(store), **kwargs)


# -- store paths ------------------------------------------------------------------------------------------------


@needs_nix
@pytest.mark.parametrize("content", [b"nixpkgs source", b"another"])
def test_store_path_of_a_nar_hash_matches_real_nix(content: bytes):
    nar_hash = "sha256-" + base64.b64encode(hashlib.sha256(content).digest()).decode()
    nix_store = Path(NIX_INSTANTIATE).with_name("nix-store")
    result = subprocess.run([str(nix_store), "--print-fixed-path", "--recursive", "sha256", nar_hash, "source"],
                            capture_output=True, text=True, timeout=30, check=True)
    assert source_store_path(nar_hash) == result.stdout.strip()


def test_unreadable_nar_hash_is_an_error():
    with pytest.raises(ValueError):
        source_store_path("md5-abc")
    with pytest.raises(ValueError):
        source_store_path("sha256-not*base64")


# -- flakes -----------------------------------------------------------------------------------------------------


def test_flake_lock_in_the_workspace(tmp_path: Path, store: Path):
    expected = make_nixpkgs(Path(source_store_path(NAR_HASH, str(store))))
    workspace = write_flake(tmp_path / "work", github_lock())
    found = locate(tmp_path, store, [workspace])
    assert found.path == expected
    assert found.source == "flake"
    assert found.key == str(expected)
    assert found.revision == REV
    assert f"github:NixOS/nixpkgs/{REV}" in found.explanation
    assert str(workspace / "flake.lock") in found.explanation


def test_flake_in_etc_nixos(tmp_path: Path, store: Path):
    expected = make_nixpkgs(Path(source_store_path(NAR_HASH, str(store))))
    write_flake(tmp_path / "etc-nixos", github_lock())
    found = locate(tmp_path, store, [tmp_path / "plain-workspace"])
    assert (found.path, found.source) == (expected, "flake")
    assert f"no flake.nix in {tmp_path / 'plain-workspace'}" in found.explanation


def test_flake_input_that_follows_another(tmp_path: Path, store: Path):
    other_hash = "sha256-" + base64.b64encode(hashlib.sha256(b"followed").digest()).decode()
    expected = make_nixpkgs(Path(source_store_path(other_hash, str(store))))
    lock = github_lock(["home-manager", "nixpkgs"], {
        "home-manager": {"inputs": {"nixpkgs": "nixpkgs_2"}, "locked": {"type": "github", "narHash": NAR_HASH}},
        "nixpkgs_2": {"locked": {"type": "github", "owner": "NixOS", "repo": "nixpkgs", "rev": "f" * 40,
                                 "narHash": other_hash}},
    }, {"home-manager": "home-manager"})
    found = locate(tmp_path, store, [write_flake(tmp_path / "work", lock)])
    assert found.path == expected and found.revision == "f" * 40


def test_locked_source_not_in_the_store_is_said_and_the_search_goes_on(tmp_path: Path, store: Path):
    workspace = write_flake(tmp_path / "work", github_lock())
    setting = make_nixpkgs(tmp_path / "my-nixpkgs")
    found = locate(tmp_path, store, [workspace], setting=str(setting))
    assert found.path == setting and found.source == "setting"
    missing = source_store_path(NAR_HASH, str(store))
    assert f"locks nixpkgs to github:NixOS/nixpkgs/{REV}, but that source is not in the local Nix store ({missing})" \
        in found.explanation


def test_local_path_input(tmp_path: Path, store: Path):
    local = make_nixpkgs(tmp_path / "checkout")
    lock = {"nodes": {"nixpkgs": {"locked": {"type": "path", "path": str(local), "narHash": NAR_HASH,
                                             "lastModified": 1}},
                      "root": {"inputs": {"nixpkgs": "nixpkgs"}}}, "root": "root", "version": 7}
    found = locate(tmp_path, store, [write_flake(tmp_path / "work", lock)])
    assert (found.path, found.source, found.key) == (local, "flake", None)  # a local folder can change: no key


@pytest.mark.parametrize(
    ("lock", "words"),
    [
        (None, "has no flake.lock yet (run `nix flake lock` there)"),
        ({"nodes": {"root": {"inputs": {"home-manager": "hm"}}}, "root": "root"}, "locks no `nixpkgs` input"),
        ("{ this is not json", "cannot be read"),
    ],
)
def test_flake_problems_are_explained(tmp_path: Path, store: Path, lock: object, words: str):
    workspace = write_flake(tmp_path / "work", lock if isinstance(lock, dict) else None)
    if isinstance(lock, str):
        (workspace / "flake.lock").write_text(lock)
    found = locate(tmp_path, store, [workspace])
    assert found.path is None and found.source is None
    assert words in found.explanation
    assert found.explanation.startswith("No nixpkgs found: ")


# -- nix-instantiate, NIX_PATH, the setting ---------------------------------------------------------------------


@needs_nix
def test_nix_instantiate_find_file_through_nix_path(tmp_path: Path, store: Path):
    channel = make_nixpkgs(tmp_path / "channels" / "nixos", revision="c" * 40)
    found = locate(tmp_path, store, environ=quiet_env(NIX_PATH=f"nixpkgs={channel}"), nix_instantiate="nix-instantiate")
    assert (found.path, found.source) == (channel, "nix-instantiate")
    assert found.revision == "c" * 40
    assert found.key is None  # not in the store: the cache fingerprints it instead
    assert "found by `nix-instantiate --find-file nixpkgs`" in found.explanation


@needs_nix
def test_nix_instantiate_result_in_the_store_is_its_own_key(tmp_path: Path, store: Path):
    in_store = make_nixpkgs(store / "abc-nixos-24.05" / "nixos")
    found = locate(tmp_path, store, environ=quiet_env(NIX_PATH=f"nixpkgs={in_store}"), nix_instantiate="nix-instantiate")
    assert found.key == str(in_store)


@needs_nix
def test_nix_instantiate_finding_something_that_is_not_nixpkgs(tmp_path: Path, store: Path):
    other = tmp_path / "not-nixpkgs"
    other.mkdir()
    (other / "default.nix").write_text("1\n")
    found = locate(tmp_path, store, environ=quiet_env(NIX_PATH=f"nixpkgs={other}"), nix_instantiate="nix-instantiate")
    assert found.path is None
    assert "does not look like nixpkgs" in found.explanation


@needs_nix
def test_nix_instantiate_finding_nothing(tmp_path: Path, store: Path):
    found = locate(tmp_path, store, nix_instantiate="nix-instantiate")
    assert "`nix-instantiate --find-file nixpkgs` found nothing" in found.explanation
    assert "NIX_PATH is not set" in found.explanation


def test_nix_instantiate_timeout(tmp_path: Path, store: Path):
    slow = tmp_path / "slow-nix-instantiate"
    slow.write_text(f"#!{sys.executable}\nimport time\ntime.sleep(30)\n")
    slow.chmod(0o755)
    found = locate(tmp_path, store, nix_instantiate=str(slow), timeout=0.5)
    assert "took longer than 0.5 s" in found.explanation


def test_nix_path_read_directly_without_nix(tmp_path: Path, store: Path):
    target = make_nixpkgs(tmp_path / "np")
    found = locate(tmp_path, store, environ=quiet_env(NIX_PATH=f"foo=/x:nixpkgs={target}"))
    assert (found.path, found.source) == (target, "NIX_PATH")
    assert "`nix-instantiate-that-does-not-exist` is not on PATH" in found.explanation


def test_nix_path_plain_folder_holding_nixpkgs(tmp_path: Path, store: Path):
    target = make_nixpkgs(tmp_path / "channels" / "nixpkgs")
    found = locate(tmp_path, store, environ=quiet_env(NIX_PATH=str(tmp_path / "channels")))
    assert (found.path, found.source) == (target, "NIX_PATH")


def test_nix_path_naming_a_url_needs_a_download(tmp_path: Path, store: Path):
    url = "https://github.com/NixOS/nixpkgs/archive/master.tar.gz"
    found = locate(tmp_path, store, environ=quiet_env(NIX_PATH=f"nixpkgs={url}"))
    assert found.path is None
    assert f"NIX_PATH names nixpkgs as {url}, which needs a download" in found.explanation


def test_nix_instantiate_is_not_asked_when_it_would_download(tmp_path: Path, store: Path):
    marker = tmp_path / "asked"
    fake = tmp_path / "fake-nix-instantiate"
    fake.write_text(f"#!{sys.executable}\nimport pathlib\npathlib.Path({str(marker)!r}).write_text('asked')\n")
    fake.chmod(0o755)
    local = make_nixpkgs(tmp_path / "np")
    url_path = f"https://example.org/nixpkgs.tar.gz:nixpkgs={local}"
    found = locate(tmp_path, store, environ=quiet_env(NIX_PATH=url_path), nix_instantiate=str(fake))
    assert not marker.exists()
    assert "was not asked: NIX_PATH names a download" in found.explanation
    assert (found.path, found.source) == (local, "NIX_PATH")
    locate(tmp_path, store, environ=quiet_env(NIX_PATH=f"nixpkgs={local}"), nix_instantiate=str(fake))
    assert marker.exists()  # the same fake is asked when nothing needs a download


def test_split_nix_path_keeps_urls_whole():
    assert split_nix_path("nixpkgs=https://example.org/a.tar.gz:/home/u/channels::other=/x") == [
        "nixpkgs=https://example.org/a.tar.gz", "/home/u/channels", "other=/x"
    ]


def test_setting_comes_last(tmp_path: Path, store: Path):
    setting = make_nixpkgs(tmp_path / "from-setting")
    found = locate(tmp_path, store, setting=str(setting))
    assert (found.path, found.source) == (setting, "setting")
    assert found.explanation.startswith(f"Using nixpkgs at {setting}, from the nixpkgsPath setting.")


def test_a_setting_that_is_not_nixpkgs(tmp_path: Path, store: Path):
    found = locate(tmp_path, store, setting=str(tmp_path))
    assert found.path is None
    assert f"{tmp_path}, from the nixpkgsPath setting, does not look like nixpkgs" in found.explanation


def test_a_flake_wins_over_nix_path_and_the_setting(tmp_path: Path, store: Path):
    expected = make_nixpkgs(Path(source_store_path(NAR_HASH, str(store))))
    other = make_nixpkgs(tmp_path / "np")
    found = locate(tmp_path, store, [write_flake(tmp_path / "work", github_lock())],
                   environ=quiet_env(NIX_PATH=f"nixpkgs={other}"), setting=str(other))
    assert found.path == expected and found.source == "flake"


def test_nothing_found_says_so_in_one_sentence(tmp_path: Path, store: Path):
    found = locate(tmp_path, store)
    assert (found.path, found.key, found.revision, found.source) == (None, None, None, None)
    assert found.explanation == (
        f"No nixpkgs found: no flake.nix in {tmp_path / 'etc-nixos'}; "
        "`nix-instantiate-that-does-not-exist` is not on PATH; NIX_PATH is not set; "
        "the nixpkgsPath setting is empty. Only the bundled knowledge is used."
    )
