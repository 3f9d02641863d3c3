"""The on-disk cache of the static index: where it lives, what keys it, that it reads back exactly what was
written, and that every kind of damage (corrupt, truncated, older format, another key, unreadable) means a
rebuild with a log line, never an error."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import pytest

from nix_humanity_ls.nixpkgs import cache
from nix_humanity_ls.nixpkgs.records import StaticIndex
from nix_humanity_ls.nixpkgs.static_index import build_static_index
from tests import nixpkgs_fixture as fx

LOGGER = "nix_humanity_ls.nixpkgs.cache"


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fx.write_tree(tmp_path_factory.mktemp("nixpkgs"))


@pytest.fixture(scope="module")
def index(tree: Path) -> StaticIndex:
    return build_static_index(tree, jobs=1)


@pytest.fixture
def no_build(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record builds instead of making them: a test that expects the cache to answer fails if it does not."""
    calls: list[str] = []

    def fake_build(root: object, jobs: object = None) -> StaticIndex:
        calls.append(str(root))
        return build_static_index(root, jobs=1)  # type: ignore[arg-type]

    monkeypatch.setattr(cache, "build_static_index", fake_build)
    return calls


def test_cache_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.cache_dir() == tmp_path / "nix-humanity" / "nixpkgs-index"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.cache_dir() == tmp_path / "home" / ".cache" / "nix-humanity" / "nixpkgs-index"


def test_round_trip_is_exact(index: StaticIndex, tmp_path: Path):
    path = cache.save_index(index, "key", tmp_path)
    assert path is not None and path.parent == tmp_path and path.suffix == ".nhidx"
    loaded = cache.load_index("key", tmp_path)
    assert loaded is not None
    assert loaded.to_plain() == index.to_plain()
    assert list(loaded.options.options()) == list(index.options.options())
    assert list(loaded.options.renames()) == list(index.options.renames())
    assert list(loaded.packages.records()) == list(index.packages.records())
    assert [loaded.packages.get(a).broken for a in ("old-tool", "darwin-flaky", "hello")] == [
        "true", "stdenv.hostPlatform.isDarwin && stdenv.hostPlatform.isAarch64", ""]
    assert loaded.options.find(("users", "users", "alice", "isNormalUser")) == index.options.get(
        ("users", "users", "<name>", "isNormalUser"))
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left behind


def test_second_use_reads_the_cache(tree: Path, tmp_path: Path, no_build: list[str]):
    first = cache.cached_index(tree, directory=tmp_path)
    assert no_build == [str(tree)]
    second = cache.cached_index(tree, directory=tmp_path)
    assert no_build == [str(tree)]  # not built again
    assert second.to_plain() == first.to_plain()


def test_cached_index_uses_xdg_cache_home(tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          no_build: list[str]):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cache.cached_index(tree)
    files = list((tmp_path / "nix-humanity" / "nixpkgs-index").glob("*.nhidx"))
    assert len(files) == 1


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    header, _, payload = data.partition(b"\n")
    if how == "garbage":
        path.write_bytes(b"\x00\xff not an index at all")
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "flipped byte":
        middle = len(header) + 1 + len(payload) // 2
        path.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :])
    elif how in ("older format", "another key", "not json header"):
        fields = json.loads(header)
        if how == "older format":
            fields["format"] = cache.FORMAT_VERSION - 1
        elif how == "another key":
            fields["key"] = "something else"
        text = json.dumps(fields).encode() if how != "not json header" else b"{not json"
        path.write_bytes(text + b"\n" + payload)
    elif how == "unreadable":
        path.unlink()
        path.mkdir()  # a folder where the file should be: reading it fails with an OS error
    else:
        raise AssertionError(how)


@pytest.mark.parametrize(
    "how",
    ["garbage", "empty", "truncated", "flipped byte", "older format", "another key", "not json header", "unreadable"],
)
def test_damaged_cache_is_rebuilt_with_a_log_line(tree: Path, tmp_path: Path, how: str, no_build: list[str],
                                                  caplog: pytest.LogCaptureFixture):
    good = cache.cached_index(tree, directory=tmp_path)
    key = cache.index_key(tree)
    path = cache.cache_path(key, tmp_path)
    _damage(path, how)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert cache.load_index(key, tmp_path) is None
    assert str(path) in caplog.text and "rebuilding" in caplog.text
    if how == "unreadable":
        path.rmdir()
    rebuilt = cache.cached_index(tree, directory=tmp_path)
    assert len(no_build) == 2
    assert rebuilt.to_plain() == good.to_plain()
    assert cache.load_index(key, tmp_path) is not None  # and written again, whole


def test_a_missing_cache_is_only_noted(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.INFO, logger=LOGGER):
        assert cache.load_index("never written", tmp_path) is None
    assert "no cached nixpkgs index" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_unwritable_cache_folder_still_gives_the_index(tree: Path, tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        index = cache.cached_index(tree, directory=blocker / "cache", jobs=1)
    assert index.options.get(("services", "openssh", "enable")) is not None
    assert "could not cache the nixpkgs index" in caplog.text


def test_keys(tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    real = os.path.realpath(tree)
    assert cache.index_key(tree, "/nix/store/abc-source") == f"/nix/store/abc-source at {real}"
    store = tmp_path / "store"
    (store / "xyz-nixpkgs").mkdir(parents=True)
    monkeypatch.setattr(cache, "STORE_DIR", str(store))
    assert cache.index_key(store / "xyz-nixpkgs") == str(store / "xyz-nixpkgs")  # immutable: the path is enough
    mutable = cache.index_key(tree)
    assert mutable.startswith(f"{real} as of ")
    assert cache.index_key(tree) == mutable  # stable while nothing changes


def test_a_mutable_tree_gets_a_new_key_when_it_is_updated(tmp_path: Path):
    root = fx.write_tree(tmp_path / "checkout")
    before = cache.index_key(root)
    module_list = root / "nixos/modules/module-list.nix"
    module_list.write_text(module_list.read_text() + "# updated\n")
    os.utime(module_list, ns=(time.time_ns(), time.time_ns() + 5_000_000_000))
    assert cache.index_key(root) != before


def test_a_git_checkout_key_follows_the_branch_tip(tmp_path: Path):
    root = fx.write_tree(tmp_path / "checkout")
    (root / ".git" / "refs" / "heads").mkdir(parents=True)
    (root / ".git" / "HEAD").write_text("ref: refs/heads/master\n")
    tip = root / ".git" / "refs" / "heads" / "master"
    tip.write_text("a" * 40 + "\n")
    before = cache.index_key(root)
    tip.write_text("b" * 40 + "\n")
    assert cache.index_key(root) != before


def test_old_index_files_are_pruned(index: StaticIndex, tmp_path: Path):
    paths = []
    for n in range(cache.KEEP + 2):
        path = cache.save_index(index, f"key {n}", tmp_path)
        assert path is not None
        os.utime(path, ns=(n * 1_000_000_000, n * 1_000_000_000))
        paths.append(path)
    cache.save_index(index, "newest", tmp_path)
    kept = sorted(p.name for p in tmp_path.glob("*.nhidx"))
    assert len(kept) == cache.KEEP
    assert cache.cache_path("newest", tmp_path).name in kept
    assert paths[0].name not in kept and paths[1].name not in kept


def test_the_file_name_depends_on_key_and_format_version(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    first = cache.cache_path("key", tmp_path)
    assert cache.cache_path("other key", tmp_path) != first
    monkeypatch.setattr(cache, "FORMAT_VERSION", cache.FORMAT_VERSION + 1)
    assert cache.cache_path("key", tmp_path) != first
