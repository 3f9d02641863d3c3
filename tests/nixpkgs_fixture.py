"""A small nixpkgs-shaped tree for the static index and cache tests, written the ways nixpkgs writes things.

Each file holds one or more of the real spellings the index must read: `with lib;` and bare names, `lib.`
everywhere, `options.a.b = { … }`, `options = { a.b.c = …; }`, a `let`-bound submodule used through
`attrsOf (submodule userOpts)`, `listOf (submodule …)`, a submodule given as a list of modules, a submodule file
reached by `import ./vhost-options.nix { … }` (and one more level below it), `mkEnableOption … // { … }`,
`mkPackageOption` with and without options, descriptions as `"…"`, `''…''`, `lib.mdDoc`, a `let`-bound text
and `a + b`, `defaultText`/`literalExpression`, and every rename helper. Package files cover licences written
as `lib.licenses.unfree`, `licenses.x` under `meta = with lib;`, `with lib.licenses; [ … ]`, descriptions in
`"…"`, `''…''` and with `${…}`, and `meta.broken` as `true`, `false`, a condition over two lines and a commented-out
`# broken = true;`.

With `evaluation=True` the tree can also be evaluated by real Nix the way `nixpkgs/evaluated.py` evaluates a
user's system: `lib/default.nix` holds the few functions of nixpkgs' lib that this needs (`mkOption`,
`mkEnableOption`, some `types`, and `optionAttrSetToDocList`, giving entries of the shape nixpkgs' does), and
`nixos/default.nix` stands in for NixOS's entry point: a tiny module system that declares some of the options
the module files above declare (others only it knows, as computed names are), imports the user's
configuration and the modules it imports, collects their option declarations (with the declaring file) and
evaluates their values strictly, so a broken, slow or greedy configuration fails the way a real one does.
"""

from __future__ import annotations

from pathlib import Path

MODULE_LIST = """\
[
  ./config/users-groups.nix
  ./services/networking/ssh/sshd.nix
  ./services/web-servers/nginx
  ./tasks/filesystems.nix
  ./config/i18n.nix
  ./services/networking/wpa_supplicant.nix
  ./programs/foo.nix
  ./rename.nix
  ./misc/broken-syntax.nix
]
"""

USERS_GROUPS = """\
{ config, lib, utils, pkgs, ... }:

with lib;

let
  cfg = config.users;

  hashedPasswordDescription = ''
    To generate a hashed password run `mkpasswd`.

    If set to `null` this user cannot log in with a password.
  '';

  userOpts = { name, config, ... }: {
    options = {
      isNormalUser = mkOption {
        type = types.bool;
        default = false;
        description = lib.mdDoc ''
          Indicates whether this is an account for a “real” user.
            This line is indented two more.
          Writing ''${HOME} keeps the dollar.
        '';
      };

      hashedPassword = mkOption {
        type = with types; nullOr (passwdEntry str);
        default = null;
        description = hashedPasswordDescription;
      };

      subUidRanges = mkOption {
        type = with types; listOf (submodule subordinateUidRange);
        default = [];
        description = "Subordinate user ids that user is allowed to use.";
      };
    };
  };

  subordinateUidRange = {
    options = {
      startUid = mkOption {
        type = types.int;
        description = "Start of the range.";
      };
    };
  };
in {
  imports = [
    (mkAliasOptionModuleMD [ "users" "extraUsers" ] [ "users" "users" ])
  ];

  options = {

    users.mutableUsers = mkOption {
      type = types.bool;
      default = true;
      description = "If set to `true`, you are free to add new users.";
    };

    users.users = mkOption {
      default = {};
      type = with types; attrsOf (submodule userOpts);
      example = {
        alice = { uid = 1234; };
      };
      description = lib.mdDoc ''
        Additional user accounts to be created automatically by the system.
      '';
    };
  };

  config = {
    users.users.root = { uid = 0; };
  };
}
"""

SSHD = """\
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.services.openssh;
  inherit (lib) mkOption types;
  settingsFormat = pkgs.formats.keyValue { };

  userOptions = {
    options.openssh.authorizedKeys.keys = mkOption {
      type = types.listOf types.singleLineStr;
      default = [ ];
      description = "A list of verbatim OpenSSH public keys.";
    };
  };
in
{
  imports = [
    ./sshd-extra.nix
    (lib.mkRenamedOptionModule
      [ "services" "openssh" "permitRootLogin" ]
      [ "services" "openssh" "settings" "PermitRootLogin" ]
    )
    (lib.mkRemovedOptionModule [ "services" "openssh" "challengeResponseAuthentication" ] ''
      Use services.openssh.settings.KbdInteractiveAuthentication instead.
    '')
  ];

  options = {
    services.openssh = {
      enable = lib.mkEnableOption "the OpenSSH secure shell daemon";

      package = lib.mkPackageOption pkgs "openssh" { };

      ports = mkOption {
        type = types.listOf types.port;
        default = [ 22 ];
        description = "Specifies on which ports the SSH daemon listens.";
      };

      settings = mkOption {
        type = types.submodule {
          freeformType = settingsFormat.type;
          options = {
            PermitRootLogin = mkOption {
              type = types.enum [
                "yes"
                "prohibit-password"
                "no"
              ];
              default = "prohibit-password";
              description = "Whether the root user can login using ssh.";
            };
          };
        };
        default = { };
        description = "Configuration for `sshd_config(5)`.";
      };

      hostKeys = mkOption {
        type = types.listOf types.attrs;
        default = [ ];
        internal = true;
        description = "NixOS-generated host keys.";
      };
    };

    users.users = mkOption {
      type = with types; attrsOf (submodule userOptions);
    };
  };

  config = lib.mkIf cfg.enable {
    networking.firewall.allowedTCPPorts = cfg.ports;
  };
}
"""

SSHD_EXTRA = """\
{ lib, ... }:
{
  options.services.openssh.banner = lib.mkOption {
    type = lib.types.nullOr lib.types.lines;
    default = null;
    description = "Message to display to the remote user before authentication is allowed.";
  };
}
"""

NGINX = """\
{ config, lib, pkgs, ... }:

with lib;

let
  cfg = config.services.nginx;
in
{
  options = {
    services.nginx = {
      enable = mkEnableOption (lib.mdDoc "Nginx Web Server");

      recommendedTlsSettings = mkEnableOption "recommended TLS settings" // {
        default = true;
        description = "Enable recommended TLS settings.";
      };

      virtualHosts = mkOption {
        type = types.attrsOf (types.submodule (import ./vhost-options.nix {
          inherit config lib;
        }));
        default = {
          localhost = {};
        };
        example = literalExpression ''
          {
            "hydra.example.com" = {
              forceSSL = true;
            };
          }
        '';
        description = lib.mdDoc "Declarative vhost config";
      };
    };
  };
}
"""

VHOST_OPTIONS = """\
# This file is a submodule: it is not in module-list.nix.
{ config, lib, ... }:

with lib;
{
  options = {
    serverName = mkOption {
      type = types.nullOr types.str;
      default = null;
      description = "Name of this virtual host.";
    };

    locations = mkOption {
      type = types.attrsOf (types.submodule (import ./location-options.nix {
        inherit lib config;
      }));
      default = {};
      description = "Declarative location config";
    };
  };
}
"""

LOCATION_OPTIONS = """\
{ lib, config }:

{
  options = {
    proxyPass = lib.mkOption {
      type = with lib.types; nullOr str;
      default = null;
      example = "http://www.example.org/";
      description = "Adds proxy_pass directive.";
    };
  };
}
"""

FILESYSTEMS = """\
{ config, lib, pkgs, utils, ... }:

with lib;

let
  coreFileSystemOpts = { name, config, ... }: {
    options = {
      mountPoint = mkOption {
        example = "/mnt/usb";
        type = types.str;
        description = "Location of the mounted file system.";
      };

      device = mkOption {
        default = null;
        example = "/dev/sda";
        type = types.nullOr types.str;
        description = "Location of the device.";
      };
    };
  };

  fileSystemOpts = { config, ... }: {
    options.options = mkOption {
      default = [ "defaults" ];
      type = types.nonEmptyListOf types.str;
      description = "Options used to mount the file system.";
    };
  };
in
{
  options = {
    fileSystems = mkOption {
      default = {};
      type = types.attrsOf (types.submodule [coreFileSystemOpts fileSystemOpts]);
      description = "The file systems to be mounted.";
    };

    boot.supportedFilesystems = mkOption {
      default = [ ];
      type = types.listOf types.str;
      description = "Names of supported filesystem types.";
    };
  };
}
"""

I18N = """\
{ config, lib, ... }:
{
  options.i18n.supportedLocales = lib.mkOption {
    type = lib.types.listOf lib.types.str;
    default = [ "C.UTF-8/UTF-8" "en_US.UTF-8/UTF-8" ];
    example = [ "en_US.UTF-8/UTF-8" "nl_NL.UTF-8/UTF-8" "nl_NL/ISO-8859-1" ];
    description = "List of locales that the system should support.";
  };
}
"""

WPA_SUPPLICANT = """\
{ config, lib, ... }:
with lib;
{
  options.networking.wireless.networks = mkOption {
    type = types.attrsOf (types.submodule {
      options.authProtocols = mkOption {
        default = [ "WPA-PSK" "WPA-EAP" "SAE" ];
        type = types.listOf (types.enum [
          "WPA-PSK"
          "WPA-EAP"
          "IEEE8021X"
          "NONE"
          "SAE"
          "OWE"
        ]);
        description = "The list of authentication protocols accepted by this network.";
      };
    });
    default = { };
    description = "The network definitions to automatically connect to.";
  };
}
"""

PROGRAM_FOO = """\
{ config, lib, pkgs, ... }:
let
  cfg = config.programs.foo;
  name = "dynamic";
in
{
  options.programs.foo.enable = lib.mkEnableOption "the foo program";

  options.programs.foo.package = lib.mkPackageOption pkgs [ "python3Packages" "foo" ] {
    nullable = true;
    default = null;
    example = "foo-unstable";
    extraDescription = "Set it to null to use the foo on PATH.";
  };

  options.programs.foo.${name} = lib.mkEnableOption "a name computed at evaluation";

  options.programs.foo.settings.colors.theme = lib.mkOption {
    type = lib.types.str;
    default = config.networking.hostName;
    defaultText = lib.literalExpression "config.networking.hostName";
    description = "The \\"theme\\" to use,\\nper host.";
  };

  options.programs.foo.mode = lib.mkOption {
    type = lib.types.enum [ "fast" "slow" ];
    default = "fast";
    visible = false;
    readOnly = true;
    description = "Mode " + "of operation.";
  };

  options.programs.foo.quoted = lib.mkOption {
    type = lib.types.lines;
    default = "";
    description = ''
      Write '''quoted''' text.
    '';
  };

  config = lib.mkIf cfg.enable { environment.systemPackages = [ cfg.package ]; };
}
"""

RENAME = """\
{ lib, pkgs, ... }:

with lib;

{
  imports = [
    (mkRenamedOptionModule [ "networking" "enableIPv6" ] [ "networking" "ipv6" "enable" ])
    (mkRemovedOptionModule [ "services" "oldthing" ] "The oldthing service was removed: it was unmaintained.")
    (mkAliasOptionModule [ "environment" "checkConfigurationOptions" ] [ "_module" "check" ])
    (lib.mkRenamedOptionModuleWith {
      sinceRelease = 2311;
      from = [ "services" "xserver" "layout" ];
      to = [ "services" "xserver" "xkb" "layout" ];
    })
    (mkChangedOptionModule [ "services" "foo" "port" ] [ "services" "foo" "ports" ] (config: [ config.services.foo.port ]))
    (mkMergedOptionModule [ [ "a" "b" ] [ "a" "c" ] ] [ "a" "d" ] (config: null))
  ] ++ map (name: mkRemovedOptionModule [ "services" name ] "gone") [ "computed1" "computed2" ];
}
"""

BROKEN_SYNTAX = """\
{ lib, ... }:
{
  options.misc.stillRead = lib.mkOption {
    type = lib.types.bool;
    default = false;
    description = "Declared before a syntax error further down.";
  };

  config = {
    broken = [ 1 2
  };
}
"""

UNLISTED = """\
{ lib, ... }:
{
  options.unlisted.thing = lib.mkEnableOption "something no module list names";
}
"""

PACKAGES = {
    "he/hello": """\
{
  callPackage,
  lib,
  stdenv,
  fetchurl,
}:

stdenv.mkDerivation (finalAttrs: {
  pname = "hello";
  version = "2.12.1";

  passthru.tests.run = callPackage ./test.nix { hello = finalAttrs.finalPackage; };

  meta = with lib; {
    longDescription = ''
      GNU Hello is a program that prints "Hello, world!" when you run it.
    '';
    description = "A program that produces a familiar, friendly greeting";
    license = licenses.gpl3Plus;
    mainProgram = "hello";
  };
})
""",
    "he/hello-unfree": """\
{ lib, stdenv, runtimeShell }:

stdenv.mkDerivation {
  pname = "example-unfree-package";
  version = "1.0";

  meta = {
    description = "Example package with unfree license (for testing)";
    license = lib.licenses.unfree;
  };
}
""",
    "ga/game-launcher": """\
{ lib, buildFHSEnv }:

buildFHSEnv {
  name = "game-launcher";
  meta = {
    description = "Launcher for \\"games\\"";
    license = with lib.licenses; [ mit unfreeRedistributable ];
  };
}
""",
    "fi/firmware-blob": """\
{ lib, stdenvNoCC }:

stdenvNoCC.mkDerivation {
  pname = "firmware-blob";
  version = "1";
  meta.description = "Firmware for a made-up device";
  meta.license = lib.licenses.unfreeRedistributableFirmware;
}
""",
    "ic/icc-compiler": """\
{ lib, stdenv }:

stdenv.mkDerivation {
  pname = "icc-compiler";
  version = "1";
  meta = with lib; {
    description = "A compiler under Intel's licence";
    license = [ licenses.issl licenses.mit ];
  };
}
""",
    "ri/ripgrep": """\
{ lib, rustPlatform }:

rustPlatform.buildRustPackage rec {
  pname = "ripgrep";
  version = "14.1.0";

  meta = {
    description = ''
      Utility that combines the usability of The Silver Searcher
      with the raw speed of grep
    '';
    license = with lib.licenses; [ unlicense mit ];
  };
}
""",
    "ve/versioned": """\
{ lib, stdenv }:

stdenv.mkDerivation rec {
  pname = "versioned";
  version = "3";
  meta = {
    description = "Tool version ${version}";
    license = lib.licenses.mit;
    broken = false;
  };
}
""",
    "ol/old-tool": """\
{ lib, stdenv }:

stdenv.mkDerivation {
  pname = "old-tool";
  version = "0.1";
  meta = {
    description = "A tool that no longer builds";
    # fails since the compiler update
    broken = true;
    license = lib.licenses.mit;
  };
}
""",
    "da/darwin-flaky": """\
{ lib, stdenv }:

stdenv.mkDerivation {
  pname = "darwin-flaky";
  version = "2";
  meta.description = "Works everywhere but on ARM Macs";
  # broken = true; (until version 2)
  meta.broken =
    stdenv.hostPlatform.isDarwin
    && stdenv.hostPlatform.isAarch64;
}
""",
    "no/no-meta": """\
{ stdenv }:

stdenv.mkDerivation {
  pname = "no-meta";
  version = "1";
  passthru.description = "not the package's description";
}
""",
}

ALL_PACKAGES = """\
{ lib, noSysDirs, config, overlays }:
res: pkgs: super:

with pkgs;

{
  firefox = wrapFirefox firefox-unwrapped { };

  firefox-unwrapped = callPackage ../applications/networking/browsers/firefox/package.nix { };

  # an override of a by-name package: its description still comes from package.nix
  hello = callPackage ../by-name/he/hello/package.nix { stdenv = gccStdenv; };

  inherit (python3Packages) black;

  "quoted-name" = callPackage ../tools/misc/quoted { };

  python3Packages = python3.pkgs;

  linuxPackages.extra = 1;
}
"""

ALIASES = """\
lib: self: super:

### Deprecated aliases - for backward compatibility

with self;

let
  removeRecurseForDerivations =
    alias:
    if alias.recurseForDerivations or false then
      lib.removeAttrs alias [ "recurseForDerivations" ]
    else
      alias;

  retiredQt5Packages = [
    "oldkdeapp"
    "oldkdelib" # Added 2025-07-04
  ];

  makeRetiredThrow =
    name:
    throw "The libsForQt5.${name} package and the top-level ${name} alias have been removed.";

  checkInPkgs =
    n: alias:
    if builtins.hasAttr n super then abort "Alias ${n} is still in all-packages.nix" else alias;

  mapAliases =
    aliases: lib.mapAttrs (n: alias: removeRecurseForDerivations (checkInPkgs n alias)) aliases;

  retiredThrows = mapAliases (lib.genAttrs retiredQt5Packages makeRetiredThrow);

  warnAlias = msg: v: if lib.isDerivation v then lib.warnOnInstantiate msg v else lib.warn msg v;
in

mapAliases {
  # Various to preserve
  rg = ripgrep; # preserve, reason: the command's name
  fuse2fs = if stdenv.hostPlatform.isLinux then e2fsprogs.fuse2fs else null;
  black-formatter = lib.lowPrio black;

  # keep-sorted start
  deluge-1_x = throw ''
    Deluge 1.x (deluge-1_x) is no longer supported.
    Please use Deluge 2.x instead.
  ''; # Added 2021-08-18
  firefox-wayland = warnAlias "'firefox-wayland' has been renamed to/replaced by 'firefox'" firefox; # Converted to warning 2025-10-27
  gone-tool = throw "'gone-tool' has been removed as it was unmaintained upstream"; # Added 2025-01-01
  helloWorld = lib.warnOnInstantiate "'helloWorld' has been renamed to 'hello'" hello; # Added 2024-06-01
  ripgrep-old = throw "'ripgrep-old' has been renamed to/replaced by 'ripgrep'"; # Converted to throw 2025-10-27
  # keep-sorted end
}
// retiredThrows
"""

LICENSES = """\
{ lib }:
let
  spdx = lic: lic // { url = "https://spdx.org/licenses/${lic.spdxId}.html"; };
in
lib.mapAttrs (n: v: v // { shortName = n; }) ({
  gpl3Plus = spdx {
    spdxId = "GPL-3.0-or-later";
    fullName = "GNU General Public License v3.0 or later";
  };

  issl = {
    fullName = "Intel Simplified Software License";
    free = false;
  };

  mit = spdx {
    spdxId = "MIT";
    fullName = "MIT License";
  };

  unfree = {
    fullName = "Unfree";
    free = false;
  };

  unfreeRedistributable = {
    fullName = "Unfree redistributable";
    free = false;
  };

  unfreeRedistributableFirmware = {
    fullName = "Unfree redistributable firmware";
    # considered free here, as old nixpkgs did
  };

  unlicense = spdx {
    spdxId = "Unlicense";
    fullName = "The Unlicense";
  };
})
"""

MODULE_FILES = {
    "nixos/modules/module-list.nix": MODULE_LIST,
    "nixos/modules/config/users-groups.nix": USERS_GROUPS,
    "nixos/modules/services/networking/ssh/sshd.nix": SSHD,
    "nixos/modules/services/networking/ssh/sshd-extra.nix": SSHD_EXTRA,
    "nixos/modules/services/web-servers/nginx/default.nix": NGINX,
    "nixos/modules/services/web-servers/nginx/vhost-options.nix": VHOST_OPTIONS,
    "nixos/modules/services/web-servers/nginx/location-options.nix": LOCATION_OPTIONS,
    "nixos/modules/tasks/filesystems.nix": FILESYSTEMS,
    "nixos/modules/config/i18n.nix": I18N,
    "nixos/modules/services/networking/wpa_supplicant.nix": WPA_SUPPLICANT,
    "nixos/modules/programs/foo.nix": PROGRAM_FOO,
    "nixos/modules/rename.nix": RENAME,
    "nixos/modules/misc/broken-syntax.nix": BROKEN_SYNTAX,
    "nixos/modules/misc/unlisted.nix": UNLISTED,
}


FIXTURE_LIB = """\
# The part of nixpkgs' lib the options evaluation uses, written for the tests.
let
  isOption = value: builtins.isAttrs value && (value._type or null) == "option";
  mkOption = attrs: attrs // { _type = "option"; };
  literal = text: { _type = "literalExpression"; inherit text; };
  show = value: if builtins.isString value then value else builtins.toJSON value;
  doc = loc: option: {
    inherit loc;
    name = builtins.concatStringsSep "." loc;
    description = option.description or null;
    declarations = option.declarations or [ ];
    internal = option.internal or false;
    visible = option.visible or true;
    readOnly = option.readOnly or false;
    type = option.type.description or "unspecified";
  }
  // (if option ? defaultText then { default = literal option.defaultText; }
      else if option ? default then { default = literal (builtins.toJSON option.default); } else { })
  // (if option ? example then { example = literal (show option.example); } else { });
  walk = loc: set: builtins.concatLists (map (name:
    let value = set.${name}; here = loc ++ [ name ]; in
    if isOption value then
      [ (doc here value) ]
      ++ (if (value.type or { }) ? subOptions then walk (here ++ [ "<name>" ]) value.type.subOptions else [ ])
    else if builtins.isAttrs value then walk here value
    else [ ]) (builtins.attrNames set));
  recursiveUpdate = left: right: left // builtins.mapAttrs (name: value:
    if left ? ${name} && builtins.isAttrs value && builtins.isAttrs left.${name}
      && !(isOption value) && !(isOption left.${name})
    then recursiveUpdate left.${name} value else value) right;
in {
  inherit isOption mkOption recursiveUpdate;
  mkEnableOption = name: mkOption {
    type = { description = "boolean"; };
    default = false;
    example = true;
    description = "Whether to enable ${name}.";
  };
  types = {
    bool = { description = "boolean"; };
    str = { description = "string"; };
    port = { description = "16 bit unsigned integer; between 0 and 65535 (both inclusive)"; };
    listOf = type: { description = "list of ${type.description}"; };
    submodule = options: { description = "submodule"; subOptions = options; };
    attrsOf = type: type // { description = "attribute set of (${type.description})"; };
  };
  generators.toPretty = _: show;
  optionAttrSetToDocList = walk [ ];
}
"""

FIXTURE_NIXOS = """\
# Stands in for NixOS's entry point in the tests: option declarations of nixpkgs (written out), and a tiny
# module system for the user's configuration and the modules it imports.
{ configuration ? { } }:
let
  lib = import ../lib;
  inherit (lib) mkOption mkEnableOption types;
  declaredIn = file: set: builtins.mapAttrs (name: value:
    if lib.isOption value then
      value // { declarations = [ (toString file) ]; }
      // (if (value.type or { }) ? subOptions
          then { type = value.type // { subOptions = declaredIn file value.type.subOptions; }; } else { })
    else if builtins.isAttrs value then declaredIn file value
    else value) set;
  nixpkgsOptions = builtins.foldl' lib.recursiveUpdate { } [
    (declaredIn ./modules/services/networking/ssh/sshd.nix {
      services.openssh.enable = mkEnableOption "the OpenSSH secure shell daemon";
      services.openssh.ports = mkOption {
        type = types.listOf types.port;
        default = [ 22 ];
        description = "Specifies on which ports the SSH daemon listens.";
      };
      # what mkRenamedOptionModule declares at the old name
      services.openssh.permitRootLogin = mkOption {
        visible = false;
        description = "Alias of services.openssh.settings.PermitRootLogin.";
      };
    })
    (declaredIn ./modules/config/users-groups.nix {
      users.users = mkOption {
        default = { };
        type = types.attrsOf (types.submodule {
          isNormalUser = mkOption {
            type = types.bool;
            default = false;
            description = "Indicates whether this is an account for a real user.";
          };
        });
        description = "Additional user accounts to be created automatically by the system.";
      };
    })
    (declaredIn ./modules/programs/foo.nix {
      programs.foo.dynamic = mkEnableOption "a name computed at evaluation";
    })
  ];
  load = module:
    let value = if builtins.isPath module then import module else module; in
    if builtins.isFunction value then value { config = { }; pkgs = { }; options = { }; inherit lib; } else value;
  collect = module:
    let value = load module; in
    [ { file = if builtins.isPath module then module else "<unknown-file>"; inherit value; } ]
    ++ builtins.concatLists (map collect (value.imports or [ ]));
  modules = collect configuration;
  userOptions = builtins.foldl' lib.recursiveUpdate { }
    (map (module: declaredIn module.file (module.value.options or { })) modules);
  values = map (module: removeAttrs module.value [ "imports" "options" ]) modules;
in
builtins.deepSeq values {
  options = lib.recursiveUpdate nixpkgsOptions userOptions;
  pkgs = { inherit lib; };
}
"""


USER_MODULE = """\
{ lib, ... }:
{
  options.my.backup = {
    enable = lib.mkEnableOption "nightly backups";
    target = lib.mkOption {
      type = lib.types.str;
      default = "/srv/backup";
      description = "Where backups go.";
    };
  };
}
"""  # a module of the user's own: its options are known only once the configuration is evaluated


def write_tree(root: Path, module_list: bool = True, licenses: bool = True, evaluation: bool = False) -> Path:
    """Write the tree under `root` (without `module-list.nix` or `lib/licenses.nix` when asked; with the
    files real Nix evaluates, `lib/default.nix` and `nixos/default.nix`, when asked)."""
    files = dict(MODULE_FILES)
    if evaluation:
        files["lib/default.nix"] = FIXTURE_LIB
        files["nixos/default.nix"] = FIXTURE_NIXOS
    if not module_list:
        del files["nixos/modules/module-list.nix"]
    for name, text in PACKAGES.items():
        files[f"pkgs/by-name/{name}/package.nix"] = text
    files["pkgs/top-level/all-packages.nix"] = ALL_PACKAGES
    files["pkgs/top-level/aliases.nix"] = ALIASES
    if licenses:
        files["lib/licenses.nix"] = LICENSES
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / "pkgs" / "by-name" / "em" / "empty-dir").mkdir(parents=True)  # a package folder without package.nix
    return root


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing `needle` (to check declaration lines without hard-coding)."""
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in text")
