"""The configuration's folder on a real file tree: which files count (for the evaluated options' cache key and
the rebuild fingerprint, which both list them through `configuration_files`), where a walk stops, and a
flake's store path mapped back to the user's folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from nix_humanity_ls import config_folder
from nix_humanity_ls.config_folder import configuration_files, in_folder, store_relative
from nix_humanity_ls.nixpkgs.evaluated import Target as EvaluatedTarget
from nix_humanity_ls.nixpkgs.evaluated import configuration_digest
from nix_humanity_ls.rebuild.fingerprint import fingerprint
from nix_humanity_ls.rebuild.model import Target

HASH = "0" * 32


def _tree(root: Path, files: list[str]) -> Path:
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("{ }\n", encoding="utf-8")
    return root


def test_the_nix_files_and_locks_below_the_folder_in_walk_order(tmp_path: Path):
    root = _tree(tmp_path, ["configuration.nix", "flake.lock", "flake.nix", "README.md", "hosts/b.nix", "hosts/a.nix",
                            ".git/hooks/x.nix", ".secret/s.nix", "result/sw.nix", "node_modules/m.nix", "notes.nix.txt"])
    found = configuration_files(root)
    assert found.complete
    assert found.files == tuple(str(root / n) for n in ["configuration.nix", "flake.lock", "flake.nix",
                                                        "hosts/a.nix", "hosts/b.nix"])


def test_a_walk_stops_at_the_file_and_folder_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root = _tree(tmp_path, ["a.nix", "b.nix", "c/d.nix", "e/f.nix"])
    assert configuration_files(root).complete
    monkeypatch.setattr(config_folder, "MAX_FILES", 3)
    many = configuration_files(root)
    assert not many.complete and many.files == tuple(str(root / n) for n in ["a.nix", "b.nix", "c/d.nix"])
    monkeypatch.setattr(config_folder, "MAX_FILES", 100)
    monkeypatch.setattr(config_folder, "MAX_FOLDERS", 2)
    deep = configuration_files(root)
    assert not deep.complete and deep.files == tuple(str(root / n) for n in ["a.nix", "b.nix", "c/d.nix"])


def test_the_file_systems_root_is_not_walked():
    assert configuration_files("/") == config_folder.FolderFiles((), complete=False)


def test_a_flakes_store_copy_maps_back_to_the_folder(tmp_path: Path):
    _tree(tmp_path, ["hosts/box.nix"])
    stored = f"/nix/store/{HASH}-source/hosts/box.nix"
    assert store_relative(stored) == "hosts/box.nix"
    assert store_relative(f"/nix/store/{HASH}-nixos-25.05/nixos/modules/x.nix") == "nixos/modules/x.nix"
    assert store_relative("/etc/nixos/hosts/box.nix") is None
    assert store_relative("/nix/store/short-source/hosts/box.nix") is None
    assert in_folder(stored, tmp_path) == str(tmp_path / "hosts/box.nix")
    missing = f"/nix/store/{HASH}-source/hosts/gone.nix"
    assert in_folder(missing, tmp_path) == missing


def test_an_unlisted_module_counts_for_both_callers(tmp_path: Path):
    root = _tree(tmp_path, ["configuration.nix", "modules/web.nix"])
    config = str(root / "configuration.nix")
    rebuild = Target("channel", config_file=config, nixpkgs=f"/nix/store/{HASH}-nixpkgs", files=(config,))
    evaluated = EvaluatedTarget(False, Path(config))
    before = fingerprint(rebuild, environ={}), configuration_digest(evaluated, environ={})
    assert None not in before
    (root / "modules/web.nix").write_text("{ services.nginx.enable = true; }\n", encoding="utf-8")
    after = fingerprint(rebuild, environ={}), configuration_digest(evaluated, environ={})
    assert after[0] != before[0] and after[1] != before[1]


def test_no_fingerprint_for_a_folder_too_big_to_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root = _tree(tmp_path, ["configuration.nix", "a.nix", "b.nix"])
    config = str(root / "configuration.nix")
    rebuild = Target("channel", config_file=config, nixpkgs=f"/nix/store/{HASH}-nixpkgs", files=(config,))
    assert fingerprint(rebuild, environ={}) is not None
    monkeypatch.setattr(config_folder, "MAX_FILES", 2)
    assert fingerprint(rebuild, environ={}) is None
