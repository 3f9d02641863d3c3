"""What `ask` changes *means*, checked by evaluating the files with the real Nix.

Each case is (starting file, request, expected meaning). The starting file and the edited file are both
evaluated with `nix-instantiate --eval --strict --json` against stub arguments (`pkgs` whose attributes are
the package names in `ask_support.PACKAGES`, each evaluating to a set that prints as "pkg:<name>"; a `lib`
whose `mkIf`/`mkForce`/`mkMerge`/… reduce to plain data; `config = { }`). The expected meaning is a *delta*:
a few `Set`/`Add`/`Remove` operations on the evaluated starting configuration. The edited configuration must
equal that — everything else must evaluate exactly as before. Lists compare as multisets (order is not
meaning; a duplicate is).

On top of the delta, every proposed edit must pass `nix-instantiate --parse`, and every unfree package the
result installs (or enables, like steam) must be allowed by `allowUnfree` or `allowUnfreePredicate`.

Requests that must not change anything (noop, ambiguous, not understood, error) must leave the bytes alone.

All files are evaluated in one `nix-instantiate` call (per-file calls only when that batch fails, to say which
file broke), so the whole module takes a few seconds.

Cases marked `xfail` (strict) are known problems outside the edit engine (resolve.py, ask.py), with the reason;
when one is fixed the case XPASSes and fails the run, so remove its mark then.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from collections import Counter
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from nix_humanity_ls.ide.ask import AskResult
from tests.ask_support import PACKAGES, UNFREE, ask_knowledge, run_ask
from tests.conftest import ROOT

NIX_INSTANTIATE = shutil.which("nix-instantiate")
pytestmark = pytest.mark.skipif(NIX_INSTANTIATE is None, reason="nix-instantiate is not installed")

# -- the stub evaluation ---------------------------------------------------------------------------------

DRIVER = r"""
{ files, packages, unfree }:
let
  mkPkg = n: { __pkg = n; pname = n; name = n; };
  pkgs = builtins.listToAttrs (map (n: { name = n; value = mkPkg n; }) packages);
  # `mkIf false x` contributes nothing: an empty list where x is a list, an empty set where it is a set
  emptyLike = v: if builtins.isList v then [ ] else if builtins.isAttrs v then { } else null;
  merge = a: b:
    if builtins.isAttrs a && builtins.isAttrs b && !(a ? __pkg) then
      a // builtins.mapAttrs (n: v: if builtins.hasAttr n a then merge a.${n} v else v) b
    else if builtins.isList a && builtins.isList b then a ++ b
    else b;
  lib = {
    mkIf = c: v: if c then v else emptyLike v;
    mkDefault = v: v; mkForce = v: v; mkOverride = _: v: v; mkOptionDefault = v: v;
    mkBefore = v: v; mkAfter = v: v; mkOrder = _: v: v;
    mkMerge = vs: if vs == [ ] then { } else builtins.foldl' merge (builtins.head vs) (builtins.tail vs);
    optionals = c: l: if c then l else [ ];
    optional = c: x: if c then [ x ] else [ ];
    optionalAttrs = c: s: if c then s else { };
    getName = p: if builtins.isAttrs p then p.pname else p;
  };
  args = { inherit pkgs lib; config = { }; options = { }; modulesPath = "/modules"; };
  call = m:
    if builtins.isFunction m then
      (let fa = builtins.functionArgs m; in m (if fa == { } then args else builtins.intersectAttrs fa args))
    else m;
  sanitize = v:
    let t = builtins.typeOf v; in
    if t == "set" then (if v ? __pkg then "pkg:${v.__pkg}" else builtins.mapAttrs (_: sanitize) v)
    else if t == "list" then map sanitize v
    else if t == "lambda" then "<function>"
    else if t == "path" then "<path>"
    else v;
  unfreeOk = cfg: n:
    let c = (cfg.nixpkgs or { }).config or { }; in
    (c.allowUnfree or false) == true || (c.allowUnfreePredicate or (_: false)) pkgs.${n};
  one = f:
    let cfg = call (import f); in
    { config = sanitize cfg; unfree = builtins.listToAttrs (map (n: { name = n; value = unfreeOk cfg n; }) unfree); };
in
map one files
"""


def _nix_list(items: Sequence[str]) -> str:
    return "[ " + " ".join(json.dumps(i) for i in items) + " ]"


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def _evaluate(files: Sequence[Path], workdir: Path) -> subprocess.CompletedProcess[str]:
    (workdir / "driver.nix").write_text(DRIVER)
    expression = (
        f"import ./driver.nix {{ files = [ {' '.join(str(f) for f in files)} ]; "
        f"packages = {_nix_list(PACKAGES)}; unfree = {_nix_list(UNFREE)}; }}"
    )
    assert NIX_INSTANTIATE is not None
    return _run([NIX_INSTANTIATE, "--eval", "--strict", "--json", "-E", expression], workdir)


def evaluate_many(files: Sequence[Path], workdir: Path) -> list[dict[str, Any] | str]:
    """The evaluated configuration (and unfree verdicts) of each file, or Nix's error text for it."""
    if not files:
        return []
    batch = _evaluate(files, workdir)
    if batch.returncode == 0:
        return json.loads(batch.stdout)

    def single(path: Path) -> dict[str, Any] | str:
        done = _evaluate([path], workdir)
        return json.loads(done.stdout)[0] if done.returncode == 0 else done.stderr.strip()

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(single, files))


def parse_many(files: Sequence[Path], workdir: Path) -> list[str | None]:
    """`nix-instantiate --parse` on each file: None when Nix accepts it, else its message."""
    assert NIX_INSTANTIATE is not None
    if not files:
        return []
    if _run([NIX_INSTANTIATE, "--parse", *map(str, files)], workdir).returncode == 0:
        return [None] * len(files)

    def single(path: Path) -> str | None:
        done = _run([NIX_INSTANTIATE, "--parse", str(path)], workdir)
        return None if done.returncode == 0 else done.stderr.strip()

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(single, files))


# -- expected meaning: a delta on the evaluated starting configuration -------------------------------------


@dataclass(frozen=True)
class Set:
    """Option `path` (dotted) evaluates to `value`."""

    path: str
    value: Any


@dataclass(frozen=True)
class Add:
    """List option `path` holds `items` too (each once), and still everything it held."""

    path: str
    items: tuple[Any, ...]


@dataclass(frozen=True)
class Remove:
    """List option `path` no longer holds `items`; everything else it held is still there."""

    path: str
    items: tuple[Any, ...]


@dataclass(frozen=True)
class Off:
    """A switch that is off by default is off: set to false when the file sets it, else left unset."""

    path: str


Op = Set | Add | Remove | Off


def add(path: str, *items: Any) -> Add:
    return Add(path, items)


def remove(path: str, *items: Any) -> Remove:
    return Remove(path, items)


def pkgs_added(*names: str) -> Add:
    return Add("environment.systemPackages", tuple(f"pkg:{n}" for n in names))


def pkgs_removed(*names: str) -> Remove:
    return Remove("environment.systemPackages", tuple(f"pkg:{n}" for n in names))


def on(path: str) -> Set:
    return Set(path, True)


def _walk(config: dict[str, Any], path: str, create: bool) -> tuple[dict[str, Any] | None, str]:
    *parents, last = path.split(".")
    node: Any = config
    for name in parents:
        if not isinstance(node, dict):
            return None, last
        if name not in node:
            if not create:
                return None, last
            node[name] = {}
        node = node[name]
    return (node if isinstance(node, dict) else None), last


def apply_delta(before: dict[str, Any], ops: Sequence[Op]) -> dict[str, Any]:
    after = copy.deepcopy(before)
    for op in ops:
        if isinstance(op, Off):
            parent, last = _walk(after, op.path, create=False)
            if parent is not None and last in parent:
                parent[last] = False
            continue
        parent, last = _walk(after, op.path, create=True)
        assert parent is not None, f"{op.path} goes through a value that is not a set"
        if isinstance(op, Set):
            parent[last] = op.value
        elif isinstance(op, Add):
            current = list(parent.get(last, []))
            parent[last] = current + [item for item in op.items if item not in current]
        else:
            parent[last] = [item for item in parent.get(last, []) if item not in op.items]
    return after


def normalise(value: Any) -> Any:
    """Lists as sorted multisets: the order of packages or ports is not part of the meaning."""
    if isinstance(value, dict):
        return {key: normalise(item) for key, item in value.items()}
    if isinstance(value, list):
        return sorted((normalise(item) for item in value), key=lambda item: json.dumps(item, sort_keys=True))
    return value


def differences(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Readable list of where two normalised configurations differ."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        found = []
        for key in sorted(set(expected) | set(actual)):
            where = f"{path}.{key}" if path else key
            if key not in actual:
                found.append(f"{where}: expected {json.dumps(expected[key])}, missing")
            elif key not in expected:
                found.append(f"{where}: unexpected {json.dumps(actual[key])}")
            else:
                found.extend(differences(expected[key], actual[key], where))
        return found
    if expected != actual:
        return [f"{path}: expected {json.dumps(expected)}, evaluated {json.dumps(actual)}"]
    return []


def installed_unfree(config: dict[str, Any], unfree: Collection[str] = UNFREE) -> set[str]:
    """Unfree packages the configuration would build: in any package list, or steam through programs.steam."""
    found: set[str] = set()
    stack: list[Any] = [config]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str) and value.startswith("pkg:") and value[4:] in unfree:
            found.add(value[4:])
    if config.get("programs", {}).get("steam", {}).get("enable") is True:
        found.add("steam")
    return found


# -- starting files ---------------------------------------------------------------------------------------

FILES: dict[str, str] = {
    # the NixOS installer's configuration.nix, with its commented-out lines
    "installer": (ROOT / "examples" / "configuration.nix").read_text("utf-8"),
    "dotted": """{ config, pkgs, ... }:

{
  imports = [ ./hardware-configuration.nix ];

  boot.loader.systemd-boot.enable = true;

  networking.hostName = "dotted";
  networking.firewall.allowedTCPPorts = [ 22 80 ];

  time.timeZone = "UTC";

  services.openssh.enable = true;
  services.printing.enable = false;

  users.users.bob.isNormalUser = true;
  users.users.bob.extraGroups = [ "wheel" ];

  environment.systemPackages = with pkgs; [ git vim ];

  system.stateVersion = "24.05";
}
""",
    "nested": """{ config, lib, pkgs, ... }:

{
  services = {
    openssh = {
      enable = true;
      settings.PasswordAuthentication = false;
    };
    printing.enable = false;
  };

  networking = {
    hostName = "nested";
    firewall = {
      enable = true;
      allowedTCPPorts = [ 22 ];
    };
  };

  environment = {
    systemPackages = with pkgs; [
      git
      htop
    ];
  };

  users.users = {
    carol = {
      isNormalUser = true;
      extraGroups = [ "wheel" "networkmanager" ];
    };
  };

  nix = {
    settings = {
      experimental-features = [ "nix-command" ];
    };
  };

  programs = { zsh.enable = true; };
}
""",
    "perline4": """{ pkgs, ... }:
{
    environment.systemPackages = [
        pkgs.wget
        pkgs.curl
        pkgs.git
    ];

    virtualisation.docker.enable = true;

    users.users.dan = {
        isNormalUser = true;
        extraGroups = [ "wheel" "docker" ];
    };
}
""",
    "concat": """{ config, pkgs, lib, ... }:
{
  environment.systemPackages = (with pkgs; [ git vim ]) ++ (with pkgs; [ firefox ]) ++ [ pkgs.curl ];
  networking.firewall.allowedUDPPorts = [ 53 ];
}
""",
    "letlists": """{ pkgs, ... }:
let
  devTools = with pkgs; [
    git
    ripgrep
  ];
  webPorts = [ 80 443 ];
in
{
  environment.systemPackages = devTools ++ [ pkgs.vim ];
  networking.firewall.allowedTCPPorts = webPorts;
  services.nginx.enable = true;
}
""",
    # one `let` list used by two options: adding a TCP port must not open it for UDP too
    "sharedlet": """{ pkgs, ... }:
let
  ports = [ 9000 ];
in
{
  networking.firewall.allowedTCPPorts = ports;
  networking.firewall.allowedUDPPorts = ports;
}
""",
    "mkif": """{ config, lib, pkgs, ... }:
{
  services.openssh = lib.mkIf true {
    enable = true;
    ports = [ 22 ];
  };
  environment.systemPackages = lib.mkIf true (with pkgs; [ git ]);
  networking.firewall.allowedTCPPorts = lib.mkIf true [ 22 ];
  hardware.bluetooth.enable = lib.mkDefault false;
}
""",
    "mkmerge": """{ lib, ... }:
{
  networking.firewall = lib.mkMerge [
    { enable = true; }
    { allowedTCPPorts = [ 22 ]; }
  ];
}
""",
    # a list that is not a literal: a function builds it
    "optionals": """{ lib, pkgs, ... }:
{
  environment.systemPackages = lib.optionals true [ pkgs.git ];
  networking.firewall.allowedTCPPorts = lib.optional true 22;
}
""",
    "letmodule": """{ config, pkgs, ... }:

let
  hostname = "lethost";
in
{
  networking.hostName = hostname;
  environment.systemPackages = with pkgs; [ wget ];
}
""",
    "oneline": "{ pkgs, ... }: { environment.systemPackages = [ pkgs.git ]; services.openssh.enable = true; }\n",
    "empty": "{ }\n",
    "emptyfn": "{ config, pkgs, ... }:\n\n{\n}\n",
    "emptyfn1": "{ pkgs, ... }: { }",
    "bare": "{\n  services.openssh.enable = true;\n  time.timeZone = \"UTC\";\n}\n",
    "nopkgs": "{ config, ... }:\n{\n  services.openssh.enable = true;\n}\n",
    "tabs": "{ config, pkgs, ... }:\n{\n\tservices = {\n\t\topenssh.enable = true;\n\t};\n\n"
    "\tenvironment.systemPackages = with pkgs; [\n\t\tgit\n\t\tvim\n\t];\n}\n",
    "crlf": """# Written on Windows
{ config, pkgs, ... }:
{
  # Packages
  environment.systemPackages = with pkgs; [
    git
    vim
  ];

  # Enable the OpenSSH daemon.
  # services.openssh.enable = true;

  networking.hostName = "crlf";
  system.stateVersion = "24.05";
}
""".replace("\n", "\r\n"),
    "unicode": """# Konfiguration für Zoë — ✓ 日本語 🎉
{ config, pkgs, ... }:
{
  users.users.zoe = {
    isNormalUser = true;
    description = "Zoë Ünlü 🎉";
  };
  networking.hostName = "zoe"; # Rechnername: „zoe“
  environment.systemPackages = with pkgs; [ git ]; # Pakete für Zoë
  services.printing.enable = true; # Drucker ✓
}
""",
    "forced": """{ config, lib, pkgs, ... }:
{
  services.openssh.enable = lib.mkForce false;
  time.timeZone = lib.mkDefault "UTC";
  networking.hostName = lib.mkOverride 50 "forced";
  virtualisation.docker.enable = lib.mkForce (false);
  hardware.bluetooth.enable = lib.mkDefault true;
  environment.systemPackages = lib.mkForce (with pkgs; [ git ]);
}
""",
    "unfree": """{ config, pkgs, ... }:
{
  nixpkgs.config.allowUnfree = true;
  environment.systemPackages = with pkgs; [ git vscode ];
}
""",
    "unfreenested": """{ pkgs, ... }:
{
  nixpkgs = {
    config = {
      allowUnfree = true;
    };
  };
  environment.systemPackages = [ pkgs.git ];
}
""",
    "unfreefalse": """{ pkgs, ... }:
{
  nixpkgs.config.allowUnfree = false;
  environment.systemPackages = [ pkgs.git ];
}
""",
    "predicate": """{ config, lib, pkgs, ... }:
{
  nixpkgs.config.allowUnfreePredicate = pkg: builtins.elem (lib.getName pkg) [
    "vscode"
    "steam"
    "steam-unwrapped"
  ];
  environment.systemPackages = with pkgs; [ git ];
}
""",
    # `services` is not a set literal: nothing may be added beside it as `services.x = …;`
    "nonliteral": """{ config, lib, pkgs, ... }:
let
  common = { openssh.enable = true; };
in
{
  services = common;
  environment.systemPackages = with pkgs; [ git ];
}
""",
    "sorted": """{ config, pkgs, ... }:

{
  # Tools, kept in alphabetical order.
  environment.systemPackages = with pkgs; [
    curl # downloads
    git
    htop
    tmux
    wget
  ];
}
""",
    "usersnested": """{ pkgs, ... }:
{
  users = {
    users = {
      eve = {
        isNormalUser = true;
        extraGroups = [ "wheel" ];
      };
      frank = {
        isNormalUser = true;
      };
    };
  };
}
""",
    "ranges": """{ ... }:
{
  networking.firewall = {
    allowedTCPPorts = [ 80 443 ];
    allowedTCPPortRanges = [
      { from = 8000; to = 8010; }
    ];
    allowedUDPPorts = [ 53 ];
  };
}
""",
    "nixsettings": """{ pkgs, ... }:
{
  nix.settings.experimental-features = [ "nix-command" "flakes" ];
  nix.gc = {
    automatic = true;
    dates = "daily";
  };
  system.autoUpgrade.enable = false;
}
""",
    "nestedcomment": """{ config, pkgs, ... }:
{
  services = {
    # openssh.enable = true;
    printing.enable = true;
  };
}
""",
    "withlib": """{ config, lib, pkgs, ... }:
with lib;
{
  services.openssh.enable = mkDefault true;
  environment.systemPackages = with pkgs; [ git ];
}
""",
    "desktop": """{ config, pkgs, ... }:
{
  services.pipewire = {
    enable = true;
    alsa.enable = true;
    pulse.enable = true;
  };
  security.rtkit.enable = true;
  services.tailscale.enable = true;
  programs.steam.enable = true;
  nixpkgs.config.allowUnfree = true;
  hardware.bluetooth.enable = true;
  services.displayManager.sddm.enable = true;
  services.desktopManager.plasma6.enable = true;
  system.autoUpgrade = {
    enable = true;
    allowReboot = false;
  };
  nix.gc = {
    automatic = true;
    dates = "weekly";
  };
  environment.systemPackages = with pkgs; [ firefox git ];
}
""",
    "latestkernel": "{ pkgs, ... }:\n{\n  boot.kernelPackages = pkgs.linuxPackages_latest;\n}\n",
    "opaquesettings": """{ ... }:
let
  settings = { experimental-features = [ "nix-command" "flakes" ]; };
in
{
  nix.settings = settings;
}
""",
    # `with lib;` does not give the module `pkgs`
    "withlibnopkgs": """{ config, lib, ... }:
with lib;
{
  services.openssh.enable = mkDefault true;
}
""",
    # the module is not a set literal at all
    "topmerge": """{ lib, ... }:
lib.mkMerge [
  { services.openssh.enable = true; }
]
""",
    # experimental-features written as one string
    "flakestring": """{ ... }:
{
  nix.settings.experimental-features = "nix-command flakes";
  environment.systemPackages = [ ];
}
""",
    "broken": """{ config, pkgs, ... }:
{
  environment.systemPackages = with pkgs; [ git ;
  services.openssh.enable = true;
}
""",
}
BROKEN = {"broken"}

# -- cases ------------------------------------------------------------------------------------------------


@dataclass
class Case:
    category: str
    file: str
    request: str
    ops: tuple[Op, ...] = ()
    status: str | None = None  # None: "proposed", or "noop" when the delta changes nothing in this file
    candidates: tuple[str, ...] = ()  # words that must appear among the candidates' titles
    pick: int | None = None
    xfail: str | None = None
    id: str = field(default="", compare=False)


CASES: list[Case] = []


def case(category: str, files: str, request: str, *ops: Op, status: str | None = None, pick: int | None = None,
         candidates: Sequence[str] = (), xfail: str | None = None) -> None:
    """One case per file in the space-separated `files`."""
    for name in files.split():
        assert name in FILES, name
        CASES.append(Case(category, name, request, tuple(ops), status, tuple(candidates), pick, xfail))


PACKAGE_FILES = (
    "installer dotted nested perline4 concat letlists mkif letmodule oneline tabs crlf unicode forced sorted "
    "emptyfn empty emptyfn1 nopkgs bare unfree predicate optionals"
)

# install: single packages in every style of file, then several at once
case("install", PACKAGE_FILES, "install htop", pkgs_added("htop"))
case("install", PACKAGE_FILES, "add firefox", pkgs_added("firefox"))
case("install", "installer dotted perline4 concat tabs crlf empty sorted", "install htop and tmux", pkgs_added("htop", "tmux"))
case("install", "installer nested letlists sorted oneline unicode emptyfn1", "add neovim, ripgrep and fd",
     pkgs_added("neovim", "ripgrep", "fd"))
case("install", "dotted perline4 emptyfn", "please install git, wget and curl", pkgs_added("git", "wget", "curl"))
case("install", "installer", "get me vlc plus gimp", pkgs_added("vlc", "gimp"))
case("install", "nested", "I want to install jq", pkgs_added("jq"))
case("install", "dotted", "could you add fzf and zoxide to my configuration?", pkgs_added("fzf", "zoxide"))
case("install", "letmodule mkif", "install python3", pkgs_added("python3"))
case("install", "tabs", "install bat & eza", pkgs_added("bat", "eza"))
case("install", "forced", "install btop", pkgs_added("btop"))
case("install", "installer", "install direnv", on("programs.direnv.enable"))  # a module, not only a package
case("install", "concat letlists", "install chromium, thunderbird and libreoffice",
     pkgs_added("chromium", "thunderbird", "libreoffice"))
case("install", "withlib nestedcomment withlibnopkgs", "install htop", pkgs_added("htop"))
case("install", "flakestring", "install git and tmux", pkgs_added("git", "tmux"))
case("install", "installer dotted", "install htop and remove vim", pkgs_added("htop"), pkgs_removed("vim"))
case("install", "dotted", "install the htop package", pkgs_added("htop"))
case("install", "dotted nested", "I need curl", pkgs_added("curl"))
case("install", "installer", "pls get me gimp thx", pkgs_added("gimp"))
case("install", "perline4", "add pkgs.ripgrep", pkgs_added("ripgrep"))
case("install", "dotted", "I'd like firefox and tmux", pkgs_added("firefox", "tmux"))
case("install", "nested", "add jq to environment.systemPackages", pkgs_added("jq"))
case("install", "installer", "install neovim and enable docker", pkgs_added("neovim"), on("virtualisation.docker.enable"))

# remove
case("remove", "installer dotted concat letlists tabs crlf", "remove vim", pkgs_removed("vim"))
case("remove", "dotted nested perline4 concat letlists oneline unicode sorted forced", "uninstall git", pkgs_removed("git"))
case("remove", "dotted concat tabs", "remove git and vim", pkgs_removed("git", "vim"))
case("remove", "perline4 sorted", "delete wget, curl", pkgs_removed("wget", "curl"))
case("remove", "nested sorted", "get rid of htop", pkgs_removed("htop"))
case("remove", "concat", "remove firefox", pkgs_removed("firefox"))
case("remove", "installer", "drop wget from the system", pkgs_removed("wget"))
case("remove", "optionals", "remove git", status="error")  # cannot see into lib.optionals: not "already so"
case("remove", "withlib", "remove git", pkgs_removed("git"))

# enable / disable
SOUND = (on("services.pipewire.enable"), on("services.pipewire.alsa.enable"), on("services.pipewire.alsa.support32Bit"),
         on("services.pipewire.pulse.enable"), on("security.rtkit.enable"), Set("services.pulseaudio.enable", False))
GC = (on("nix.gc.automatic"), Set("nix.gc.dates", "weekly"), Set("nix.gc.options", "--delete-older-than 14d"))
UNFREE_ON = Set("nixpkgs.config.allowUnfree", True)
case("enable", "installer crlf forced emptyfn empty unicode mkmerge oneline", "enable ssh", on("services.openssh.enable"))
case("enable", "installer dotted nested oneline empty tabs", "turn on docker", on("virtualisation.docker.enable"))
case("enable", "forced", "turn on docker", on("virtualisation.docker.enable"))  # inside `lib.mkForce (false)`
case("enable", "installer nested mkif tabs", "enable bluetooth", on("hardware.bluetooth.enable"))
case("enable", "installer dotted nested empty", "enable sound", *SOUND)
case("enable", "installer dotted nested", "enable printing", on("services.printing.enable"))
case("enable", "dotted nested tabs crlf", "enable tailscale", on("services.tailscale.enable"))
case("enable", "installer dotted", "enable steam", on("programs.steam.enable"), UNFREE_ON)
case("enable", "unfree predicate", "enable steam", on("programs.steam.enable"))
case("enable", "unfreefalse", "enable steam", on("programs.steam.enable"), UNFREE_ON)
case("enable", "installer dotted nested empty", "enable flakes", add("nix.settings.experimental-features", "nix-command", "flakes"))
case("enable", "installer nested", "enable garbage collection", *GC)
case("enable", "dotted nixsettings", "enable automatic upgrades", on("system.autoUpgrade.enable"))
case("enable", "installer unfreefalse predicate", "allow unfree packages", UNFREE_ON)
case("enable", "dotted", "enable networkmanager", on("networking.networkmanager.enable"))
case("enable", "dotted", "enable ssh and docker", on("services.openssh.enable"), on("virtualisation.docker.enable"))
case("enable", "nested", "start using podman and enable zram", on("virtualisation.podman.enable"), on("zramSwap.enable"))
case("enable", "installer", "enable the X11 windowing system", on("services.xserver.enable"))
case("enable", "dotted", "enable gnome", on("services.desktopManager.gnome.enable"), on("services.displayManager.gdm.enable"))
case("enable", "installer", "enable kde plasma", on("services.desktopManager.plasma6.enable"),
     on("services.displayManager.sddm.enable"))
case("enable", "nested", "enable syncthing", on("services.syncthing.enable"))
case("enable", "nested", "enable fish", on("programs.fish.enable"))
case("enable", "usersnested", "set up avahi", on("services.avahi.enable"), on("services.avahi.nssmdns4"),
     on("services.avahi.openFirewall"))
case("enable", "desktop", "enable sound", *SOUND)  # the rest goes inside `services.pipewire = { … }`
case("enable", "desktop", "install steam and vscode", pkgs_added("vscode"))  # steam is on; unfree allowed
case("enable", "empty nopkgs", "enable mariadb", on("services.mysql.enable"), Set("services.mysql.package", "pkg:mariadb"))
case("enable", "bare withlibnopkgs", "use the latest kernel", Set("boot.kernelPackages", "pkg:linuxPackages_latest"))
case("enable", "nestedcomment", "enable ssh", on("services.openssh.enable"))  # uncommented inside `services`
case("enable", "tabs", "enable printing", on("services.printing.enable"))
case("enable", "withlib", "enable docker and bluetooth", on("virtualisation.docker.enable"), on("hardware.bluetooth.enable"))
case("enable", "topmerge", "enable docker", status="error")  # no set literal to add to
case("enable", "flakestring", "enable flakes", status="error")  # a string, not a list: refused, not guessed
case("enable", "nonliteral", "enable printing", status="error")  # `services = common;` cannot take more
case("disable", "dotted nested mkif oneline tabs", "disable ssh", Off("services.openssh.enable"))
case("disable", "unicode", "turn off printing", Off("services.printing.enable"))
case("disable", "perline4", "stop docker", Off("virtualisation.docker.enable"))
case("disable", "forced", "disable bluetooth", Off("hardware.bluetooth.enable"))
case("disable", "nixsettings", "disable flakes", remove("nix.settings.experimental-features", "flakes"))
case("disable", "nixsettings", "disable garbage collection", Off("nix.gc.automatic"))
case("disable", "installer", "disable networkmanager", Off("networking.networkmanager.enable"))
case("disable", "nested", "disable the firewall", Set("networking.firewall.enable", False))
case("disable", "nested", "Or disable the firewall altogether.", Set("networking.firewall.enable", False))
case("disable", "nested", "turn off the firewall completely", Set("networking.firewall.enable", False))
case("disable", "dotted", "disable the firewall", Set("networking.firewall.enable", False))
case("disable", "withlib", "disable ssh", Off("services.openssh.enable"))  # `mkDefault true` → `mkDefault false`
case("disable", "flakestring", "disable flakes", status="error")
case("disable", "desktop", "disable sound", Off("services.pipewire.enable"))
case("disable", "desktop", "disable tailscale", Off("services.tailscale.enable"))
case("disable", "desktop", "disable steam", Off("programs.steam.enable"))
case("disable", "desktop", "turn off bluetooth", Off("hardware.bluetooth.enable"))
case("disable", "desktop", "disable automatic upgrades", Off("system.autoUpgrade.enable"))
case("disable", "desktop", "disable garbage collection", Off("nix.gc.automatic"))
case("disable", "desktop", "disable kde plasma", Off("services.desktopManager.plasma6.enable"),
     Off("services.displayManager.sddm.enable"))
case("disable", "desktop", "enable ssh and disable bluetooth", on("services.openssh.enable"), Off("hardware.bluetooth.enable"))
case("disable", "desktop", "uninstall steam", Off("programs.steam.enable"))
case("disable", "latestkernel", "stop using the latest kernel", Set("boot.kernelPackages", "pkg:linuxPackages"))
case("disable", "nonliteral", "disable ssh", status="error")
case("disable", "opaquesettings", "disable flakes", status="error")  # `nix.settings` comes from a `let`  # ssh is on inside `common`; `services` can't take more

# ports
TCP, UDP = "networking.firewall.allowedTCPPorts", "networking.firewall.allowedUDPPorts"
TCP_RANGES, UDP_RANGES = "networking.firewall.allowedTCPPortRanges", "networking.firewall.allowedUDPPortRanges"
case("ports", "installer dotted nested letlists sharedlet mkif ranges empty oneline tabs crlf concat unicode optionals",
     "open port 8080", add(TCP, 8080))
case("ports", "mkmerge", "open port 8080", status="error")  # `networking.firewall = lib.mkMerge [ … ]`
case("ports", "installer dotted concat", "open udp port 53", add(UDP, 53))
case("ports", "installer dotted", "open ports 8000-8010", add(TCP_RANGES, {"from": 8000, "to": 8010}))
case("ports", "nested", "open ports 60000 to 61000 udp", add(UDP_RANGES, {"from": 60000, "to": 61000}))
case("ports", "nested", "allow port 3000 in the firewall", add(TCP, 3000))
case("ports", "dotted", "open ports 80 and 443", add(TCP, 80, 443))
case("ports", "nested", "open port 8080 and 8443", add(TCP, 8080, 8443))
case("ports", "installer", "open udp port 5353 and 5354", add(UDP, 5353, 5354))
case("ports", "dotted letlists ranges", "close port 80", remove(TCP, 80))
case("ports", "mkif", "close port 22", remove(TCP, 22))
case("ports", "withlib nestedcomment", "open port 80", add(TCP, 80))
case("ports", "dotted", "open tcp port 80, 443 and 8080", add(TCP, 443, 8080))
case("ports", "nested", "open port 8080 and udp port 5353", add(TCP, 8080), add(UDP, 5353))
case("ports", "ranges", "close port 80 and 443", remove(TCP, 80, 443))
case("ports", "dotted", "open port 53/udp", add(UDP, 53))
case("ports", "nested", "open the ports 60000-61000/udp", add(UDP_RANGES, {"from": 60000, "to": 61000}))
case("ports", "dotted", "close the port 80", remove(TCP, 80))
case("ports", "nested", "please open 8080", add(TCP, 8080))
case("ports", "dotted", "allow incoming connections on port 5432", add(TCP, 5432))
case("ports", "installer", "open the firewall for port 443", add(TCP, 443))
case("ports", "installer", "open port 2222 for ssh and enable ssh", add(TCP, 2222), on("services.openssh.enable"))
case("ports", "dotted", "open port 53 tcp and udp", add(TCP, 53), add(UDP, 53))
case("ports", "concat ranges", "close udp port 53", remove(UDP, 53))
case("ports", "ranges", "close ports 8000-8010", remove(TCP_RANGES, {"from": 8000, "to": 8010}))
case("ports", "sharedlet", "close udp port 9000", status="error")  # the list is shared with TCP
case("ports", "installer", "open port 8080 and enable ssh", add(TCP, 8080), on("services.openssh.enable"))

# settings
BERLIN = Set("time.timeZone", "Europe/Berlin")
case("settings", "installer dotted nested forced empty crlf unicode", "set the time zone to Europe/Berlin", BERLIN)
case("settings", "dotted", "set timezone to america/new_york", Set("time.timeZone", "America/New_York"))
case("settings", "installer dotted nested letmodule forced oneline tabs", "set the hostname to workstation",
     Set("networking.hostName", "workstation"))
case("settings", "installer nested", "set the locale to de_DE.UTF-8", Set("i18n.defaultLocale", "de_DE.UTF-8"))
case("settings", "dotted", "change the language to fr_FR", Set("i18n.defaultLocale", "fr_FR.UTF-8"))
case("settings", "installer dotted nested empty", "set the keyboard layout to de", Set("services.xserver.xkb.layout", "de"))
case("settings", "nested", "set time zone Europe/Berlin", BERLIN)
case("settings", "dotted", "timezone Europe/London", Set("time.timeZone", "Europe/London"))
case("settings", "installer", "rename this computer to thinkpad", Set("networking.hostName", "thinkpad"))
case("settings", "installer", "set the default locale to en_GB.UTF-8", Set("i18n.defaultLocale", "en_GB.UTF-8"))
case("settings", "crlf", "set keyboard layout to us,de", Set("services.xserver.xkb.layout", "us,de"))
case("settings", "emptyfn", "set the hostname to box and the time zone to Europe/Paris",
     Set("networking.hostName", "box"), Set("time.timeZone", "Europe/Paris"))

# users and groups
case("users", "dotted nested empty tabs unicode usersnested emptyfn1", "add user alice", on("users.users.alice.isNormalUser"))
case("users", "usersnested", "create a new user called mallory", on("users.users.mallory.isNormalUser"))
case("users", "installer", "add alice to the docker group", add("users.users.alice.extraGroups", "docker"))
case("users", "dotted", "add bob to the docker group", add("users.users.bob.extraGroups", "docker"))
case("users", "nested", "add carol to the video group", add("users.users.carol.extraGroups", "video"))
case("users", "usersnested", "add frank to group audio", add("users.users.frank.extraGroups", "audio"))
case("users", "perline4", "put dan in the libvirtd group", add("users.users.dan.extraGroups", "libvirtd"))
case("users", "installer", "add alice to the video and audio groups", add("users.users.alice.extraGroups", "video", "audio"))
case("users", "installer", "remove alice from the wheel group", remove("users.users.alice.extraGroups", "wheel"))
case("users", "unicode", "add zoe to the networkmanager group", add("users.users.zoe.extraGroups", "networkmanager"))
case("users", "empty", "add user alice and add alice to the wheel group", on("users.users.alice.isNormalUser"),
     add("users.users.alice.extraGroups", "wheel"))

# unfree: allowUnfree is added only where nothing allows unfree packages yet
case("unfree", "installer dotted empty unfreefalse", "install vscode", pkgs_added("vscode"), UNFREE_ON)
case("unfree", "unfree unfreenested predicate", "install vscode", pkgs_added("vscode"))
case("unfree", "installer", "install spotify and slack", pkgs_added("spotify", "slack"), UNFREE_ON)
case("unfree", "nested", "install firefox and vscode", pkgs_added("firefox", "vscode"), UNFREE_ON)
case("unfree", "unfreenested", "install discord", pkgs_added("discord"))
case("unfree", "predicate", "install discord", pkgs_added("discord"))  # "discord" joins the predicate's list
case("unfree", "unfreefalse", "install git", pkgs_added("git"), status="noop")  # no unfree package, no allowUnfree

# no-ops: asking for what is already so leaves the file alone
NOOP = "noop"
case("noop", "nested sorted", "install htop", pkgs_added("htop"), status=NOOP)
case("noop", "concat", "add firefox", pkgs_added("firefox"), status=NOOP)
case("noop", "perline4", "please install git, wget and curl", pkgs_added("git", "wget", "curl"), status=NOOP)
case("noop", "unfree", "install vscode", pkgs_added("vscode"), status=NOOP)
case("noop", "installer dotted perline4", "remove firefox", pkgs_removed("firefox"), status=NOOP)
case("remove", "installer", "uninstall tree", remove("users.users.alice.packages", "pkg:tree"))
case("noop", "dotted nested mkif oneline bare nopkgs tabs", "enable ssh", on("services.openssh.enable"), status=NOOP)
case("noop", "perline4", "turn on docker", on("virtualisation.docker.enable"), status=NOOP)
case("noop", "forced", "enable bluetooth", on("hardware.bluetooth.enable"), status=NOOP)
case("noop", "unicode", "enable printing", on("services.printing.enable"), status=NOOP)
case("noop", "nixsettings", "enable flakes", add("nix.settings.experimental-features", "nix-command", "flakes"), status=NOOP)
case("noop", "installer", "enable networkmanager", on("networking.networkmanager.enable"), status=NOOP)
case("noop", "letlists", "enable nginx", on("services.nginx.enable"), status=NOOP)
case("noop", "nested", "enable zsh", on("programs.zsh.enable"), status=NOOP)
case("noop", "unfree unfreenested", "allow unfree", UNFREE_ON, status=NOOP)
case("noop", "nixsettings", "enable garbage collection", *GC, status=NOOP)
case("noop", "installer crlf", "disable ssh", Off("services.openssh.enable"), status=NOOP)  # only commented out
case("noop", "forced", "disable ssh", Off("services.openssh.enable"), status=NOOP)
case("noop", "dotted", "turn off printing", Off("services.printing.enable"), status=NOOP)
case("noop", "mkif", "disable bluetooth", Off("hardware.bluetooth.enable"), status=NOOP)
case("noop", "nested", "disable flakes", remove("nix.settings.experimental-features", "flakes"), status=NOOP)
case("noop", "nixsettings", "disable automatic upgrades", Off("system.autoUpgrade.enable"), status=NOOP)
case("noop", "dotted nested mkif", "open port 22", add(TCP, 22), status=NOOP)
case("noop", "letlists ranges", "open tcp port 443", add(TCP, 443), status=NOOP)
case("noop", "concat ranges", "open udp port 53", add(UDP, 53), status=NOOP)
case("noop", "ranges", "open ports 8000-8010", add(TCP_RANGES, {"from": 8000, "to": 8010}), status=NOOP)
case("noop", "nested dotted", "close port 9999", remove(TCP, 9999), status=NOOP)
case("noop", "dotted", "block port 9999", remove(TCP, 9999), status=NOOP)
case("noop", "installer", "set the time zone to Europe/Amsterdam", Set("time.timeZone", "Europe/Amsterdam"), status=NOOP)
case("noop", "nested", "set the hostname to nested", Set("networking.hostName", "nested"), status=NOOP)
case("noop", "installer", "add user alice", on("users.users.alice.isNormalUser"), status=NOOP)
case("noop", "dotted", "add user bob", on("users.users.bob.isNormalUser"), status=NOOP)
case("noop", "dotted", "add bob to the wheel group", add("users.users.bob.extraGroups", "wheel"), status=NOOP)
case("noop", "usersnested", "add eve to the wheel group", add("users.users.eve.extraGroups", "wheel"), status=NOOP)

# bad input: nothing changes
NOT_UNDERSTOOD, AMBIGUOUS, ERROR = "not_understood", "ambiguous", "error"
for words in ("", "   ", "make me a sandwich", "please", "hello there", "install", "instal firefox",
              "install qwertyuiopasdf", "enable frobnicator9000", "open port 70000", "open ports 9000-8000",
              "set the time zone to Mars/Olympus", "set the hostname to bad_name!", "set the locale to klingon",
              "add user al/ice", "add user 9lives"):
    case("bad input", "dotted", words, status=NOT_UNDERSTOOD)
case("users", "dotted", "add user Alice", on("users.users.alice.isNormalUser"))  # user names are lower case
case("noop", "dotted", "add Bob to the wheel group", add("users.users.bob.extraGroups", "wheel"), status=NOOP)
case("bad input", "dotted", "add ghost to the docker group", status=ERROR)  # no such user in the file
case("bad input", "installer", "install firefx", status=AMBIGUOUS, candidates=["firefox"])
case("bad input", "installer", "enable blutooth", status=AMBIGUOUS, candidates=["Bluetooth"])
case("bad input", "dotted", "enable dockr", status=AMBIGUOUS, candidates=["Docker"])
case("bad input", "nested", "install neovm", status=AMBIGUOUS, candidates=["neovim"])
case("bad input", "dotted", "install firefx", pkgs_added("firefox"), pick=1)
for words in ("install htop", "enable ssh", "open port 8080", "set the hostname to x", "add user alice", "remove git"):
    case("bad input", "broken", words, status=ERROR)

for index, item in enumerate(CASES):
    item.id = f"{index:03d}-{item.category}-{item.file}-{item.request or '<empty>'}".replace(" ", "_")


# -- running every case once, evaluating everything in one go -----------------------------------------------


@dataclass
class Outcome:
    result: AskResult | None
    crash: str | None = None
    parse_error: str | None = None
    after: dict[str, Any] | str | None = None  # evaluation of the edited file (or Nix's error)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, dict[str, Any] | str], dict[str, Outcome]]:
    workdir = tmp_path_factory.mktemp("ask-meaning")
    knowledge = ask_knowledge()
    originals = {}
    for name, text in FILES.items():
        path = workdir / f"start-{name}.nix"
        path.write_bytes(text.encode("utf-8"))
        originals[name] = path
    evaluated_names = [n for n in FILES if n not in BROKEN]
    before = dict(zip(evaluated_names, evaluate_many([originals[n] for n in evaluated_names], workdir)))

    results: dict[str, Outcome] = {}
    edited: list[tuple[str, Path]] = []
    for item in CASES:
        try:
            result = run_ask(FILES[item.file].encode("utf-8"), item.request, knowledge, item.pick)
        except Exception as error:  # reported by the case's own test
            results[item.id] = Outcome(None, crash=f"{type(error).__name__}: {error}")
            continue
        results[item.id] = Outcome(result)
        if result.new is not None and result.new != result.old:
            path = workdir / f"case-{item.id[:3]}.nix"
            path.write_bytes(result.new)
            edited.append((item.id, path))
    for (case_id, _), problem in zip(edited, parse_many([p for _, p in edited], workdir)):
        results[case_id].parse_error = problem
    parsed = [(case_id, path) for case_id, path in edited if results[case_id].parse_error is None]
    for (case_id, _), value in zip(parsed, evaluate_many([p for _, p in parsed], workdir)):
        results[case_id].after = value
    return before, results


def test_case_table_is_large_and_varied():
    by_category = Counter(item.category for item in CASES)
    assert len(CASES) >= 250, by_category
    assert set(by_category) == {"install", "remove", "enable", "disable", "ports", "settings", "users", "unfree",
                                "noop", "bad input"}
    assert len({item.id for item in CASES}) == len(CASES)


def test_stub_packages_agree_with_the_bundled_list():
    """The stub's unfree set must be the bundled list's, or the unfree checks would test the wrong thing."""
    index = ask_knowledge().packages
    known = {name: index.get(name) for name in PACKAGES}
    assert {n for n, p in known.items() if p is not None and p.unfree} == {n for n in UNFREE if known[n] is not None}
    # named only in a predicate or in the vocabulary's option values, not installable by name
    assert [n for n, p in known.items() if p is None] == ["linuxPackages", "linuxPackages_latest", "steam-unwrapped"]


def test_every_starting_file_evaluates(outcomes):
    before, _ = outcomes
    broken = {name: value for name, value in before.items() if isinstance(value, str)}
    assert not broken


def _describe(item: Case, outcome: Outcome) -> str:
    result = outcome.result
    lines = [f"request: {item.request!r}", f"file: {item.file}"]
    if result is not None:
        lines.append(f"status: {result.status}: {result.summary}")
        lines.append(result.diff(f"{item.file}.nix") or "(no change)")
    return "\n".join(lines)


@pytest.mark.parametrize(
    "item",
    [pytest.param(c, id=c.id, marks=[pytest.mark.xfail(strict=True, reason=c.xfail)] if c.xfail else []) for c in CASES],
)
def test_meaning(item: Case, outcomes):
    before_all, results = outcomes
    outcome = results[item.id]
    assert outcome.crash is None, f"ask() raised for {item.request!r} on {item.file}: {outcome.crash}"
    result = outcome.result
    assert result is not None
    before = before_all.get(item.file)
    if item.status is None or item.status == "noop":
        assert isinstance(before, dict), f"the starting file {item.file} does not evaluate: {before}"
        expected = normalise(apply_delta(before["config"], item.ops))
        expected_status = item.status or ("noop" if expected == normalise(before["config"]) else "proposed")
    else:
        expected, expected_status = None, item.status
    context = _describe(item, outcome)
    assert result.status == expected_status, context

    if expected_status != "proposed":
        assert result.new is None or result.new == result.old, f"{context}\nthe text changed although nothing should"
        for word in item.candidates:
            assert any(word in c.title for c in result.candidates), f"{context}\n{word!r} not among {result.candidates}"
        return

    assert result.new is not None and result.new != result.old, context
    assert outcome.parse_error is None, f"{context}\nnix-instantiate --parse: {outcome.parse_error}"
    after = outcome.after
    assert isinstance(after, dict), f"{context}\nthe edited file does not evaluate: {after}"
    found = differences(expected, normalise(after["config"]))
    assert not found, context + "\nmeaning differs from the expectation:\n  " + "\n  ".join(found)
    if b"\r\n" in result.old:
        assert result.new.count(b"\n") == result.new.count(b"\r\n"), f"{context}\na line lost its CR"
    not_allowed = sorted(n for n in installed_unfree(after["config"]) if not after["unfree"][n])
    assert not not_allowed, f"{context}\nunfree packages installed but not allowed: {not_allowed}"
