"""A nixpkgs-shaped tree whose `<nixpkgs/nixos>` evaluates a configuration and builds a tiny but real NixOS
system with the real Nix: the rebuild tests run dry-build, build, switch, cancel and failures for real.

`write_nixpkgs(dir)` writes the tree:
- `nixos/default.nix` is reached as `<nixpkgs/nixos>` with `-I nixpkgs=<tree> -I nixos-config=<file>`, like the
  real one, and gives `config`, `options`, `system` and `vm`; `nixos/lib/eval-config.nix` takes `modules` (and
  `system`), and the tree's `flake.nix` offers `lib.nixosSystem`, so a flake configuration works as well.
- A small module evaluator (no `lib.evalModules`): modules as files, functions or sets, `imports`, `config =`,
  `lib.mkIf`/`mkDefault`/`mkForce`, lists merged, other values unique. It throws nixpkgs' own wording:
  "The option `x' does not exist. Definition values:", "A definition for option `x' is not of type `boolean'",
  "The option `x' has conflicting definition values:", and "Failed assertions:".
- `config.system.build.toplevel` is built with `builtins.derivation` and `builder = "/bin/sh"` (Nix here runs
  without a sandbox, so the builder reaches `/bin` for mkdir, ln, chmod and sleep): `nixos-version`,
  `kernel` and `kernel-modules/lib/modules/<version>`, `etc`, `sw/bin` (the packages and a `nixos-version`
  that answers `--configuration-revision`), `specialisation/`, `init`, and `bin/switch-to-configuration`,
  which appends "<action> <toplevel>" to the file named by `$NIX_HUMANITY_ACTIVATION_LOG`.
- Options for tests: `fixture.sleepSeconds` (a slow builder, for cancel and timeouts), `fixture.pidFile` (the
  builder writes its own and its `sleep`'s process ids there), `fixture.failBuild` (exit 1 after a log tail),
  `fixture.failActivation`, `fixture.parts` (that many extra derivations, so progress counts several builds)
  and `fixture.salt` (a new salt means a new build).

`write_config`, `write_flake` and `nix_env` help tests use it; `STAND_IN` is the stand-in `nixos-rebuild`.
`build_user_dir` gives a folder the builder (a build user) may write to, for `fixture.pidFile`.
`cached_path` makes a 6 MB store path that only a binary cache served over HTTP on localhost has, so a
substitution (with real download progress) can run without the internet.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

STAND_INS = Path(__file__).resolve().parent / "stand_ins"
STAND_IN = STAND_INS / "nixos-rebuild"
KERNEL_VERSION = "6.6.63"
NIXOS_VERSION = "24.11.20241201.fixture"
SYSTEM = "x86_64-linux" if os.uname().machine == "x86_64" else f"{os.uname().machine}-linux"

LIB = r'''
# The few lib functions the fixture's modules use, written for it.
rec {
  mkIf = condition: content: { _type = "if"; inherit condition content; };
  mkOverride = priority: content: { _type = "override"; inherit priority content; };
  mkDefault = mkOverride 1000;
  mkForce = mkOverride 50;
  mkOptionDefault = mkOverride 1500;
  optional = cond: x: if cond then [ x ] else [ ];
  optionals = cond: xs: if cond then xs else [ ];
  optionalString = cond: s: if cond then s else "";
  concatMap = f: xs: builtins.concatLists (map f xs);
  concatStringsSep = builtins.concatStringsSep;
  hasPrefix = prefix: s: builtins.substring 0 (builtins.stringLength prefix) s == prefix;
  splitString = sep: s: builtins.filter builtins.isString (builtins.split (escapeRegex sep) s);
  escapeRegex = s: builtins.replaceStrings [ "." ] [ "\\." ] s;
  setAttrByPath = path: value:
    if path == [ ] then value else { ${builtins.head path} = setAttrByPath (builtins.tail path) value; };
  isDerivation = x: builtins.isAttrs x && (x.type or null) == "derivation";
  recursiveUpdate = a: b: a // builtins.mapAttrs (name: value:
    if builtins.isAttrs value && !(isDerivation value) && a ? ${name} && builtins.isAttrs a.${name}
    then recursiveUpdate a.${name} value else value) b;
  # nixpkgs' generators.toPretty, for the values in error messages
  toPretty = indent: v:
    if builtins.isString v then "\"" + builtins.replaceStrings [ "\"" "\\" ] [ "\\\"" "\\\\" ] v + "\""
    else if builtins.isBool v then (if v then "true" else "false")
    else if builtins.isInt v || builtins.isFloat v then toString v
    else if v == null then "null"
    else if builtins.isPath v then toString v
    else if builtins.isFunction v then "<function>"
    else if isDerivation v then "<derivation ${v.name}>"
    else if builtins.isList v then
      (if v == [ ] then "[ ]" else "[\n" + concatStringsSep "\n" (map (x: indent + "  " + toPretty (indent + "  ") x) v) + "\n" + indent + "]")
    else
      (if v == { } then "{ }" else "{\n" + concatStringsSep "\n" (map (n: indent + "  " + n + " = " + toPretty (indent + "  ") v.${n} + ";") (builtins.attrNames v)) + "\n" + indent + "}");
  # lib.options.showDefs
  showDefs = defs: builtins.concatStringsSep "" (map (def:
    let
      pretty = toPretty "" def.value;
      lines = splitString "\n" pretty;
    in "\n- In `${def.file}'" + (if builtins.length lines > 1 then ":\n    " + concatStringsSep "\n    " lines else ": " + pretty)
  ) defs);
}
'''

TYPES = r'''
# Option types: what nixpkgs calls them in messages, how a value is checked, how definitions merge.
{ lib }:
rec {
  bool = { description = "boolean"; check = builtins.isBool; merge = "unique"; };
  str = { description = "string"; check = builtins.isString; merge = "unique"; };
  int = { description = "signed integer"; check = builtins.isInt; merge = "unique"; };
  nullOrStr = { description = "null or string"; check = v: v == null || builtins.isString v; merge = "unique"; };
  package = { description = "package"; check = lib.isDerivation; merge = "unique"; };
  listOfPackages = { description = "list of package"; check = v: builtins.isList v && builtins.all lib.isDerivation v; merge = "concat"; };
  listOfPorts = { description = "list of 16 bit unsigned integer; between 0 and 65535 (both inclusive)";
    check = v: builtins.isList v && builtins.all (p: builtins.isInt p && p >= 0 && p <= 65535) v; merge = "concat"; };
  listOfAssertions = { description = "list of (submodule)"; check = builtins.isList; merge = "concat"; };
  listOfStr = { description = "list of string"; check = v: builtins.isList v && builtins.all builtins.isString v; merge = "concat"; };
  attrsOfSubmodule = { description = "attribute set of (submodule)"; check = builtins.isAttrs; merge = "attrs"; };
}
'''

OPTIONS = r'''
# The options this small NixOS knows, by their real names (the fixture.* ones steer the tests).
{ lib, types }:
{
  "environment.systemPackages" = { type = types.listOfPackages; default = [ ]; };
  "services.openssh.enable" = { type = types.bool; default = false; };
  "services.openssh.settings.PermitRootLogin" = { type = types.str; default = "prohibit-password"; };
  "services.nginx.enable" = { type = types.bool; default = false; };
  "networking.hostName" = { type = types.str; default = "nixos"; };
  "networking.firewall.enable" = { type = types.bool; default = true; };
  "networking.firewall.allowedTCPPorts" = { type = types.listOfPorts; default = [ ]; };
  "time.timeZone" = { type = types.nullOrStr; default = null; };
  "users.users" = { type = types.attrsOfSubmodule; default = { }; };
  "boot.loader.grub.enable" = { type = types.bool; default = true; };
  "boot.loader.grub.device" = { type = types.str; default = ""; };
  "system.stateVersion" = { type = types.str; default = "24.11"; };
  "system.configurationRevision" = { type = types.nullOrStr; default = null; };
  "nixpkgs.config.allowUnfree" = { type = types.bool; default = false; };
  "assertions" = { type = types.listOfAssertions; default = [ ]; };
  "warnings" = { type = types.listOfStr; default = [ ]; };
  "fixture.sleepSeconds" = { type = types.int; default = 0; };
  "fixture.pidFile" = { type = types.str; default = ""; };
  "fixture.failBuild" = { type = types.bool; default = false; };
  "fixture.failActivation" = { type = types.bool; default = false; };
  "fixture.parts" = { type = types.int; default = 0; };
  "fixture.salt" = { type = types.str; default = ""; };
}
'''

EVAL_CONFIG = r'''
# Evaluates a list of modules the way nixpkgs' lib.evalModules answers a user: unknown options, type errors,
# conflicting values and failed assertions stop the evaluation with nixpkgs' own words.
{ system ? builtins.currentSystem, modules ? [ ], specialArgs ? { }, ... }:
let
  lib = import ../../lib;
  types = import ../lib/types.nix { inherit lib; };
  pkgs = import ../.. { inherit system; };
  declarations = import ../modules/options.nix { inherit lib types; };
  names = builtins.attrNames declarations;
  args = { inherit config lib pkgs system; options = declarations; modulesPath = toString ../modules; } // specialArgs;

  # every module, with the file it came from
  load = file: module:
    let
      fromFile = builtins.isPath module || builtins.isString module;
      source = if fromFile then toString module else file;
      value = if fromFile then import module else module;
      body = if builtins.isFunction value
        then value (builtins.mapAttrs (name: _: args.${name}) (builtins.functionArgs value))
        else value;
      defs = if body ? config || body ? options then body.config or { }
        else removeAttrs body [ "imports" "_file" "meta" "disabledModules" ];
    in [ { file = body._file or source; inherit defs; } ] ++ lib.concatMap (load source) (body.imports or [ ]);
  loaded = lib.concatMap (load "<unknown-file>") modules;

  isOptionPrefix = path: builtins.any (name: lib.hasPrefix (path + ".") name) names;
  join = prefix: name: if prefix == "" then name else prefix + "." + name;
  flatten = file: prefix: value:
    if (value._type or null) == "if" && !(declarations ? ${prefix}) then  # pushed down to the options inside
      map (d: d // { value = lib.mkIf value.condition d.value; }) (flatten file prefix value.content)
    else if prefix != "" && declarations ? ${prefix} then [ { name = prefix; inherit file value; } ]
    else if builtins.isAttrs value && !(lib.isDerivation value) && (prefix == "" || isOptionPrefix prefix) then
      lib.concatMap (name: flatten file (join prefix name) value.${name}) (builtins.attrNames value)
    else [ { name = prefix; inherit file value; unknown = true; } ];
  definitions = lib.concatMap (m: flatten m.file "" m.defs) loaded;
  unknown = builtins.filter (d: d.unknown or false) definitions;

  # mkIf and mkOverride on an option's value
  unwrap = def:
    if (def.value._type or null) == "if" then
      (if def.value.condition then unwrap (def // { value = def.value.content; }) else [ ])
    else if (def.value._type or null) == "override" then
      map (d: d // { priority = def.value.priority; }) (unwrap (def // { value = def.value.content; }))
    else [ (def // { priority = def.priority or 100; }) ];
  defsOf = name: lib.concatMap unwrap (builtins.filter (d: d.name == name && !(d.unknown or false)) definitions);
  merge = name:
    let
      decl = declarations.${name};
      all = defsOf name;
      best = builtins.foldl' (p: d: if d.priority < p then d.priority else p) 1500 all;
      defs = builtins.filter (d: d.priority == best) all;
      bad = builtins.filter (d: !(decl.type.check d.value)) defs;
      values = map (d: d.value) defs;
      first = builtins.head values;
    in
      if defs == [ ] then decl.default
      else if bad != [ ] then
        throw "A definition for option `${name}' is not of type `${decl.type.description}'. Definition values:${lib.showDefs [ (builtins.head bad) ]}"
      else if decl.type.merge == "concat" then builtins.concatLists values
      else if decl.type.merge == "attrs" then builtins.foldl' (a: b: a // b) { } values
      else if builtins.all (v: v == first) values then first
      else throw "The option `${name}' has conflicting definition values:${lib.showDefs defs}\nUse `lib.mkForce value` or `lib.mkDefault value` to change the priority on any of these definitions.";

  merged = builtins.foldl' (acc: name: lib.recursiveUpdate acc (lib.setAttrByPath (lib.splitString "." name) (merge name))) { } names;

  checked =
    let
      failed = map (a: a.message) (builtins.filter (a: !a.assertion) merged.assertions);
      first = builtins.head unknown;
    in
      if unknown != [ ] then
        throw "The option `${first.name}' does not exist. Definition values:${lib.showDefs [ first ]}"
      else if failed != [ ] then
        throw "\nFailed assertions:\n${builtins.concatStringsSep "\n" (map (m: "- ${m}") failed)}"
      else builtins.foldl' (ok: name: builtins.seq (merge name) ok)  # every value is type-checked
        (builtins.foldl' (ok: w: builtins.trace "warning: ${w}" ok) true merged.warnings) names;

  build = import ../modules/system.nix { inherit lib pkgs system; config = merged; };
  config = merged // {
    system = merged.system // {
      build = {
        toplevel = builtins.seq checked build.toplevel;
        vm = builtins.seq checked build.vm;
        inherit (build) etc kernel;
      };
    };
  };
in {
  inherit config pkgs lib;
  options = declarations;
  _type = "configuration";
}
'''

NIXOS_DEFAULT = r'''
{ configuration ? import ./lib/from-env.nix "NIXOS_CONFIG" <nixos-config>
, system ? builtins.currentSystem
}:
let
  eval = import ./lib/eval-config.nix { inherit system; modules = [ configuration ]; };
in {
  inherit (eval) pkgs config options;
  system = eval.config.system.build.toplevel;
  inherit (eval.config.system.build) vm;
}
'''

FROM_ENV = r'''
name: default: let value = builtins.getEnv name; in if value == "" then default else value
'''

SYSTEM_NIX = r'''
# The system derivations: a kernel, /etc, the system path and the toplevel, all built by /bin/sh.
{ config, lib, pkgs, system }:
let
  cfg = config;
  sh = name: script: env: derivation ({
    inherit name system;
    builder = "/bin/sh";
    args = [ "-c" script ];
    PATH = "/bin:/usr/bin";
  } // env);
  kernel = sh "linux-@KERNEL@" ''
    mkdir -p $out/lib/modules/@KERNEL@/kernel
    echo "fixture kernel @KERNEL@" > $out/bzImage
  '' { };
  etc = sh "etc" ''
    mkdir -p $out/etc/ssh
    echo "$hostName" > $out/etc/hostname
    if [ "$sshd" = 1 ]; then echo "PermitRootLogin $permitRootLogin" > $out/etc/ssh/sshd_config; fi
    echo "$timeZone" > $out/etc/timezone
  '' {
    hostName = cfg.networking.hostName;
    sshd = if cfg.services.openssh.enable then "1" else "0";
    permitRootLogin = cfg.services.openssh.settings.PermitRootLogin;
    timeZone = if cfg.time.timeZone == null then "UTC" else cfg.time.timeZone;
  };
  parts = builtins.genList (i: sh "fixture-part-${toString i}" ''
    echo "building part ${toString i}"
    echo "${cfg.fixture.salt}" > $out
  '' { }) cfg.fixture.parts;
  revision = if cfg.system.configurationRevision == null then "" else cfg.system.configurationRevision;
  sw = sh "system-path" ''
    mkdir -p $out/bin
    for p in $packages; do
      if [ -d "$p/bin" ]; then for f in "$p"/bin/*; do ln -sf "$f" $out/bin/; done; fi
    done
    printf '#!/bin/sh\nif [ "$1" = --configuration-revision ]; then echo "%s"; else echo "%s"; fi\n' "$revision" "$version" > $out/bin/nixos-version
    chmod +x $out/bin/nixos-version
  '' { packages = cfg.environment.systemPackages; inherit revision; version = "@VERSION@"; };
  toplevel = sh "nixos-system-${cfg.networking.hostName}-@VERSION@" ''
    echo "building the system for $hostName"
    if [ -n "$pidFile" ]; then echo $$ > "$pidFile"; fi
    if [ "$sleepSeconds" != 0 ]; then
      echo "sleeping $sleepSeconds s"
      sleep "$sleepSeconds" &
      if [ -n "$pidFile" ]; then echo $! >> "$pidFile"; fi
      wait
    fi
    if [ "$failBuild" = 1 ]; then
      echo "compiling the system"
      echo "fixture: something in the system build went wrong"
      exit 1
    fi
    mkdir -p $out/bin $out/specialisation $out/kernel-modules
    echo -n "@VERSION@" > $out/nixos-version
    echo -n "$system" > $out/system
    ln -s $kernel/bzImage $out/kernel
    ln -s $kernel/lib $out/kernel-modules/lib
    ln -s $etc/etc $out/etc
    ln -s $sw $out/sw
    printf '#!/bin/sh\necho "booting %s"\n' "$hostName" > $out/init
    chmod +x $out/init
    cat > $out/bin/switch-to-configuration <<EOF
    #!/bin/sh
    # the fixture's switch-to-configuration: records what it was asked to do, changes nothing
    action="\$1"
    case "\$action" in
      switch|boot|test|dry-activate) ;;
      *) echo "Usage: \$0 [switch|boot|test|dry-activate]" >&2; exit 1 ;;
    esac
    if [ -n "\$NIX_HUMANITY_ACTIVATION_LOG" ]; then echo "\$action $out" >> "\$NIX_HUMANITY_ACTIVATION_LOG"; fi
    if [ "\$action" = switch ] || [ "\$action" = test ]; then
      echo "activating the configuration..." >&2
      echo "setting up /etc..." >&2
      if [ "$failActivation" = 1 ]; then
        echo "starting the following units: nginx.service" >&2
        echo "warning: the following units failed: nginx.service" >&2
        exit 4
      fi
    fi
    if [ "\$action" = boot ] || [ "\$action" = switch ]; then echo "updating GRUB 2 menu..." >&2; fi
    exit 0
    EOF
    chmod +x $out/bin/switch-to-configuration
    for p in $parts; do :; done
  '' {
    inherit kernel etc sw parts;
    hostName = cfg.networking.hostName;
    sleepSeconds = toString cfg.fixture.sleepSeconds;
    pidFile = cfg.fixture.pidFile;
    failBuild = if cfg.fixture.failBuild then "1" else "0";
    failActivation = if cfg.fixture.failActivation then "1" else "0";
    salt = cfg.fixture.salt;
  };
  vm = sh "nixos-vm" ''
    mkdir -p $out/bin
    printf '#!/bin/sh\necho "would start %s"\n' "$toplevel" > $out/bin/run-$hostName-vm
    chmod +x $out/bin/run-$hostName-vm
  '' { inherit toplevel; hostName = cfg.networking.hostName; };
in { inherit toplevel vm etc kernel; }
'''.replace("@KERNEL@", KERNEL_VERSION).replace("@VERSION@", NIXOS_VERSION)

PKGS = r'''
# A handful of packages, each a real derivation with a program in bin/.
{ system ? builtins.currentSystem, ... }:
let
  lib = import ../lib;
  mk = pname: version: description: derivation {
    name = "${pname}-${version}";
    inherit system;
    builder = "/bin/sh";
    args = [ "-c" ''
      mkdir -p $out/bin
      printf '#!/bin/sh\necho "%s %s"\n' "${pname}" "${version}" > $out/bin/${pname}
      chmod +x $out/bin/${pname}
    '' ];
    PATH = "/bin:/usr/bin";
  } // { inherit pname version; meta = { inherit description; }; };
in {
  inherit lib;
  hello = mk "hello" "2.12.1" "A program that produces a familiar, friendly greeting";
  firefox = mk "firefox" "133.0" "A web browser built from Firefox source tree";
  git = mk "git" "2.47.0" "Distributed version control system";
  vim = mk "vim" "9.1.0765" "The most popular clone of the VI editor";
  htop = mk "htop" "3.3.0" "An interactive process viewer";
  curl = mk "curl" "8.11.0" "A command line tool for transferring files with URL syntax";
  tmux = mk "tmux" "3.5a" "Terminal multiplexer";
  ripgrep = mk "ripgrep" "14.1.1" "A utility that combines the usability of The Silver Searcher with the raw speed of grep";
}
'''

NIXPKGS_DEFAULT = r'''
{ system ? builtins.currentSystem, ... }@args: import ./pkgs/top-level.nix args
'''

NIXPKGS_FLAKE = r'''
{
  description = "nix-humanity test fixture: a nixpkgs-shaped tree";
  outputs = { self }: {
    lib = (import ./lib) // {
      nixosSystem = args: import ./nixos/lib/eval-config.nix args;
    };
  };
}
'''

DEFAULT_CONFIG = """\
{ config, pkgs, lib, ... }:

{
  networking.hostName = "fixture";
  environment.systemPackages = with pkgs; [ hello git ];
  services.openssh.enable = true;
  system.stateVersion = "24.11";
}
"""


def write_nixpkgs(root: Path) -> Path:
    """Write the tree under `root/nixpkgs` and return that directory."""
    tree = root / "nixpkgs"
    files = {
        "default.nix": NIXPKGS_DEFAULT,
        "flake.nix": NIXPKGS_FLAKE,
        "lib/default.nix": LIB,
        "pkgs/top-level.nix": PKGS,
        "nixos/default.nix": NIXOS_DEFAULT,
        "nixos/lib/from-env.nix": FROM_ENV,
        "nixos/lib/eval-config.nix": EVAL_CONFIG,
        "nixos/lib/types.nix": TYPES,
        "nixos/modules/options.nix": OPTIONS,
        "nixos/modules/system.nix": SYSTEM_NIX,
        ".version": "24.11",
    }
    for name, text in files.items():
        path = tree / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return tree


def write_config(directory: Path, body: str = DEFAULT_CONFIG, name: str = "configuration.nix") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(body)
    return path


def config_with(options: str, packages: str = "hello git") -> str:
    """A configuration with the default settings plus `options` (Nix bindings, one per line)."""
    return DEFAULT_CONFIG.replace("[ hello git ]", f"[ {packages} ]").replace(
        '  system.stateVersion = "24.11";\n', '  system.stateVersion = "24.11";\n' + textwrap.indent(options.strip() + "\n", "  "))


def write_flake(directory: Path, nixpkgs: Path, hosts: tuple[str, ...] = ("fixture",)) -> Path:
    """A flake whose `nixosConfigurations.<host>` use the fixture's `lib.nixosSystem` and
    `./configuration.nix` (written too, when missing). Returns the flake's directory."""
    directory.mkdir(parents=True, exist_ok=True)
    if not (directory / "configuration.nix").exists():
        write_config(directory)
    configurations = "\n".join(
        f'      {host} = nixpkgs.lib.nixosSystem {{\n        system = "{SYSTEM}";\n'
        f"        modules = [ ./configuration.nix ];\n      }};" for host in hosts)
    (directory / "flake.nix").write_text(
        "{\n"
        f'  inputs.nixpkgs.url = "path:{nixpkgs}";\n'
        "  outputs = { self, nixpkgs }: {\n"
        "    nixosConfigurations = {\n"
        f"{configurations}\n"
        "    };\n"
        "  };\n"
        "}\n"
    )
    return directory


def nix_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment additions for every nix run of the tests: no binary cache to wait on, no flake registry
    to download, one download attempt."""
    env = {
        "NIX_CONFIG": "substituters =\nflake-registry =\ndownload-attempts = 1\nwarn-dirty = false",
        "NIX_PATH": "",
    }
    env.update(extra or {})
    return env


@contextlib.contextmanager
def build_user_dir() -> Iterator[Path]:
    """A folder the builder may write to: it runs as a build user, which cannot enter pytest's tmp_path."""
    made = Path(tempfile.mkdtemp(prefix="nix-humanity-build-user-"))
    made.chmod(0o777)
    try:
        yield made
    finally:
        shutil.rmtree(made, ignore_errors=True)


@contextlib.contextmanager
def cached_path(root: Path, salt: str) -> Iterator[tuple[str, str]]:
    """A new 6 MB store path, copied into a binary cache in `root` and deleted from the store, with the cache
    served over HTTP on localhost while the block runs. Yields (store path, substituter URL)."""
    env = {**os.environ, **nix_env()}
    recipe = root / f"big-{salt}.nix"
    recipe.write_text('{ salt }: derivation { name = "bigdata-${salt}"; system = builtins.currentSystem; '
                      'builder = "/bin/sh"; PATH = "/bin:/usr/bin"; '
                      'args = [ "-c" "head -c 6000000 /dev/urandom > $out" ]; }\n')
    path = subprocess.run(["nix-build", str(recipe), "--argstr", "salt", salt, "--no-out-link"], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, check=True).stdout.strip()
    cache = root / f"cache-{salt}"
    subprocess.run(["nix", "--extra-experimental-features", "nix-command", "copy", "--to", f"file://{cache}", path],
                   env=env, check=True, stderr=subprocess.DEVNULL)
    subprocess.run(["nix-store", "--delete", path], env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                               "--directory", str(cache)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):  # until it answers
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.1):
                break
            time.sleep(0.05)
        yield path, f"http://127.0.0.1:{port}"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait()


def substituter_env(url: str) -> dict[str, str]:
    """nix_env() with `url` as the only binary cache (unsigned, as `nix copy` leaves it)."""
    return nix_env({"NIX_CONFIG": f"substituters = {url}\nrequire-sigs = false\nflake-registry =\ndownload-attempts = 1"})
