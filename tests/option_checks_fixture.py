"""The small nixpkgs tree of `nixpkgs_fixture.py` plus the modules option and package checks need: a package
list (`environment.systemPackages`), firewall port lists, `attrsOf` submodules (`environment.etc`,
`networking.interfaces`), an `attrsOf anything` (`boot.kernel.sysctl`), an option whose type is a `let` name,
the new names of the fixture's renames, a rename whose new path starts elsewhere (`hardware.opengl.enable`
→ `hardware.graphics.enable`), and freeform submodules: one inline under `attrsOf` with a `freeformType`, one
read from a file of its own (`types.submodule ./grafana-settings.nix`) that declares `freeformType` at its top.
Written the way nixpkgs writes them, and added to `module-list.nix`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from nix_humanity_ls.ide.hover import Sources
from nix_humanity_ls.knowledge.packages import PackageIndex, bundled_index
from nix_humanity_ls.knowledge.vocabulary import bundled_vocabulary
from nix_humanity_ls.nixpkgs.records import StaticIndex
from tests.nixpkgs_fixture import MODULE_LIST, write_tree

SYSTEM = """\
{ config, lib, pkgs, ... }:

let
  inherit (lib) mkOption types;
  settingsType = types.attrsOf types.str;
in
{
  imports = [
    (lib.mkRenamedOptionModule [ "hardware" "opengl" "enable" ] [ "hardware" "graphics" "enable" ])
  ];

  options = {
    environment.systemPackages = mkOption {
      type = types.listOf types.package;
      default = [ ];
      description = "The set of packages that appear in /run/current-system/sw.";
    };

    environment.etc = mkOption {
      default = { };
      type = types.attrsOf (types.submodule ({ name, ... }: {
        options = {
          text = mkOption {
            type = types.nullOr types.lines;
            default = null;
            description = "Text of the file.";
          };
          mode = mkOption {
            type = types.str;
            default = "symlink";
            description = "The mode of the copied file.";
          };
        };
      }));
      description = "Set of files that have to be linked in /etc.";
    };

    networking.firewall.allowedTCPPorts = mkOption {
      type = types.listOf types.port;
      default = [ ];
      description = "List of TCP ports on which incoming connections are accepted.";
    };

    networking.interfaces = mkOption {
      default = { };
      type = with types; attrsOf (submodule {
        options.useDHCP = mkOption {
          type = types.nullOr types.bool;
          default = null;
          description = "Whether this interface should be configured with DHCP.";
        };
      });
      description = "The configuration for each network interface.";
    };

    networking.hostName = mkOption {
      type = types.strMatching "^$|^[[:alnum:]]([[:alnum:]_-]{0,61}[[:alnum:]])?$";
      default = config.system.nixos.distroName;
      description = "The name of the machine.";
    };

    boot.kernel.sysctl = mkOption {
      type = types.attrsOf types.anything;
      default = { };
      description = "Runtime parameters of the Linux kernel.";
    };

    networking.ipv6.enable = mkOption {
      type = types.bool;
      default = true;
      description = "Whether to enable support for IPv6.";
    };

    services.xserver.xkb.layout = mkOption {
      type = types.str;
      default = "us";
      description = "X keyboard layout, or multiple keyboard layouts separated by commas.";
    };

    hardware.graphics.enable = mkOption {
      type = types.bool;
      default = false;
      description = "Whether to enable hardware accelerated graphics drivers.";
    };

    programs.bar.settings = mkOption {
      type = settingsType;
      default = { };
      description = "Settings whose type is a name bound above.";
    };

    time.timeZone = mkOption {
      type = types.nullOr types.str;
      default = null;
      description = "The time zone used when displaying times and dates.";
    };

    services.blocky.instances = mkOption {
      default = { };
      type = types.attrsOf (types.submodule ({ name, ... }: {
        freeformType = with types; attrsOf anything;
        options.port = mkOption {
          type = types.port;
          default = 4000;
          description = "Port the instance listens on.";
        };
      }));
      description = "Instances, each with any further settings.";
    };

    services.grafana.settings = mkOption {
      default = { };
      type = types.submodule ./grafana-settings.nix;
      description = "Grafana settings, written to grafana.ini.";
    };

    users.users = mkOption {
      type = types.attrsOf (types.submodule {
        options.packages = mkOption {
          type = types.listOf types.package;
          default = [ ];
          description = "The set of packages that should be made available to the user.";
        };
      });
    };
  };
}
"""

GRAFANA_SETTINGS = """\
{ lib, ... }:
{
  freeformType = lib.types.attrsOf (lib.types.attrsOf lib.types.anything);

  options.server.http_port = lib.mkOption {
    type = lib.types.port;
    default = 3000;
    description = "Port to listen on.";
  };
}
"""


def write_checks_tree(root: Path) -> Path:
    """`write_tree` with the module above listed in `module-list.nix`."""
    write_tree(root)
    (root / "nixos/modules/config/system.nix").write_text(SYSTEM, encoding="utf-8")
    (root / "nixos/modules/config/grafana-settings.nix").write_text(GRAFANA_SETTINGS, encoding="utf-8")
    (root / "nixos/modules/module-list.nix").write_text(
        MODULE_LIST.replace("[\n", "[\n  ./config/system.nix\n", 1), encoding="utf-8")
    return root


def nix_accepts(text: str) -> None:
    """The real `nix-instantiate --parse` reads `text` (skips the test where Nix is not installed)."""
    nix = shutil.which("nix-instantiate")
    if nix is None:
        pytest.skip("nix-instantiate is not installed")
    result = subprocess.run([nix, "--parse", "-"], input=text, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr



def checks_sources(index: StaticIndex) -> Sources:
    """What the editor checks against with this tree indexed: its options, its packages before the bundled."""
    return Sources(bundled_vocabulary(), PackageIndex([index.packages, *bundled_index().sources]), index.options,
                   Path(index.root))
