"""Option and package checks against a small nixpkgs tree indexed by the real static indexer: unknown options
with did-you-mean fixes (and the many places where an unknown-looking name is fine), renamed and removed
options, literal values of the wrong type, unknown packages in package lists, the three explanation styles,
fixes whose results parse (tree-sitter and the real `nix-instantiate --parse`), and results kept between
changes that equal a fresh check."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest

from nix_humanity_ls.edits.text_edit import apply_edits
from nix_humanity_ls.ide.diagnostics import document_problems
from nix_humanity_ls.ide.hover import Sources
from nix_humanity_ls.ide.option_checks import option_problems
from nix_humanity_ls.ide.problem import Problem, QuickFix, Severity
from nix_humanity_ls.knowledge.packages import bundled_index
from nix_humanity_ls.knowledge.vocabulary import bundled_vocabulary
from nix_humanity_ls.nixpkgs.records import OptionIndex, StaticIndex
from nix_humanity_ls.nixpkgs.static_index import build_static_index
from nix_humanity_ls.syntax.document import Change, Document
from nix_humanity_ls.syntax.parser import parse
from tests.nixpkgs_fixture import RENAME, SSHD, line_of
from tests.option_checks_fixture import SYSTEM, checks_sources, nix_accepts, write_checks_tree

_uris = itertools.count()


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_checks_tree(tmp_path_factory.mktemp("nixpkgs"))


@pytest.fixture(scope="module")
def index(tree: Path) -> StaticIndex:
    return build_static_index(tree, jobs=1)


@pytest.fixture(scope="module")
def sources(index: StaticIndex) -> Sources:
    return checks_sources(index)


def check(text: str, sources: Sources, style: str = "friendly") -> list[Problem]:
    return option_problems(Document(f"file:///check-{next(_uris)}.nix", text), sources, style)


def module(body: str) -> str:
    return "{ config, lib, pkgs, ... }:\n{\n" + body + "}\n"


def spans(text: str, problems: list[Problem]) -> list[tuple[str, str]]:
    """(code, the text the problem underlines) for each problem."""
    return [(p.code, text.encode()[p.start : p.end].decode()) for p in problems]


def fixed(text: str, fix: QuickFix) -> str:
    result = apply_edits(text.encode(), fix.edits).decode()
    assert not parse(result.encode()).root_node.has_error, result
    return result


# -- no index, no checks ---------------------------------------------------------------------------------------


def test_nothing_is_said_without_the_users_nixpkgs():
    text = module('  servics.opnssh.enable = "yes";\n  environment.systemPackages = with pkgs; [ firefx ];\n')
    bundled_only = Sources(bundled_vocabulary(), bundled_index())
    assert option_problems(Document("file:///none.nix", text), bundled_only) == []
    assert document_problems(Document("file:///none.nix", text)) == []


# -- unknown options -------------------------------------------------------------------------------------------


def test_unknown_option_with_a_fix_that_renames_the_segment(sources: Sources):
    text = module("  services.opnssh.enable = true;\n")
    (problem,) = check(text, sources)
    assert spans(text, [problem]) == [("unknown-option", "opnssh")]
    assert problem.severity == Severity.WARNING  # a static index may miss options
    assert problem.message.startswith("NixOS has no option `services.opnssh` in your nixpkgs. Did you mean "
                                      "`services.openssh.enable`?")
    (fix,) = problem.fixes
    assert fix.preferred and [(e.text) for e in fix.edits] == ["openssh"]
    result = fixed(text, fix)
    assert result == module("  services.openssh.enable = true;\n")
    assert check(result, sources) == []
    nix_accepts(result)


def test_complete_index_makes_unknown_an_error(index: StaticIndex, tree: Path):
    complete = OptionIndex(list(index.options.options()), list(index.options.renames()), complete=True)
    evaluated = Sources(bundled_vocabulary(), bundled_index(), complete, tree)
    (problem,) = check(module("  services.openssh = {\n    enabel = true;\n  };\n"), evaluated)
    assert (problem.code, problem.severity) == ("unknown-option", Severity.ERROR)
    assert "If a module you import declares it" not in problem.message


def test_two_misspelled_segments_are_repaired_together(sources: Sources):
    text = module("  servics.opnssh.enable = true;\n")
    (problem,) = check(text, sources)
    assert spans(text, [problem]) == [("unknown-option", "servics")]
    assert fixed(text, problem.fixes[0]) == module("  services.openssh.enable = true;\n")


def test_suggestions_that_lead_nowhere_are_dropped(sources: Sources):
    (problem,) = check(module("  servics.nginx.enable = true;\n"), sources)
    assert [fix.title for fix in problem.fixes] == ["Change to `services.nginx.enable`"]


def test_unknown_top_level_name_without_suggestion(sources: Sources):
    text = module("  my.own.thing = 1;\n")
    (problem,) = check(text, sources)
    assert spans(text, [problem]) == [("unknown-option", "my")] and problem.fixes == ()


def test_typos_inside_submodules_without_freeform_type(sources: Sources):
    text = module('  users.users.alice.isNormalUsr = true;\n  environment.etc."x".txt = "hi";\n'
                  '  services.nginx.virtualHosts."a.org".locations."/".proxyPas = "http://b";\n')
    problems = check(text, sources)
    assert spans(text, problems) == [("unknown-option", "isNormalUsr"), ("unknown-option", "txt"),
                                     ("unknown-option", "proxyPas")]
    assert [fixed(text, p.fixes[0]).count(word) for p, word in zip(problems, ("isNormalUser", ".text", "proxyPass"))] \
        == [1, 1, 1]


def test_a_freeform_submodule_still_checks_its_declared_options(sources: Sources):
    text = module('  services.blocky.instances.main.port = "x";\n  services.blocky.instances.main.prot = 1;\n')
    assert [code for code, _ in spans(text, check(text, sources))] == ["wrong-type"]  # `prot`: a freeform value


MUST_NOT_FLAG = {
    "a user of attrsOf (submodule …)": "  users.users.alice.isNormalUser = true;\n",
    "a user in nested spelling": "  users.users = {\n    bob = {\n      isNormalUser = true;\n    };\n  };\n",
    "a file system with a quoted name": '  fileSystems."/".device = "/dev/sda1";\n',
    "an interface": "  networking.interfaces.eth0.useDHCP = true;\n",
    "an /etc file": '  environment.etc."nixos/x.conf".text = "hi";\n',
    "a name in a freeform settings": '  services.openssh.settings.X11Forwarding = true;\n  services.openssh.settings.Ciphers = [ "a" ];\n',
    "a value of attrsOf anything": '  boot.kernel.sysctl."net.ipv4.ip_forward" = 1;\n  boot.kernel.sysctl.x.y = 2;\n',
    "a set under a type given by a name": "  programs.bar.settings.whatever.deep = 1;\n",
    "a submodule option two levels down": '  services.nginx.virtualHosts."a.org".locations."/".proxyPass = "http://b";\n',
    "a silent alias": "  environment.checkConfigurationOptions = true;\n",
    "names that are not options": "  imports = [ ];\n  _module.args.x = 1;\n  meta.maintainers = [ ];\n"
                                  "  disabledModules = [ ];\n",
    "a set under an option's value": "  services.openssh.settings = {\n    AnythingAtAll = 1;\n  };\n",
    "a name in a freeform submodule of attrsOf": "  services.blocky.instances.main.upstream.default = [ ];\n",
    "a name in a freeform submodule file": '  services.grafana.settings.server.root_url = "x";\n'
                                           "  services.grafana.settings.security.admin_user = \"a\";\n",
}


@pytest.mark.parametrize("body", MUST_NOT_FLAG.values(), ids=MUST_NOT_FLAG.keys())
def test_names_that_are_fine(sources: Sources, body: str):
    assert check(module(body), sources) == []


def test_let_bindings_and_function_arguments_are_not_options(sources: Sources):
    text = "{ config, lib, pkgs, ... }:\nlet\n  servics = 1;\n  cfg = { opnssh = true; };\nin\n{\n  time.timeZone = \"UTC\";\n}\n"
    assert check(text, sources) == []


def test_full_form_module_checks_config_in_every_wrapper(sources: Sources):
    text = """{ config, lib, pkgs, ... }:
{
  options.my.thing = lib.mkEnableOption "a thing of this file";
  options.my.group = { a = lib.mkOption { type = lib.types.int; }; };
  imports = [ ];
  config = lib.mkMerge [
    { my.thing = true; my.group.a = 1; services.opnssh.enable = true; }
    (lib.mkIf config.my.thing { servics.nginx.enable = true; })
    (lib.mkDefault { services.openssh.enable = "yes"; })
  ];
  config.services.nginx.enabel = true;
}
"""
    problems = check(text, sources)
    assert spans(text, problems) == [("unknown-option", "opnssh"), ("unknown-option", "servics"),
                                     ("wrong-type", '"yes"'), ("unknown-option", "enabel")]
    assert fixed(text, problems[3].fixes[0]).count("config.services.nginx.enable = true;") == 1


# -- renamed and removed options -------------------------------------------------------------------------------


def test_renamed_option_dotted_and_nested_with_the_new_name_as_fix(sources: Sources):
    text = module('  networking.enableIPv6 = false;\n  services.openssh = {\n    permitRootLogin = "no";\n  };\n'
                  '  services.xserver.layout = "de";\n')
    problems = check(text, sources)
    assert spans(text, problems) == [("renamed-option", "networking.enableIPv6"),
                                     ("renamed-option", "permitRootLogin"),
                                     ("renamed-option", "services.xserver.layout")]
    assert all(p.severity == Severity.WARNING for p in problems)
    assert problems[0].message == ("`networking.enableIPv6` was renamed to `networking.ipv6.enable`. It still works for "
                                   "now, but Nix warns about it: use `networking.ipv6.enable`.")
    result = text
    for problem in reversed(problems):
        result = fixed(result, problem.fixes[0])
    assert result == module('  networking.ipv6.enable = false;\n  services.openssh = {\n'
                            '    settings.PermitRootLogin = "no";\n  };\n  services.xserver.xkb.layout = "de";\n')
    assert check(result, sources) == []
    nix_accepts(result)


def test_rename_fix_changes_only_the_segment_that_differs(sources: Sources):
    text = module("  hardware.opengl.enable = true;\n")
    (problem,) = check(text, sources)
    (edit,) = problem.fixes[0].edits
    assert text.encode()[edit.start : edit.end] == b"opengl" and edit.text == "graphics"


def test_no_fix_where_the_new_name_starts_outside_the_binding(sources: Sources):
    text = module("  hardware.opengl = {\n    enable = true;\n  };\n")
    (problem,) = check(text, sources)  # `hardware.opengl` itself is not called unknown
    assert spans(text, [problem]) == [("renamed-option", "enable")] and problem.fixes == ()


def test_changed_option_warns_without_a_fix(sources: Sources):
    (problem,) = check(module("  services.foo.port = 80;\n"), sources)
    assert problem.code == "renamed-option" and problem.fixes == ()
    assert "takes its value in another form" in problem.message


def test_removed_option_is_an_error_with_the_removal_message_and_a_fix_deleting_the_line(sources: Sources):
    text = module("  services.oldthing.enable = true;\n  time.timeZone = \"UTC\";\n")
    (problem,) = check(text, sources)
    assert spans(text, [problem]) == [("removed-option", "services.oldthing")]
    assert problem.severity == Severity.ERROR
    assert problem.message == ("`services.oldthing` was removed from NixOS, so building fails here. nixpkgs says: "
                               "The oldthing service was removed: it was unmaintained.")
    assert fixed(text, problem.fixes[0]) == module('  time.timeZone = "UTC";\n')


def test_expert_style_says_where_the_rename_is_declared(sources: Sources):
    (problem,) = check(module("  networking.enableIPv6 = false;\n"), sources, "expert")
    line = line_of(RENAME, '"networking" "enableIPv6"')
    assert problem.message == f"`networking.enableIPv6` → `networking.ipv6.enable` (renamed, nixos/modules/rename.nix:{line})"


# -- literal values --------------------------------------------------------------------------------------------

WRONG_VALUES = [
    # (binding, the underlined text, code, the fixed binding or None)
    ('services.openssh.enable = "yes";', '"yes"', "wrong-type", "services.openssh.enable = true;"),
    ('services.openssh.enable = "off";', '"off"', "wrong-type", "services.openssh.enable = false;"),
    ('services.openssh.enable = "maybe";', '"maybe"', "wrong-type", None),
    ("services.openssh.enable = 1;", "1", "wrong-type", None),
    ('services.openssh.enable = lib.mkDefault "on";', '"on"', "wrong-type", "services.openssh.enable = lib.mkDefault true;"),
    ("networking.firewall.allowedTCPPorts = 22;", "22", "wrong-type", "networking.firewall.allowedTCPPorts = [ 22 ];"),
    ("networking.firewall.allowedTCPPorts = [ 22 70000 ];", "70000", "out-of-range", None),
    ('networking.firewall.allowedTCPPorts = [ "443" ];', '"443"', "wrong-type", "networking.firewall.allowedTCPPorts = [ 443 ];"),
    ("services.openssh.ports = [ (-1) ];", "-1", "out-of-range", None),
    ('services.openssh.settings.PermitRootLogin = "No";', '"No"', "not-allowed-value",
     'services.openssh.settings.PermitRootLogin = "no";'),
    ('services.openssh.settings.PermitRootLogin = "maybe";', '"maybe"', "not-allowed-value", None),
    ("services.openssh.banner = 5;", "5", "wrong-type", 'services.openssh.banner = "5";'),
    ("networking.hostName = 5;", "5", "wrong-type", 'networking.hostName = "5";'),
    ('boot.supportedFilesystems = [ "zfs" ./ntfs ];', "./ntfs", "wrong-type", None),
    ('services.nginx.virtualHosts."a.org".serverName = true;', "true", "wrong-type", None),
    ('users.users.alice.isNormalUser = "true";', '"true"', "wrong-type", "users.users.alice.isNormalUser = true;"),
    ("environment.systemPackages = pkgs.hello;", "pkgs.hello", None, None),  # not a literal: not judged
]


@pytest.mark.parametrize(("binding", "underlined", "code", "after"), WRONG_VALUES, ids=[c[0] for c in WRONG_VALUES])
def test_literal_values_of_the_wrong_type(sources: Sources, binding: str, underlined: str, code: str | None,
                                          after: str | None):
    text = module(f"  {binding}\n")
    problems = check(text, sources)
    if code is None:
        assert problems == []
        return
    (problem,) = problems
    assert spans(text, [problem]) == [(code, underlined)]
    assert problem.severity == Severity.ERROR
    if after is None:
        assert problem.fixes == ()
    else:
        assert fixed(text, problem.fixes[0]) == module(f"  {after}\n")


def test_values_that_are_fine_or_not_judged(sources: Sources):
    body = """  services.openssh.enable = lib.mkForce true;
  services.openssh.ports = [ 22 2222 ];
  services.openssh.banner = null;
  services.openssh.settings.PermitRootLogin = lib.mkDefault "prohibit-password";
  networking.hostName = "box";
  time.timeZone = "${config.x}";
  services.nginx.enable = config.services.openssh.enable;
  services.nginx.recommendedTlsSettings = lib.mkIf config.services.nginx.enable (!false);
  networking.firewall.allowedTCPPorts = lib.optionals true [ 80 ];
  programs.bar.settings = 5;
  boot.supportedFilesystems = with pkgs; [ "zfs" someName ];
  environment.systemPackages = [ pkgs.hello ];
"""
    assert check(module(body), sources) == []


def test_messages_in_each_style(sources: Sources):
    text = module('  services.openssh.enable = "yes";\n')
    friendly, concise, expert = (check(text, sources, style)[0].message for style in ("friendly", "concise", "expert"))
    assert friendly == '`services.openssh.enable` takes true or false, but this is the text "yes".'
    assert concise == 'expected true or false, got the text "yes"'
    line = line_of(SSHD, "enable = lib.mkEnableOption")
    assert expert == ('`services.openssh.enable`: expected true or false, got the text "yes" '
                      f"(type `types.bool`, nixos/modules/services/networking/ssh/sshd.nix:{line})")
    ports = check(module("  networking.firewall.allowedTCPPorts = 22;\n"), sources)[0].message
    assert ports == ("`networking.firewall.allowedTCPPorts` takes a list of port numbers from 0 to 65535, but this is "
                     "the number 22.")
    assert line_of(SYSTEM, "allowedTCPPorts") > 0


# -- packages --------------------------------------------------------------------------------------------------


def test_unknown_packages_with_fixes(sources: Sources):
    text = module("  environment.systemPackages = with pkgs; [ firefx hello ] ++ [ pkgs.ripgrp ];\n"
                  "  users.users.alice.packages = [ pkgs.helo ];\n")
    problems = check(text, sources)
    assert spans(text, problems) == [("unknown-package", "firefx"), ("unknown-package", "pkgs.ripgrp"),
                                     ("unknown-package", "pkgs.helo")]
    assert all(p.severity == Severity.WARNING for p in problems)
    assert problems[0].message == "Your nixpkgs has no package `firefx`. Did you mean `firefox`?"
    result = text
    for problem in reversed(problems):
        result = fixed(result, problem.fixes[0])
    assert "[ firefox hello ] ++ [ pkgs.ripgrep ]" in result and "[ pkgs.hello ]" in result
    assert check(result, sources) == []
    nix_accepts(result)


def test_package_names_that_are_not_checked(sources: Sources):
    text = """{ config, lib, pkgs, myPackage, ... }:
let
  mine = pkgs.hello;
in
{
  environment.systemPackages = with pkgs; [
    mine
    myPackage
    python3Packages.black
    kdePackages.kate
    pkgs.python3Packages.requests
    (pkgs.callPackage ./x.nix { })
    "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x"
  ];
}
"""
    assert check(text, sources) == []


def test_packages_are_never_judged_by_the_bundled_list_alone(index: StaticIndex, tree: Path):
    bundled_packages = Sources(bundled_vocabulary(), bundled_index(), index.options, tree)
    assert check(module("  environment.systemPackages = with pkgs; [ firefx ];\n"), bundled_packages) == []


# -- the whole pipeline and kept results -----------------------------------------------------------------------


def test_document_problems_adds_the_checks_only_when_the_text_parses(sources: Sources):
    good = Document("file:///pipeline.nix", module("  services.opnssh.enable = true;\n  zz = 1;\n  zz = 2;\n"))
    codes = [p.code for p in document_problems(good, sources=sources)]
    assert codes == ["unknown-option", "unknown-option", "duplicate-attribute", "unknown-option"]
    broken = Document("file:///pipeline-broken.nix", module("  services.opnssh.enable = true\n"))
    assert [p.code for p in document_problems(broken, sources=sources)] == ["syntax-error"]


def test_kept_results_equal_a_fresh_check_after_random_edits(sources: Sources):
    """Random typing, lines added and deleted, from one valid text to the next: what is kept and moved equals
    what a fresh check finds, every time."""
    text = module('  # a comment\n  services.opnssh.enable = "yes";\n  services.openssh = {\n    ports = 22;\n'
                  '    permitRootLogin = "no";\n  };\n  environment.systemPackages = with pkgs; [ firefx ];\n'
                  '  /* block */ services.oldthing.enable = true;\n')
    lines = [b"  zz.top = 1;", b'  services.openssh.enable = "no";', b"  environment.systemPackages = [ pkgs.firefx ];",
             b"  imports = [ ];", b"  # note", b"", b"  services.ngnx.enable = true;"]
    rng = random.Random(4)
    doc = Document("file:///kept.nix", text)
    option_problems(doc, sources)
    valid, compared = doc.source, 0
    for step in range(400):
        if rng.random() < 0.4:
            rows = valid.split(b"\n")
            at = rng.randrange(len(rows))
            if rng.random() < 0.5:
                rows.insert(at, rng.choice(lines))
            else:
                del rows[at]
            new = b"\n".join(rows)
        else:
            where = rng.randrange(len(valid) + 1)
            if rng.random() < 0.5:
                new = valid[:where] + valid[where + 1 + (rng.randrange(4) if rng.random() < 0.2 else 0):]
            else:
                new = valid[:where] + rng.choice(" \n#;{}.=ab\"x1*/").encode() + valid[where:]
        doc.apply([Change(new.decode())])
        if parse(doc.source).root_node.has_error:
            doc.apply([Change(valid.decode())])
            continue
        valid, compared = doc.source, compared + 1
        assert option_problems(doc, sources) == option_problems(Document(f"file:///fresh-{step}.nix", doc.source),
                                                                sources), doc.text
    assert compared > 100
