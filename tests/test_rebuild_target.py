"""Which system a rebuild targets: flakes (workspace, /etc/nixos, the setting) and their hosts, or the channel
configuration that imports the edited file; real files on disk, /etc/nixos moved into the test's folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from nix_humanity_ls.rebuild.target import choose_host, detect_target, flake_hosts

FLAKE = """\
{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";
  outputs = { self, nixpkgs, ... }: {
    nixosConfigurations.laptop = nixpkgs.lib.nixosSystem {
      system = "x86_64-linux";
      modules = [ ./hosts/laptop.nix ./common.nix ];
    };
    nixosConfigurations = {
      server = nixpkgs.lib.nixosSystem { modules = [ ./common.nix ]; };
      "media.box" = nixpkgs.lib.nixosSystem { modules = [ ]; };
    };
  };
}
"""


@pytest.fixture(autouse=True)
def etc_nixos(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "etc-nixos"
    path.mkdir()
    monkeypatch.setenv("NIX_HUMANITY_ETC_NIXOS", str(path))
    return path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def flake_workspace(root: Path) -> Path:
    write(root / "flake.nix", FLAKE)
    write(root / "hosts" / "laptop.nix", "{ imports = [ ../hardware.nix ]; networking.hostName = \"laptop\"; }\n")
    write(root / "hardware.nix", "{ }\n")
    write(root / "common.nix", "{ services.openssh.enable = true; }\n")
    return root


def test_flake_hosts_in_every_spelling(tmp_path):
    flake = write(tmp_path / "flake.nix", FLAKE + "\n")
    assert flake_hosts(str(flake)) == ("laptop", "server", "media.box")
    other = write(tmp_path / "parts" / "flake.nix",
                  "{ outputs = inputs: { flake.nixosConfigurations.desk = inputs.x; }; }\n")
    assert flake_hosts(str(other)) == ("desk",)
    assert flake_hosts(str(tmp_path / "missing.nix")) == ()


def test_host_name_matches_the_flakes_spelling():
    names = ("laptop", "server", "Desk")
    assert choose_host(names, "laptop") == "laptop"
    assert choose_host(names, "laptop.example.org") == "laptop"
    assert choose_host(names, "desk.lan") == "Desk"
    assert choose_host(names, "elsewhere") == "elsewhere"  # nixos-rebuild's own default: the host name


def test_workspace_flake_with_this_host(tmp_path):
    root = flake_workspace(tmp_path / "cfg")
    target = detect_target(str(root / "common.nix"), str(root), hostname="server.example.org")
    assert (target.kind, target.flake, target.host) == ("flake", str(root), "server")
    assert target.describe() == f"{root}#nixosConfigurations.server"
    assert set(target.files) == {str(root / n) for n in ("flake.nix", "hosts/laptop.nix", "common.nix", "hardware.nix")}


def test_settings_choose_the_flake_and_host(tmp_path):
    root = flake_workspace(tmp_path / "cfg")
    assert detect_target(None, None, flake=f"{root}#laptop", hostname="x").host == "laptop"
    assert detect_target(None, None, flake=str(root), host="server", hostname="laptop").host == "server"
    remote = detect_target(None, None, flake="github:alice/nixos-config#desk", target_host="root@desk",
                           build_host="builder")
    assert (remote.flake, remote.host, remote.files) == ("github:alice/nixos-config", "desk", ())
    assert (remote.target_host, remote.build_host) == ("root@desk", "builder")


def test_a_flake_without_nixos_configurations_is_not_the_system(tmp_path, etc_nixos):
    root = tmp_path / "project"
    write(root / "flake.nix", "{ outputs = { self }: { devShells = { }; }; }\n")
    config = write(root / "configuration.nix", "{ }\n")
    target = detect_target(str(config), str(root))
    assert (target.kind, target.config_file) == ("channel", str(config))


def test_etc_nixos_flake_through_a_symlink(tmp_path, etc_nixos):
    real = flake_workspace(tmp_path / "dotfiles")
    (etc_nixos / "flake.nix").symlink_to(real / "flake.nix")
    target = detect_target(None, None, hostname="laptop")
    assert (target.kind, target.flake, target.host) == ("flake", str(real), "laptop")


def test_channel_entry_is_the_configuration_that_imports_the_edited_module(tmp_path, etc_nixos):
    root = tmp_path / "nixos"
    config = write(root / "configuration.nix", "{ imports = [ ./hardware-configuration.nix ./services/web.nix ]; }\n")
    write(root / "hardware-configuration.nix", "{ }\n")
    web = write(root / "services" / "web.nix", "{ services.nginx.enable = true; }\n")
    for edited in (config, web):
        target = detect_target(str(edited), str(root), nixpkgs="/srv/nixpkgs")
        assert (target.kind, target.config_file, target.nixpkgs) == ("channel", str(config), "/srv/nixpkgs")
        assert target.files == (str(config), str(root / "hardware-configuration.nix"), str(web))
    alone = write(tmp_path / "elsewhere" / "test.nix", "{ }\n")
    assert detect_target(str(alone), None).config_file == str(alone)


def test_nothing_open_means_the_systems_configuration(etc_nixos):
    write(etc_nixos / "configuration.nix", "{ }\n")
    target = detect_target()
    assert (target.kind, target.config_file) == ("channel", str(etc_nixos / "configuration.nix"))
    assert target.describe() == f"nixos-config={etc_nixos / 'configuration.nix'}"
