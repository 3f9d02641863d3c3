"""The `nixos-rebuild` command-line backend: one `nixos-rebuild <action> …` argv (never a shell line), for the
bash script and for nixos-rebuild-ng alike.

Both accept `--log-format internal-json -v` and hand them to nix, so progress is read from Nix's JSON events;
their own steps ("building the system configuration...", "activating the configuration...") stay plain lines
in the same stream. A build leaves `./result`, so the command runs in a working folder of ours, where the
runner reads that link. Root: locally the whole command gets the elevation prefix (as `sudo nixos-rebuild
switch`); for a target host nixos-rebuild elevates there itself (`--sudo` for nixos-rebuild-ng,
`--use-remote-sudo` for the bash script, which nixos-rebuild-ng also still accepts).
"""

from __future__ import annotations

import os

from .backend_nix import JSON_LOG
from .model import Action, Launch, Plan, Unsupported

SYSTEM_FLAKE = "/etc/nixos/flake.nix"  # what nixos-rebuild itself looks at, whatever our tests pretend


def work_dir() -> str:
    """Where nixos-rebuild runs, so its `result` link lands in our cache, not in the user's folder."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "nix-humanity", "rebuild")


class CliBackend:
    name = "nixos-rebuild"

    def __init__(self, executable: str = "nixos-rebuild", *, ng: bool | None = None, json_log: bool = True,
                 cwd: str | None = None) -> None:
        self.executable = executable
        self.ng = ng  # nixos-rebuild-ng (True), the bash script (False) or unknown (None)
        self.json_log = json_log
        self.cwd = cwd

    def launch(self, plan: Plan) -> Launch:
        action, target = plan.action, plan.target
        if action is Action.LIST_GENERATIONS:
            argv = [self.executable, "list-generations", "--json", *self._profile(plan)]
            return Launch(self.name, tuple(argv), json_log=False, cwd=self.cwd or work_dir())
        if action is Action.ROLLBACK:
            if plan.generation is not None:
                raise Unsupported("nixos-rebuild rolls back only to the previous generation; to go back to "
                                  f"generation {plan.generation}, switch to it from the generations list.")
            words = ["switch", "--rollback"]
        else:
            words = [action.value]
        argv = [self.executable, *words]
        if target.kind == "flake":
            argv += ["--flake", f"{target.flake}#{target.host}" if target.host else str(target.flake)]
        else:
            if target.config_file:
                argv += ["-I", f"nixos-config={target.config_file}"]
            if target.nixpkgs:
                argv += ["-I", f"nixpkgs={target.nixpkgs}"]
            if os.path.exists(SYSTEM_FLAKE):
                argv.append("--no-flake")  # else nixos-rebuild would build /etc/nixos's flake instead
        if target.target_host:
            argv += ["--target-host", target.target_host]
        if target.build_host:
            argv += ["--build-host", target.build_host]
        argv += self._profile(plan)
        prefix: tuple[str, ...] = ()
        if action.activates and plan.elevate:
            if target.target_host:
                argv.append("--sudo" if self.ng else "--use-remote-sudo")
            else:
                prefix = plan.elevate
        if self.json_log:
            argv += JSON_LOG
        argv += plan.nix_flags
        return Launch(self.name, (*prefix, *argv), json_log=self.json_log, cwd=self.cwd or work_dir())

    @staticmethod
    def _profile(plan: Plan) -> list[str]:
        return ["--profile-name", plan.profile_name] if plan.profile_name else []
