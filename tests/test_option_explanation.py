"""The three explanation styles really differ (friendly: sentences and an example of use; concise: one line with
the type; expert: type, default, declaring file:line), with a small indexed nixpkgs tree and without one; close
names are suggested for unknown paths; the terminal form keeps the declaration as `file:line`."""

from __future__ import annotations

import tempfile
from pathlib import Path

from nix_humanity_ls.ide.hover import Sources, hover
from nix_humanity_ls.ide.option_explanation import explain_option, terminal_text
from nix_humanity_ls.knowledge.packages import bundled_index
from nix_humanity_ls.knowledge.vocabulary import bundled_vocabulary
from nix_humanity_ls.nixpkgs.static_index import build_static_index
from nix_humanity_ls.syntax.document import Document
from tests.nixpkgs_fixture import SSHD, line_of, write_tree

TREE = write_tree(Path(tempfile.mkdtemp(prefix="nix-humanity-explain-option-")))
INDEXED = Sources(bundled_vocabulary(), bundled_index(), build_static_index(TREE).options, TREE)
BUNDLED = Sources(bundled_vocabulary(), bundled_index())
ROOT_LOGIN = ("services", "openssh", "settings", "PermitRootLogin")


def test_friendly_says_it_in_sentences_with_an_example_of_use():
    text = explain_option(ROOT_LOGIN, INDEXED, "friendly").markdown
    assert "Whether the root user can login using ssh." in text  # nixpkgs' description
    assert 'It takes one of "yes", "prohibit-password", "no"' in text
    assert 'When you leave it out, it is `"prohibit-password"`.' in text
    assert '```nix\nservices.openssh.settings.PermitRootLogin = "yes";\n```' in text  # a value other than the default
    assert text.rstrip().endswith(".")


def test_concise_is_one_line_with_the_type():
    text = explain_option(ROOT_LOGIN, INDEXED, "concise").markdown
    assert text == ("**services.openssh.settings.PermitRootLogin** — Whether the root user can login using ssh. "
                    '· `types.enum [ "yes" "prohibit-password" "no" ]`')


def test_expert_gives_type_default_and_declaration():
    found = explain_option(("services", "openssh", "enable"), INDEXED, "expert")
    line = line_of(SSHD, "enable = lib.mkEnableOption")
    assert found.markdown.startswith("**services.openssh.enable** `types.bool`")
    assert "- default: `false`" in found.markdown
    assert f"- declared by `mkEnableOption` in [nixos/modules/services/networking/ssh/sshd.nix:{line}]" in found.markdown
    assert found.declaration == (TREE / "nixos/modules/services/networking/ssh/sshd.nix", line)
    assert "For example" not in found.markdown and "It takes" not in found.markdown


def test_the_styles_differ_for_every_kind_of_option():
    for path in [ROOT_LOGIN, ("services", "nginx", "virtualHosts"), ("users", "users", "alice", "isNormalUser")]:
        texts = {style: explain_option(path, INDEXED, style).markdown for style in ("friendly", "concise", "expert")}
        assert len(set(texts.values())) == 3, path
        assert "\n" not in texts["concise"]


def test_without_an_index_our_vocabulary_still_explains_in_three_styles():
    path = ("services", "openssh", "enable")
    friendly, concise, expert = (explain_option(path, BUNDLED, s) for s in ("friendly", "concise", "expert"))
    assert friendly.kind == "vocabulary" and "```nix\nservices.openssh.enable = true;\n```" in friendly.markdown
    assert "\n" not in concise.markdown and concise.markdown.startswith("**services.openssh.enable** — Lets you")
    assert "read from your nixpkgs once it is found" in expert.markdown


def test_renamed_groups_and_unknown_paths():
    assert explain_option(("services", "openssh", "permitRootLogin"), INDEXED).kind == "renamed"
    assert explain_option(("services", "openssh"), INDEXED).kind == "group"
    typo = explain_option(("services", "opensh", "enable"), INDEXED)
    assert typo.kind == "unknown" and typo.markdown == "" and typo.suggestions[0] == "services.openssh.enable"
    assert explain_option(("users", "users", "alice", "isNormalUsr"), INDEXED).suggestions == (
        "users.users.alice.isNormalUser",)
    assert explain_option(("servics", "openssh", "enable"), BUNDLED).suggestions[0] == "services.openssh.enable"
    assert explain_option(("nothing", "like", "this"), INDEXED).suggestions == ()


def test_a_name_inside_a_freeform_set_is_explained_with_the_option_it_is_in():
    path = ("services", "openssh", "settings", "X11Forwarding")
    found = explain_option(path, INDEXED)
    assert found.kind == "freeform" and found.type == "types.submodule { … }" and found.default == "{ }"
    assert found.declaration == (TREE / "nixos/modules/services/networking/ssh/sshd.nix",
                                 line_of(SSHD, "settings = mkOption"))
    assert found.markdown.startswith("**services.openssh.settings.X11Forwarding** — a name of your own inside "
                                     "`services.openssh.settings`")
    assert "Configuration for `sshd_config(5)`." in found.markdown  # the text of the option it sits in
    concise = explain_option(path, INDEXED, "concise").markdown
    assert "\n" not in concise and "accepts any name" in concise
    assert explain_option(path + ("deeper",), INDEXED).kind == "freeform"
    assert explain_option(ROOT_LOGIN, INDEXED).kind == "option"  # a declared name inside it stays itself
    assert explain_option(("services", "openssh", "ports", "x"), INDEXED).kind == "unknown"  # not freeform
    assert explain_option(path, BUNDLED).kind == "unknown"  # freeform is known only from the index
    text = "{\n  services.openssh.settings = { X11Forwarding = true; };\n}\n"
    shown = hover(Document("file:///f.nix", text), text.index("X11") + 1, INDEXED)
    assert shown is not None and shown.markdown == found.markdown
    assert text[shown.start : shown.end] == "X11Forwarding"


def test_terminal_text_keeps_the_declaration_as_a_path_and_line():
    found = explain_option(("services", "openssh", "ports"), INDEXED, "friendly")
    text = terminal_text(found.markdown)
    line = line_of(SSHD, "ports = mkOption")
    assert f"Declared in {TREE}/nixos/modules/services/networking/ssh/sshd.nix:{line}." in text
    assert "**" not in text and "```" not in text and "    services.openssh.ports = [ 22 ];" in text
