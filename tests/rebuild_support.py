"""A sandbox for whole rebuild operations (core, CLI and server tests): the fixture's nixpkgs and a
configuration, a profile directory of the test's own, the stand-in `nixos-rebuild` first on PATH, the
activation record, and state, cache and /etc/nixos moved into the sandbox."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import attrs

from tests.rebuild_fixture import STAND_INS, nix_env, write_config, write_nixpkgs


@attrs.frozen
class Sandbox:
    root: Path
    nixpkgs: Path
    config: Path
    profiles: Path
    activations: Path  # what switch-to-configuration was asked to do, one "<action> <toplevel>" per line
    state: Path

    def env(self) -> dict[str, str]:
        return {
            **nix_env(),
            "PATH": f"{STAND_INS}{os.pathsep}{os.environ['PATH']}",
            "NIX_HUMANITY_PROFILE_DIR": str(self.profiles),
            "NIX_HUMANITY_TEST_PROFILES": str(self.profiles),
            "NIX_HUMANITY_ACTIVATION_LOG": str(self.activations),
            "NIX_HUMANITY_ETC_NIXOS": str(self.root / "etc-nixos"),
            "NIX_HUMANITY_CURRENT_SYSTEM": str(self.root / "current-system"),
            "XDG_STATE_HOME": str(self.state),
            "XDG_CACHE_HOME": str(self.root / "cache"),
        }

    def activated(self) -> list[str]:
        return self.activations.read_text().splitlines() if self.activations.exists() else []

    def build(self, config: Path) -> str:
        """A real build of the fixture system for `config` (nix-build, no link left behind)."""
        done = subprocess.run(
            ["nix-build", "<nixpkgs/nixos>", "-A", "system", "--no-out-link", "-I", f"nixpkgs={self.nixpkgs}",
             "-I", f"nixos-config={config}"],
            env={**os.environ, **self.env()}, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=True)
        return done.stdout.strip().splitlines()[-1]

    def set_profile(self, system: str) -> None:
        """A new generation of the sandbox's system profile, made by nix-env as nixos-rebuild makes it."""
        subprocess.run(["nix-env", "-p", str(self.profiles / "system"), "--set", system],
                       env={**os.environ, **self.env()}, check=True, capture_output=True)


def sandbox(root: Path) -> Sandbox:
    nixpkgs = write_nixpkgs(root)
    config = write_config(root / "config")
    profiles = root / "profiles"
    profiles.mkdir()
    return Sandbox(root, nixpkgs, config, profiles, root / "activations.log", root / "state")
