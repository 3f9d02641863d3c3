"""Generate realistic NixOS configurations of a chosen number of lines, for benchmarks and tests.

    python -m bench.generate 1000 > configuration.nix      # print one (about 1,000 lines)
    python -m bench.generate 10000 --check                 # also verify it with nix-instantiate and tree-sitter

The output is one `{ config, lib, pkgs, ... }:` module with a `let … in`, comments, imports, dotted
boot/networking/time/i18n options, a nested `services = { … };` set, and then "tenant" blocks repeated with
varying names until the size is reached: `users.users.<name>`, nginx virtual hosts with `''` strings and
`${}`, `systemd.services.<n>`, timers under `lib.mkIf`, firewall port lists, `fileSystems."/srv/<name>"`,
`/etc` files and NixOS containers (whose `config` repeats `services = { nginx = { … }; };` in nested form).
The text is ASCII only, deterministic for a given (lines, seed), never defines an attribute twice, and
parses cleanly with both `nix-instantiate --parse` and tree-sitter-nix (see `check`).

A 10,000-line file is about 218 kB; the line count is exact (`len(text.splitlines()) == lines`) for any
request of 95 lines or more (the fixed header and footer); a smaller request gets that 95-line module.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import subprocess
import sys
from collections.abc import Callable

FIRST = [
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "niaj",
    "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yolanda",
]
APPS = [
    "grafana", "gitea", "wiki", "shop", "api", "chat", "docs", "status", "files", "ci", "blog", "metrics",
    "auth", "search", "mail", "media",
]
PACKAGES = [
    "vim", "git", "wget", "curl", "htop", "tmux", "ripgrep", "fd", "jq", "tree", "unzip", "file", "rsync",
    "gnupg", "openssl", "python3", "nodejs", "go", "rustup", "gcc", "gnumake", "direnv", "fzf", "bat", "ncdu",
    "pciutils", "usbutils", "lsof", "strace", "dig", "nmap", "iperf3", "mtr", "tcpdump", "sqlite",
    "postgresql", "redis", "docker-compose", "kubectl", "terraform", "ansible", "shellcheck", "nixfmt-classic",
    "firefox", "thunderbird", "libreoffice", "vlc", "gimp", "inkscape", "keepassxc", "signal-desktop",
]
GROUPS = ["wheel", "networkmanager", "audio", "video", "docker", "libvirtd", "dialout", "input"]
FS_TYPES = ["ext4", "xfs", "btrfs"]


def _name(i: int) -> str:
    return FIRST[i % len(FIRST)] + (str(i // len(FIRST)) if i >= len(FIRST) else "")


def _header(rng: random.Random) -> list[str]:
    return f"""\
# Edit this configuration file to define what should be installed on
# your system. Help is available in the configuration.nix(5) man page
# and in the NixOS manual (accessible by running `nixos-help`).
#
# Generated for benchmarks: the tenants below are made up.

{{ config, lib, pkgs, ... }}:

let
  domain = "example.org";
  adminEmail = "admin@${{domain}}";
  backupRoot = "/var/backup";
  # Keys allowed to log in as any tenant (rotated yearly).
  sshKeys = [
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKq0 alice@laptop"
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBz9 ops@bastion"
  ];
  mkVhost = name: port: {{
    forceSSL = true;
    enableACME = true;
    locations."/".proxyPass = "http://127.0.0.1:${{toString port}}";
  }};
in
{{
  imports = [
    # Include the results of the hardware scan.
    ./hardware-configuration.nix
    ./modules/monitoring.nix
  ];

  # Use the systemd-boot EFI boot loader.
  boot.loader.systemd-boot.enable = true;
  boot.loader.efi.canTouchEfiVariables = true;
  boot.kernelPackages = pkgs.linuxPackages_latest;
  boot.kernelParams = [ "quiet" "splash" ];
  boot.initrd.availableKernelModules = [ "xhci_pci" "ahci" "nvme" "sd_mod" ];

  networking.hostName = "bench";
  networking.domain = domain;
  networking.networkmanager.enable = true;
  networking.firewall.enable = true;
  networking.firewall.allowedTCPPorts = [ 22 80 443 ];
  networking.firewall.allowedUDPPorts = [ 53 ];

  # Set your time zone.
  time.timeZone = "Europe/Amsterdam";

  # Select internationalisation properties.
  i18n.defaultLocale = "en_US.UTF-8";
  i18n.extraLocaleSettings = {{
    LC_TIME = "en_GB.UTF-8";
    LC_MONETARY = "nl_NL.UTF-8";
  }};
  console.keyMap = "us";

  services = {{
    openssh = {{
      enable = true;
      settings.PasswordAuthentication = false;
      settings.PermitRootLogin = "no";
    }};
    nginx = {{
      enable = true;
      recommendedProxySettings = true;
      recommendedTlsSettings = true;
      virtualHosts."${{domain}}" = mkVhost domain 3000;
    }};
    postgresql = lib.mkIf config.services.nginx.enable {{
      enable = true;
      package = pkgs.postgresql_15;
    }};
  }};

  security.acme.acceptTerms = true;
  security.acme.defaults.email = adminEmail;

  environment.systemPackages = with pkgs; [
{_package_lines(rng, 12, "    ")}
  ];
""".splitlines()


def _list(items: list[str], indent: str) -> str:
    """A list in nixfmt style: one element inline, several one per line."""
    if len(items) == 1:
        return f"[ {items[0]} ]"
    return "[\n" + "".join(f"{indent}  {item}\n" for item in items) + f"{indent}]"


def _package_lines(rng: random.Random, count: int, indent: str) -> str:
    return "\n".join(indent + p for p in rng.sample(PACKAGES, count))


def _user(i: int, rng: random.Random) -> list[str]:
    name = _name(i)
    groups = _list([f'"{g}"' for g in rng.sample(GROUPS, rng.randint(1, 4))], "    ")
    lines = [
        f"  # {name.capitalize()}'s account.",
        f"  users.users.{name} = {{",
        "    isNormalUser = true;",
        f'    description = "{name.capitalize()} of team {APPS[i % len(APPS)]}";',
        f"    extraGroups = {groups};",
        f"    uid = {1000 + i};",
        "    openssh.authorizedKeys.keys = sshKeys;",
        "    packages = with pkgs; [",
        _package_lines(rng, rng.randint(6, 12), "      "),
        "    ];",
        "  };",
    ]
    return "\n".join(lines).splitlines()


def _vhost(i: int, rng: random.Random) -> list[str]:
    name, app = _name(i), APPS[i % len(APPS)]
    port = 8000 + i
    websockets = "      proxyWebsockets = true;\n" if rng.random() < 0.5 else ""
    return f"""\
  services.nginx.virtualHosts."{app}-{name}.${{domain}}" = {{
    forceSSL = true;
    enableACME = true;
    locations."/" = {{
      proxyPass = "http://127.0.0.1:{port}";
{websockets}      extraConfig = ''
        client_max_body_size {rng.choice([10, 50, 100])}m;
      '';
    }};
    locations."/static/".alias = "/srv/{name}/static/";
  }};""".splitlines()


def _service(i: int, rng: random.Random) -> list[str]:
    name, app = _name(i), APPS[i % len(APPS)]
    return f"""\
  systemd.services.{app}-{name} = {{
    description = "{app} for {name}";
    after = [
      "network.target"
      "postgresql.service"
    ];
    wantedBy = [ "multi-user.target" ];
    environment = {{
      PORT = toString {8000 + i};
    }};
    serviceConfig = {{
      User = "{name}";
      Restart = "on-failure";
      RestartSec = {rng.choice([2, 5, 10])};
      StateDirectory = "{app}-{name}";
    }};
    script = ''
      exec ${{pkgs.python3}}/bin/python -m {app} \\
        --port {8000 + i}
    '';
  }};""".splitlines()


def _timer(i: int, rng: random.Random) -> list[str]:
    name = _name(i)
    comment = "  # Nightly backups, only with a database.\n" if i % 3 == 0 else ""
    return f"""\
{comment}  systemd.timers.backup-{name} =
    lib.mkIf config.services.postgresql.enable {{
      wantedBy = [ "timers.target" ];
      timerConfig = {{
        OnCalendar = "0{rng.randint(1, 5)}:{rng.randint(10, 59)}";
        Persistent = true;
      }};
    }};""".splitlines()


def _firewall(i: int, rng: random.Random) -> list[str]:
    ports = _list([str(p) for p in sorted(rng.sample(range(9000, 9999), rng.randint(2, 6)))], "    ")
    lines = [
        f'  networking.firewall.interfaces."veth{i}" = {{',
        f"    allowedTCPPorts = {ports};",
        f"    allowedUDPPorts = [ {5000 + i} ];",
        "  };",
    ]
    return "\n".join(lines).splitlines()


def _filesystem(i: int, rng: random.Random) -> list[str]:
    name = _name(i)
    return f"""\
  fileSystems."/srv/{name}" = {{
    device = "/dev/disk/by-label/{name}";
    fsType = "{rng.choice(FS_TYPES)}";
    options = [
      "noatime"
      "nofail"
    ];
  }};""".splitlines()


def _etc(i: int, rng: random.Random) -> list[str]:
    name, app = _name(i), APPS[i % len(APPS)]
    return f"""\
  environment.etc."{app}/{name}.toml".text = ''
    [server]
    host = "{app}-{name}.${{domain}}"
    admin = "${{adminEmail}}"
    backup = "${{backupRoot}}/{name}"
  '';""".splitlines()


def _container(i: int, rng: random.Random) -> list[str]:
    name = _name(i)
    return f"""\
  containers.{name} = {{
    autoStart = {"true" if rng.random() < 0.7 else "false"};
    privateNetwork = true;
    hostAddress = "10.{i // 250}.{i % 250}.1";
    localAddress = "10.{i // 250}.{i % 250}.2";
    config = {{ config, pkgs, ... }}: {{
      services = {{
        nginx = {{
          enable = true;
          virtualHosts."{name}.internal" = {{
            root = "/var/www/{name}";
          }};
        }};
      }};
      environment.systemPackages = with pkgs; [
{_package_lines(rng, rng.randint(6, 12), "        ")}
      ];
      system.stateVersion = "24.05";
    }};
  }};""".splitlines()


_BLOCKS: list[Callable[[int, random.Random], list[str]]] = [
    _user, _vhost, _service, _timer, _firewall, _filesystem, _etc, _container,
]

_FOOTER = [
    "",
    "  # This value determines the NixOS release from which the default",
    "  # settings for stateful data were taken. Leave it as it is.",
    '  system.stateVersion = "24.05"; # Did you read the comment?',
    "}",
]


def _host_line(j: int) -> str:
    """A one-line unique binding used to reach the exact line count."""
    return f'  networking.hosts."10.99.{j // 250}.{j % 250 + 1}" = [ "node{j}.lan" ];'


def generate(lines: int, seed: int = 0) -> str:
    """A NixOS module of `lines` lines (exact for `lines >= 95`; smaller requests get the 95-line minimum)."""
    rng = random.Random(seed)
    out = _header(rng)
    budget = lines - len(_FOOTER)
    i = 0
    while True:
        block = ["", f"  # --- tenant {_name(i)} ---"]
        for make in _BLOCKS:
            block += make(i, rng)
        if len(out) + len(block) > budget:
            break
        out += block
        i += 1
    # fill what is left with whole blocks that still fit, then one-line host entries
    for make in _BLOCKS:
        part = make(i, rng)
        if len(out) + len(part) <= budget:
            out += part
    j = 0
    while len(out) < budget:
        out.append(_host_line(j))
        j += 1
    return "\n".join(out + _FOOTER) + "\n"


# -- checking ------------------------------------------------------------------------------------------


def tree_sitter_ok(text: str) -> bool:
    import tree_sitter
    import tree_sitter_nix

    tree = tree_sitter.Parser(tree_sitter.Language(tree_sitter_nix.language())).parse(text.encode())
    return not tree.root_node.has_error


def nix_parse_ok(text: str, nix_instantiate: str = "nix-instantiate") -> tuple[bool, str] | None:
    """(accepted, stderr) from `nix-instantiate --parse -`, or None when Nix is not installed."""
    exe = shutil.which(nix_instantiate)
    if exe is None:
        return None
    proc = subprocess.run([exe, "--parse", "-"], input=text.encode(), capture_output=True, timeout=60)
    return proc.returncode == 0, proc.stderr.decode(errors="replace")


def check(text: str) -> None:
    """Raise AssertionError unless tree-sitter and (when installed) Nix both accept `text`."""
    assert tree_sitter_ok(text), "tree-sitter-nix found a syntax error in the generated configuration"
    verdict = nix_parse_ok(text)
    if verdict is not None:
        ok, err = verdict
        assert ok, f"nix-instantiate --parse rejected the generated configuration: {err.strip()[:500]}"


# -- edit targets ---------------------------------------------------------------------------------------

_STRING_LINE = re.compile(r'^\s+[A-Za-z.]+ = "(?=[A-Za-z]{3})')
_IDENT_LINE = re.compile(r"^(\s+)([A-Za-z]{6,}) = ")


def edit_target(text: str, kind: str = "string") -> tuple[int, int]:
    """(line, character) nearest the middle line where one inserted letter keeps the file valid:
    inside a string such as `description = "…"` (`kind="string"`) or inside an attribute name (`kind="identifier"`).
    The text is ASCII, so the character is the same in UTF-8, UTF-16 and UTF-32."""
    lines = text.splitlines()
    pattern = _STRING_LINE if kind == "string" else _IDENT_LINE
    middle = len(lines) // 2
    for n in sorted(range(len(lines)), key=lambda k: (abs(k - middle), k)):
        match = pattern.match(lines[n])
        if match:
            return (n, match.end() + 2) if kind == "string" else (n, match.start(2) + 3)
    raise ValueError(f"no {kind} to edit in the generated text")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n\n")[0])
    ap.add_argument("lines", type=int, nargs="?", default=1000, help="number of lines (default: 1000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--check", action="store_true", help="verify with tree-sitter and nix-instantiate --parse")
    args = ap.parse_args(argv)
    text = generate(args.lines, args.seed)
    if args.check:
        check(text)
        print(f"ok: {len(text.splitlines())} lines, {len(text.encode())} bytes", file=sys.stderr)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
