"""`nix_syntax_problem` (Nix's parser asked about syntax alone) and `nix_rejection`, against the real Nix:
undefined variables are no objection, every other objection Nix has stays, at the same place and in the same
words as `nix_parse_problem` gives them."""

from __future__ import annotations

import shutil

import pytest

from nix_humanity_ls.ide.ask import nix_rejection
from nix_humanity_ls.ide.nix_parse import nix_parse_problem, nix_syntax_problem

pytestmark = pytest.mark.skipif(shutil.which("nix-instantiate") is None, reason="nix-instantiate is not installed")

ACCEPTED = [
    "{ a = x; b = y; }",
    "{ inherit pkgs; c = config.x; }",
    "let a = b; in c",
    "rec { a = q; }",
    "{ config, ... }:\n{\n  environment.systemPackages = [ pkgs.git ];\n}\n",  # a module: a function
    "{ a = 1; } # a comment at the end, no line break",
    "{ a = 1; }\n/* a block comment\n   at the end */",
]
REJECTED = [
    "{ a = ; }",  # first line
    "x = 1;",  # first character
    "{\n  a = 1;\n  b = [ 1 2;\n}\n",
    "{\n  a = 1;\n",  # the end of the file
    "{ a = 1; }\n}",  # the last line
    "x) (y",  # balanced by a wrapper in parentheses, but not by the prefix
    "{ a = 1; a = 2; }",
    "{ x, x }: x",
    "{ a = 1;\n  a.b = 2; }",
    "/* never closed",
    "",
    "# only a comment\n",
]


@pytest.mark.parametrize("text", ACCEPTED)
def test_undefined_variables_are_no_objection(text: str):
    assert nix_syntax_problem(text.encode()) is None


def test_the_plain_parse_does_object_to_them():
    problem = nix_parse_problem(b"{ a = x; b = y; }")
    assert problem is not None and problem.code == "undefined-variable" and "`x`" in problem.message


@pytest.mark.parametrize("text", REJECTED)
def test_every_other_objection_stays_where_nix_puts_it(text: str):
    plain = nix_parse_problem(text.encode())
    syntax = nix_syntax_problem(text.encode())
    assert plain is not None and syntax is not None
    assert (syntax.start, syntax.end, syntax.message, syntax.code) == (plain.start, plain.end, plain.message, plain.code)


def test_a_fix_of_one_of_two_undefined_names_is_not_rejected():
    old = b"{ pkgs, ... }:\nlet\n  myTools = [ ];\nin\n{\n  a = myTols;\n  b = myFnts;\n}\n"
    assert nix_rejection(old, old.replace(b"myTols", b"myTools")) is None
    assert nix_rejection(old, old.replace(b"myTols;", b"myTools")) == "syntax error: unexpected `=`, expected `;`"
