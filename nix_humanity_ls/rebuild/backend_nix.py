"""The backend for a machine without nixos-rebuild: plain `nix-build` (channels) or `nix build` (flakes) of the
system, which is all a check of the configuration needs.

Dry-build, build and build-vm work; anything that activates a system (switch, boot, test, dry-activate,
rollback) or deploys to another machine needs nixos-rebuild, and is refused with a sentence saying so. Nix
logs in `internal-json` so progress can be followed; `--no-out-link` leaves no `result` link behind.
"""

from __future__ import annotations

from .model import Action, Launch, Plan, Target, Unsupported

FLAKE_FEATURES = ("--extra-experimental-features", "nix-command flakes")
JSON_LOG = ("--log-format", "internal-json", "-v")
_ATTRS = {Action.DRY_BUILD: "toplevel", Action.BUILD: "toplevel", Action.BUILD_VM: "vm"}


def flake_attribute(target: Target, attr: str) -> str:
    """`<flake>#nixosConfigurations."<host>".config.system.build.<attr>`, the host quoted as nixos-rebuild does."""
    return f'{target.flake}#nixosConfigurations."{target.host}".config.system.build.{attr}'


def channel_paths(target: Target) -> list[str]:
    """`-I nixos-config=…` (and `-I nixpkgs=…` when the target names one) for `<nixpkgs/nixos>`."""
    paths = ["-I", f"nixos-config={target.config_file}"] if target.config_file else []
    if target.nixpkgs:
        paths += ["-I", f"nixpkgs={target.nixpkgs}"]
    return paths


class NixBackend:
    name = "nix"

    def __init__(self, nix_build: str = "nix-build", nix: str = "nix") -> None:
        self.nix_build, self.nix = nix_build, nix

    def launch(self, plan: Plan) -> Launch:
        attr = _ATTRS.get(plan.action)
        if attr is None:
            raise Unsupported(f"{plan.action.value} changes the running system or its generations, which needs "
                              "nixos-rebuild; without it only dry-build, build and build-vm can run.")
        target = plan.target
        if target.target_host or target.build_host:
            raise Unsupported("Building on or for another machine over SSH needs nixos-rebuild, which is not "
                              "available here.")
        dry = ["--dry-run"] if plan.action is Action.DRY_BUILD else []
        if target.kind == "flake":
            argv = [self.nix, *FLAKE_FEATURES, "build", "--json", "--no-link", flake_attribute(target, attr)]
        else:
            argv = [self.nix_build, "<nixpkgs/nixos>", "-A", f"config.system.build.{attr}", "--no-out-link",
                    *channel_paths(target)]
        return Launch(self.name, (*argv, *dry, *JSON_LOG, *plan.nix_flags))
