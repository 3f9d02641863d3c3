"""The `python-module` backend: nixos-rebuild-ng's own Python functions, called by our bridge in a child process.

The child is the package's interpreter running `bridge.py` in isolated mode (`-I`: no PYTHONPATH, no user site
directory, not even the script's own directory on sys.path), with PATH as the package's wrapper script would
set it, so nix is the one nixos-rebuild itself would run. The bridge adds the package's site-packages
directory to sys.path itself. Its stdout carries JSON lines (`Launch.bridge`), its stderr nix's internal-json
log, read by the same runner as every other backend.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .discover import Installation
from .generations import profile_dir
from .model import Action, Launch, Plan, Unsupported

BRIDGE = str(Path(__file__).with_name("bridge.py"))
ELEVATORS = ("sudo", "run0")  # what nixos-rebuild-ng itself knows how to use


class ModuleBackend:
    name = "python-module"

    def __init__(self, installation: Installation) -> None:
        if not installation.usable or not installation.interpreter or not installation.site_packages:
            raise ValueError(f"not a usable installation: {installation.describe()}")
        self.installation = installation

    def launch(self, plan: Plan) -> Launch:
        if not elevates_with(plan.elevate):
            raise Unsupported(f"nixos-rebuild-ng gains root only with sudo or run0, and here only "
                              f"{os.path.basename(plan.elevate[0])} works; the nixos-rebuild command can run under it")
        target = plan.target
        request = {
            "action": plan.action.value,
            "site_packages": self.installation.site_packages,
            "target": {
                "kind": target.kind, "flake": target.flake, "host": target.host, "config_file": target.config_file,
                "nixpkgs": target.nixpkgs, "target_host": target.target_host, "build_host": target.build_host,
            },
            "profile": str(system_profile(plan.profile_name)),
            "generation": plan.generation if plan.action is Action.ROLLBACK else None,
            "elevate": list(plan.elevate),
            "nix_flags": list(plan.nix_flags),
        }
        argv = (self.installation.interpreter, "-I", BRIDGE, json.dumps(request))
        env = {"PATH": self.installation.search_path(os.environ.get("PATH"))}
        return Launch(self.name, argv, env, json_log=True, bridge=True)


def elevates_with(prefix: tuple[str, ...]) -> bool:
    """Whether the module can gain root the way `prefix` (`Plan.elevate`) does: no prefix, sudo or run0."""
    return not prefix or os.path.basename(prefix[0]) in ELEVATORS


def system_profile(name: str | None) -> Path:
    """nixos-rebuild's profile for `--profile-name`: `system`, else `system-profiles/<name>`, under the profile
    directory (`NIX_HUMANITY_PROFILE_DIR` moves it, for tests)."""
    if not name or name == "system":
        return profile_dir() / "system"
    return profile_dir() / "system-profiles" / name
