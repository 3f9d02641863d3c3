"""Generate a synthetic nixpkgs tree of full size, for measuring the static index.

    python -m bench.nixpkgs_tree /tmp/fake-nixpkgs                 # 2,000 modules, 25,000 packages
    python -m bench.nixpkgs_tree /tmp/small --modules 50 --packages 300

The tree has the parts `nix_humanity_ls.nixpkgs.static_index` reads, written the ways nixpkgs writes them:

- `nixos/modules/<area>/<group>/<name>.nix`: `{ config, lib, pkgs, ... }:` modules in two styles (`with lib;`
  and bare names, or `lib.` everywhere with `inherit (lib) …` in a `let`), `options.services.<name> = { … }`
  or `options = { programs.<name>.… = …; }`, `mkEnableOption` (also `// { default = true; }`),
  `mkPackageOption`, `mkOption` with types (`port`, `str`, `nullOr`, `listOf`, `enum`, …), defaults,
  `literalExpression` examples, `lib.mdDoc ''…''` descriptions, inline `types.submodule { options = …; }`,
  `attrsOf (submodule ({ name, ... }: …))` from a `let`, a freeform `settings`, and a `config = mkIf …`
  section of realistic length; a few import a submodule file (`import ./<name>-instance-options.nix`);
- `nixos/modules/module-list.nix` and `nixos/modules/rename.nix` (mkRenamedOptionModule, mkRemovedOptionModule,
  mkAliasOptionModule, mkRenamedOptionModuleWith, mkChangedOptionModule);
- `pkgs/by-name/<xy>/<name>/package.nix` (stdenv, Go and Python styles; `meta = { … }` and
  `meta = with lib; { … }`; some `''` descriptions, some unfree, licence lists);
- `pkgs/top-level/all-packages.nix` (`callPackage` bindings, `inherit`s, overrides of by-name packages),
  `pkgs/top-level/aliases.nix` (2,500 old names: `old = new;`, `warnAlias "…" new`, `throw "…"`, and a
  `lib.genAttrs` of a `let` list joined with `//`, as current nixpkgs writes it) and `lib/licenses.nix`.

About 20,000 options over 2,000 module files (10 per file on average) and 4,000 lines of renames, as in
nixpkgs. Deterministic for a given seed; ASCII only.
"""

from __future__ import annotations

import argparse
import os
import random
import string
import sys
from pathlib import Path

AREAS = {
    "services": ["networking", "web-servers", "databases", "monitoring", "mail", "misc", "security", "x11",
                 "audio", "backup", "hardware", "system", "cluster", "continuous-integration", "logging"],
    "programs": ["."],
    "hardware": ["."],
    "virtualisation": ["."],
    "security": ["."],
    "system": ["boot", "activation"],
}
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "xe", "zu", "bra", "cre", "dox", "fen", "gri",
             "hal", "jot", "kin", "lum", "mor", "nix", "ops", "pax", "qua", "rex", "syn", "tur", "urb", "vex",
             "wav", "yel", "zen"]
WORDS = ["daemon", "server", "proxy", "cache", "agent", "exporter", "bridge", "manager", "monitor", "gateway",
         "indexer", "scheduler", "relay", "broker", "store", "viewer", "editor", "client", "tool", "library"]
LICENSES_FREE = ["mit", "asl20", "gpl2Plus", "gpl3Plus", "bsd3", "lgpl21Plus", "mpl20", "isc", "agpl3Plus"]
LICENSES_UNFREE = ["unfree", "unfreeRedistributable", "unfreeRedistributableFirmware"]
OPTION_TYPES = [
    ("types.str", '"{value}"'), ("types.bool", "false"), ("types.port", "{port}"), ("types.int", "{number}"),
    ("types.path", '"/var/lib/{name}"'), ("types.nullOr types.str", "null"), ("types.listOf types.str", "[ ]"),
    ('types.enum [ "debug" "info" "warn" "error" ]', '"info"'), ("types.attrsOf types.str", "{{ }}"),
    ("types.lines", '""'), ("with types; nullOr (either str path)", "null"),
]
OPTION_NAMES = ["user", "group", "dataDir", "logLevel", "extraArgs", "listenAddress", "stateDir", "configFile",
                "environment", "extraConfig", "timeout", "workers", "hostName", "domain",
                "maxConnections", "cacheSize", "interval", "secretFile", "enableTLS", "certificate", "retention",
                "bind", "socket", "threads", "memoryLimit", "plugins", "adminEmail", "baseUrl", "mode"]


def word(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts))


def unique_names(rng: random.Random, count: int, parts: tuple[int, int]) -> list[str]:
    """Distinct package-like names; their first two letters spread over hundreds of `pkgs/by-name` shards,
    as real names do."""
    names: dict[str, None] = {}
    while len(names) < count:
        name = rng.choice(string.ascii_lowercase) + word(rng, rng.randint(*parts))
        if rng.random() < 0.35:
            name += "-" + rng.choice(WORDS)
        if rng.random() < 0.1:
            name += str(rng.randint(2, 9))
        names.setdefault(name, None)
    return list(names)


def sentence(rng: random.Random, subject: str, words: int = 12) -> str:
    body = " ".join(rng.choice(WORDS + SYLLABLES + ["the", "a", "of", "to", "for", "with"]) for _ in range(words))
    return f"{subject} {body}".strip()


# -- modules -------------------------------------------------------------------------------------------------


def option_lines(rng: random.Random, name: str, index: int, lib: str, indent: str) -> list[str]:
    """One `mkOption` declaration in one of the usual shapes."""
    option = OPTION_NAMES[index % len(OPTION_NAMES)] + (str(index // len(OPTION_NAMES)) if index >= len(OPTION_NAMES) else "")
    type_text, default = rng.choice(OPTION_TYPES)
    default = default.format(value=word(rng, 2), port=1024 + index * 7 % 60000, number=index * 3, name=name)
    lines = [f"{indent}{option} = {lib}mkOption {{", f"{indent}  type = {type_text.replace('types.', lib + 'types.', 1) if lib else type_text};",
             f"{indent}  default = {default};"]
    if rng.random() < 0.4:
        lines.append(f'{indent}  example = {lib}literalExpression "{word(rng, 3)}";')
    if rng.random() < 0.5:
        lines += [f"{indent}  description = {lib}mdDoc ''"] + [
            f"{indent}    {sentence(rng, 'The', 10)}" for _ in range(rng.randint(1, 4))
        ] + [f"{indent}  '';"]
    else:
        lines.append(f'{indent}  description = "{sentence(rng, "Sets the", 8)}.";')
    lines.append(f"{indent}}};")
    return lines


def module_text(rng: random.Random, kind: str, name: str, options: int, instance_file: str | None
                ) -> tuple[str, int]:
    """A module declaring about `options` options (at least the few every module has); the text and the
    number of options it declares, those of its submodules included."""
    with_style = rng.random() < 0.5
    lib = "" if with_style else "lib."
    head = ["{ config, lib, pkgs, ... }:", ""]
    if with_style:
        head += ["with lib;", ""]
    head += ["let", f"  cfg = config.{kind}.{name};"]
    if not with_style:
        head += ["  inherit (lib) mkIf mkOption types;"]
    head += ["  settingsFormat = pkgs.formats.toml { };"]
    submodule = rng.random() < 0.3
    if submodule:
        head += [
            "  instanceOpts = { name, config, ... }: {",
            "    options = {",
            f'      name = {lib}mkOption {{ type = {lib}types.str; default = name; description = "Instance name."; }};',
            *option_lines(rng, name, 1, lib, "      "),
            "    };",
            "  };",
        ]
    head += ["in", "{"]
    if rng.random() < 0.1:
        head += ["  imports = [", f'    ({lib}mkRenamedOptionModule [ "{kind}" "{name}" "port" ] [ "{kind}" "{name}" "listenPort" ])', "  ];", ""]
    body = [f"  options.{kind}.{name} = {{"] if rng.random() < 0.6 else ["  options = {", f"  {kind}.{name} = {{"]
    nested = body[0].startswith("  options = {")
    body.append(f"    enable = {lib}mkEnableOption ({lib}mdDoc \"{sentence(rng, 'the', 4)}\");")
    count = 1
    if rng.random() < 0.6:
        body.append(f'    package = {lib}mkPackageOption pkgs "{name}" {{ }};')
        count += 1
    if rng.random() < 0.3:
        body.append(f"    openFirewall = {lib}mkEnableOption \"opening the firewall\" // {{ default = true; }};")
        count += 1
    if submodule and count < options:
        body += [
            f"    instances = {lib}mkOption {{",
            f"      type = {lib}types.attrsOf ({lib}types.submodule instanceOpts);",
            "      default = { };",
            f'      description = "Instances of {name}.";',
            "    };",
        ]
        count += 3  # the option and the two in the submodule
    if rng.random() < 0.25 and count < options:
        body += [
            f"    settings = {lib}mkOption {{",
            f"      type = {lib}types.submodule {{",
            "        freeformType = settingsFormat.type;",
            "        options = {",
            *option_lines(rng, name, 2, lib, "          "),
            "        };",
            "      };",
            "      default = { };",
            f'      description = "Configuration for {name}, see upstream documentation.";',
            "    };",
        ]
        count += 2
    if instance_file is not None and count < options:
        body += [
            f"    sites = {lib}mkOption {{",
            f"      type = {lib}types.attrsOf ({lib}types.submodule (import ./{instance_file} {{ inherit lib; }}));",
            "      default = { };",
            '      description = "Sites.";',
            "    };",
        ]
        count += 4  # the option and the three in the file
    index = 3
    while count < options:
        body += option_lines(rng, name, index, lib, "    ")
        index += 1
        count += 1
    body += ["  };"] + (["  };"] if nested else []) + [""]
    config = [
        f"  config = {lib}mkIf cfg.enable {{",
        f"    systemd.services.{name} = {{",
        f'      description = "{sentence(rng, name, 3)}";',
        '      wantedBy = [ "multi-user.target" ];',
        '      after = [ "network.target" ];',
        "      serviceConfig = {",
        f'        ExecStart = "${{cfg.package}}/bin/{name} --config ${{settingsFormat.generate "{name}.toml" cfg.settings}}";',
        "        DynamicUser = true;",
        f'        StateDirectory = "{name}";',
        '        Restart = "on-failure";',
        "        ProtectSystem = \"strict\";",
        "        NoNewPrivileges = true;",
        "      };",
        "    };",
    ]
    for extra in range(rng.randint(4, 24)):
        config += [
            f"    environment.etc.\"{name}/part{extra}.conf\".text = ''",
            *[f"      {word(rng, 2)} = {word(rng, 3)} # {sentence(rng, 'sets', 4)}" for _ in range(rng.randint(2, 6))],
            "    '';",
        ]
    config += [f"    networking.firewall.allowedTCPPorts = {lib}mkIf cfg.openFirewall [ 8080 ];", "  };", "",
               f"  meta.maintainers = with {lib}maintainers; [ {word(rng, 2)} ];", "}", ""]
    return "\n".join(head + body + config), count


INSTANCE_FILE = """\
{ lib }:
{ name, ... }:
{
  options = {
    serverName = lib.mkOption { type = lib.types.str; default = name; description = "Name of the site."; };
    root = lib.mkOption { type = lib.types.nullOr lib.types.path; default = null; description = "Document root."; };
    forceSSL = lib.mkEnableOption "redirecting to HTTPS";
  };
}
"""


RENAME_LINES = [
    '(mkRenamedOptionModule [ "{k}" "{a}" "{o}" ] [ "{k}" "{b}" "{o}" ])',
    '(mkRemovedOptionModule [ "{k}" "{a}" ] "The {a} module was removed because it was unmaintained.")',
    '(mkAliasOptionModule [ "{k}" "{a}" "{o}" ] [ "{k}" "{b}" "{o}" ])',
    '(mkRenamedOptionModuleWith {{ sinceRelease = 2311; from = [ "{k}" "{a}" "{o}" ]; to = [ "{k}" "{b}" "{o}2" ]; }})',
    '(mkChangedOptionModule [ "{k}" "{a}" "{o}" ] [ "{k}" "{b}" "{o}" ] (config: toString config.{k}.{a}.{o}))',
    """(mkRemovedOptionModule [ "{k}" "{a}" "{o}" ] ''
      The option was removed. Use {k}.{b}.settings instead.
    '')""",
]


def write_modules(root: Path, rng: random.Random, files: int, options_total: int) -> int:
    """Module files, module-list.nix and rename.nix; returns the number of options declared."""
    base = root / "nixos" / "modules"
    names = unique_names(rng, files, (2, 3))
    listed: list[str] = []
    written = 0
    areas = list(AREAS.items())
    for i, name in enumerate(names):
        kind, groups = areas[i % len(areas)] if i % 3 else areas[0]
        group = groups[i % len(groups)]
        directory = base / kind / group
        directory.mkdir(parents=True, exist_ok=True)
        remaining_files = files - i
        options = max(2, round((options_total - written) / remaining_files + rng.randint(-6, 6)))
        instance_file = f"{name}-instance-options.nix" if i % 50 == 7 else None
        text, declared = module_text(rng, kind, name.replace("-", "_"), options, instance_file)
        (directory / f"{name}.nix").write_text(text)
        if instance_file is not None:
            (directory / instance_file).write_text(INSTANCE_FILE)
        listed.append(f"./{kind}/{group}/{name}.nix".replace("/./", "/"))
        written += declared
    renames = ["{ lib, ... }:", "", "with lib;", "", "{", "  imports = ["]
    for i in range(700):
        template = RENAME_LINES[i % len(RENAME_LINES)]
        renames.append("    " + template.format(k="services", a=f"old{word(rng, 2)}{i}", b=f"new{word(rng, 2)}{i}",
                                                o=OPTION_NAMES[i % len(OPTION_NAMES)]))
    renames += ["  ];", "}", ""]
    (base / "rename.nix").write_text("\n".join(renames))
    listed.append("./rename.nix")
    (base / "module-list.nix").write_text("[\n" + "".join(f"  {p}\n" for p in listed) + "]\n")
    return written


# -- packages ------------------------------------------------------------------------------------------------


def package_text(rng: random.Random, name: str, unfree: bool) -> str:
    style = rng.random()
    licence = rng.choice(LICENSES_UNFREE) if unfree else rng.choice(LICENSES_FREE)
    with_lib = rng.random() < 0.4
    prefix = "" if with_lib else "lib."
    if rng.random() < 0.15:
        license_line = f"license = with {prefix}licenses; [ {licence} {rng.choice(LICENSES_FREE)} ];"
    else:
        license_line = f"license = {prefix}licenses.{licence};"
    if rng.random() < 0.03:
        description = ["description = ''", f"      {sentence(rng, 'A', 8)}", "    '';"]
    elif rng.random() < 0.04:
        description = []
    else:
        description = [f'description = "{sentence(rng, "A", 7)}";']
    if rng.random() < 0.3:
        description += ["longDescription = ''"] + [f"      {sentence(rng, 'It', 10)}" for _ in range(4)] + ["    '';"]
    extra = []
    if rng.random() < 0.5:
        extra = ["  postInstall = ''", f"    install -Dm644 share/{name}.desktop $out/share/applications/{name}.desktop",
                 f"    wrapProgram $out/bin/{name} --prefix PATH : ${{lib.makeBinPath [ openssl ]}}", "  '';", "",
                 "  passthru.updateScript = nix-update-script { };", ""]
    meta = extra + (["  meta = with lib; {"] if with_lib else ["  meta = {"]) + [f"    {line}" for line in description] + [
        f'    homepage = "https://example.org/{name}";',
        f"    {license_line}",
        f"    maintainers = with {prefix}maintainers; [ {word(rng, 2)} ];",
        f"    platforms = {prefix}platforms.linux;",
        f'    mainProgram = "{name}";',
        "  };",
    ]
    if style < 0.5:
        head = ["{", "  lib,", "  stdenv,", "  fetchFromGitHub,", "  cmake,", "  pkg-config,", "  openssl,", "  nix-update-script,", "}:", "",
                "stdenv.mkDerivation (finalAttrs: {", f'  pname = "{name}";', f'  version = "{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}";',
                "", "  src = fetchFromGitHub {", f'    owner = "{word(rng, 2)}";', f'    repo = "{name}";',
                '    rev = "v${finalAttrs.version}";', '    hash = "sha256-0000000000000000000000000000000000000000000=";', "  };", "",
                "  nativeBuildInputs = [", "    cmake", "    pkg-config", "  ];", "", "  buildInputs = [ openssl ];", "",
                '  cmakeFlags = [ "-DBUILD_TESTING=OFF" ];', ""]
        tail = ["})", ""]
    elif style < 0.8:
        head = ["{", "  lib,", "  buildGoModule,", "  fetchFromGitHub,", "  openssl,", "  nix-update-script,", "}:", "", "buildGoModule rec {",
                f'  pname = "{name}";', '  version = "1.0.0";', "", "  src = fetchFromGitHub {",
                f'    owner = "{word(rng, 2)}";', f'    repo = "{name}";', '    rev = "v${version}";',
                '    hash = "sha256-1111111111111111111111111111111111111111111=";', "  };", "",
                '  vendorHash = "sha256-2222222222222222222222222222222222222222222=";', "",
                '  ldflags = [ "-s" "-w" "-X main.version=${version}" ];', ""]
        tail = ["}", ""]
    else:
        head = ["{", "  lib,", "  python3Packages,", "  fetchPypi,", "  openssl,", "  nix-update-script,", "}:", "", "python3Packages.buildPythonApplication rec {",
                f'  pname = "{name}";', '  version = "2.3.4";', '  pyproject = true;', "", "  src = fetchPypi {",
                "    inherit pname version;", '    hash = "sha256-3333333333333333333333333333333333333333333=";', "  };", "",
                "  build-system = with python3Packages; [ setuptools ];", "",
                "  dependencies = with python3Packages; [", "    requests", "    click", "  ];", "",
                f'  pythonImportsCheck = [ "{name.replace("-", "_")}" ];', ""]
        tail = ["}", ""]
    return "\n".join(head + meta + tail)


def write_packages(root: Path, rng: random.Random, count: int, top_level: int) -> tuple[int, int]:
    """by-name packages, all-packages.nix and lib/licenses.nix; returns (packages, unfree packages)."""
    names = unique_names(rng, count + top_level + 20, (2, 4))
    by_name, others, inherited = names[:count], names[count:-20], names[-20:]
    unfree = 0
    for name in by_name:
        directory = root / "pkgs" / "by-name" / name[:2] / name
        directory.mkdir(parents=True, exist_ok=True)
        is_unfree = rng.random() < 0.03
        unfree += is_unfree
        (directory / "package.nix").write_text(package_text(rng, name, is_unfree))
    lines = ["{ lib, noSysDirs, config, overlays }:", "res: pkgs: super:", "", "with pkgs;", "", "{"]
    for i, name in enumerate(others):
        lines.append(f"  {name} = callPackage ../tools/misc/{name} {{ }};")
        if i % 10 == 0:
            lines.append(f"  {name}-full = {name}.override {{ withAll = true; }};")
    for name in by_name[: len(by_name) // 10]:  # by-name packages that all-packages.nix overrides
        lines.append(f"  {name} = callPackage ../by-name/{name[:2]}/{name}/package.nix {{ openssl = openssl_3; }};")
    lines.append("  inherit (python3Packages) " + " ".join(inherited) + ";")
    lines.append("}")
    top = root / "pkgs" / "top-level"
    top.mkdir(parents=True, exist_ok=True)
    (top / "all-packages.nix").write_text("\n".join(lines) + "\n")
    licences = ["{ lib }:", "lib.mapAttrs (n: v: v // { shortName = n; }) {"]
    for name in LICENSES_FREE:
        licences += [f"  {name} = {{", f'    fullName = "{name} licence";', "  };"]
    for name in LICENSES_UNFREE:
        licences += [f"  {name} = {{", f'    fullName = "{name}";', "    free = false;", "  };"]
    licences.append("}")
    (root / "lib").mkdir(exist_ok=True)
    (root / "lib" / "licenses.nix").write_text("\n".join(licences) + "\n")
    return count, unfree


def write_aliases(root: Path, rng: random.Random, count: int) -> int:
    """`pkgs/top-level/aliases.nix` with `count` old names in one `mapAliases { … }`, 150 more from a list."""
    names = unique_names(rng, 2 * count + 150, (3, 5))
    old, new, generated = names[:count], names[count : 2 * count], names[2 * count :]
    lines = ["lib: self: super:", "", "with self;", "", "let",
             "  retired = [", *(f'    "{name}"' for name in generated), "  ];", "",
             "  retiredThrow = name: throw \"The ${name} package has been removed.\";", "",
             "  mapAliases = aliases: lib.mapAttrs (n: alias: alias) aliases;", "",
             "  warnAlias = msg: v: lib.warnOnInstantiate msg v;", "in", "", "mapAliases {"]
    for before, after in sorted(zip(old, new)):
        kind = rng.random()
        date = f"20{rng.randint(20, 26)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        if kind < 0.3:
            lines.append(f"  {before} = {after}; # Added {date}")
        elif kind < 0.6:
            lines.append(f"  {before} = warnAlias \"'{before}' has been renamed to '{after}'\" {after}; # Added {date}")
        else:
            lines.append(f"  {before} = throw \"'{before}' has been removed as it was unmaintained upstream\"; "
                         f"# Added {date}")
    lines += ["}", "// mapAliases (lib.genAttrs retired retiredThrow)", ""]
    (root / "pkgs" / "top-level" / "aliases.nix").write_text("\n".join(lines))
    return count + len(generated)


def generate_tree(root: Path, modules: int = 2000, options: int = 20000, packages: int = 25000,
                  top_level: int = 6000, seed: int = 0) -> dict[str, int]:
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    written = write_modules(root, rng, modules, options)
    count, unfree = write_packages(root, rng, packages, top_level)
    aliases = write_aliases(root, rng, 2500)
    return {"module files": modules, "options": written, "packages": count, "unfree": unfree,
            "top-level only": top_level, "old names": aliases}


def tree_size(root: Path) -> tuple[int, int]:
    files = size = 0
    for directory, _, names in os.walk(root):
        for name in names:
            files += 1
            size += os.path.getsize(os.path.join(directory, name))
    return files, size


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.nixpkgs_tree", description=__doc__.split("\n\n")[0])
    ap.add_argument("root", type=Path)
    ap.add_argument("--modules", type=int, default=2000)
    ap.add_argument("--options", type=int, default=20000)
    ap.add_argument("--packages", type=int, default=25000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    info = generate_tree(args.root, args.modules, args.options, args.packages, seed=args.seed)
    print(info, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
