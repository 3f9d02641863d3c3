"""The shared query layer: module set, option bindings in every spelling, lists and their elements, comments."""

from __future__ import annotations

import pytest

from nix_humanity_ls.syntax.document import Document
from nix_humanity_ls.syntax.query import (
    all_lists,
    binding_path,
    bindings,
    comments,
    find_bindings,
    let_binding_value,
    lists_in_value,
    module_attrset,
    nodes_of_type,
    option_lists,
    text_of,
)


def doc(text: str) -> Document:
    return Document("file:///t.nix", text)


@pytest.mark.parametrize(
    "text",
    [
        "{ a = 1; }",
        "{ config, pkgs, ... }: { a = 1; }",
        "{ config, ... }:\nlet x = 1; in\n{ a = 1; }",
        "args@{ pkgs, ... }: with pkgs; { a = 1; }",
        "{ ... }: ({ a = 1; })",
        "rec { a = 1; }",
        "{ lib, ... }: assert true; let y = 2; in { a = 1; }",
    ],
)
def test_module_attrset_found_through_wrappers(text: str):
    attrset = module_attrset(doc(text).tree)
    assert attrset is not None
    assert [b.path for b in bindings(attrset)] == [("a",)]


@pytest.mark.parametrize("text", ["", "# only a comment", "[ 1 2 ]", "x: x", "let a = 1; in a"])
def test_no_module_attrset(text: str):
    assert module_attrset(doc(text).tree) is None


@pytest.mark.parametrize(
    "text",
    [
        "{ services.openssh.enable = true; }",
        "{ services = { openssh.enable = true; }; }",
        "{ services.openssh = { enable = true; }; }",
        "{ services = { openssh = { enable = true; }; }; }",
        '{ services."openssh".enable = true; }',
        "{ pkgs, ... }: { services.openssh = pkgs.lib.mkIf true { enable = true; }; }",
        "{ lib, ... }: { services = lib.mkMerge [ ] // { }; services.openssh = lib.mkDefault { enable = true; }; }",
    ],
)
def test_find_binding_in_every_spelling(text: str):
    document = doc(text)
    (found,) = find_bindings(module_attrset(document.tree), ("services", "openssh", "enable"))
    assert found.path == ("services", "openssh", "enable")
    assert text_of(found.value) == "true"
    assert binding_path(found.node) == ("services", "openssh", "enable")


def test_find_binding_misses_other_paths_and_dynamic_names():
    document = doc('{ services.openssh.enable = true; ${"x"}.y = 1; services.nginx = { enable = false; }; }')
    attrset = module_attrset(document.tree)
    assert find_bindings(attrset, ("services", "openssh")) == []
    assert find_bindings(attrset, ("services", "sshd", "enable")) == []
    assert [text_of(b.value) for b in find_bindings(attrset, ("services", "nginx", "enable"))] == ["false"]


def test_binding_path_stops_at_let_and_lists():
    document = doc("let cfg = { port = 22; }; in { imports = [ { x.y = 1; } ]; }")
    let_port = next(b for b in bindings(document.tree.root_node.named_children[0]) if b.path[-1] == "port")
    assert binding_path(let_port.node) == ("cfg", "port")
    inner = next(n for n in _walk(document.tree.root_node) if n.type == "binding" and text_of(n).startswith("x.y"))
    assert binding_path(inner) == ("x", "y")


def _walk(node):
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.children)


@pytest.mark.parametrize(
    ("text", "names", "scopes"),
    [
        ("{ pkgs, ... }: { environment.systemPackages = with pkgs; [ firefox git ]; }", ["firefox", "git"], ["pkgs"]),
        ("{ pkgs, ... }: { environment.systemPackages = [ pkgs.firefox pkgs.git ]; }", ["firefox", "git"], [None]),
        (
            "{ pkgs, ... }: { environment.systemPackages = (with pkgs; [ firefox ]) ++ [ pkgs.git ]; }",
            ["firefox", "git"],
            ["pkgs", None],
        ),
        (
            "{ pkgs, ... }: let mine = with pkgs; [ htop ]; in { environment.systemPackages = mine ++ [ pkgs.git ]; }",
            ["htop", "git"],
            ["pkgs", None],
        ),
        (
            "{ lib, pkgs, ... }: { environment.systemPackages = lib.mkIf true (with pkgs; [ vim ]); }",
            ["vim"],
            ["pkgs"],
        ),
        ("{ pkgs, ... }: { environment = { systemPackages = with pkgs; [\n  tmux\n]; }; }", ["tmux"], ["pkgs"]),
    ],
)
def test_option_lists_and_elements(text: str, names: list[str], scopes: list[str | None]):
    document = doc(text)
    lists = option_lists(module_attrset(document.tree), ("environment", "systemPackages"))
    assert [e.name for lst in lists for e in lst.elements] == names
    assert [lst.with_scope for lst in lists] == scopes
    assert all(lst.owner == ("environment", "systemPackages") for lst in lists)


def test_qualified_elements_keep_their_qualifier():
    document = doc("{ pkgs, ... }: { x = [ pkgs.python3Packages.numpy pkgs.git (pkgs.callPackage ./a.nix { }) ]; }")
    (lst,) = lists_in_value(find_bindings(module_attrset(document.tree), ("x",))[0].value)
    assert [(e.qualifier, e.name) for e in lst.elements] == [
        ("pkgs.python3Packages", "numpy"),
        ("pkgs", "git"),
        (None, None),
    ]


def test_let_binding_value_prefers_the_innermost_scope():
    document = doc("let a = 1; in let a = 2; in a")
    body = document.tree.root_node.named_children[0].child_by_field_name("body").child_by_field_name("body")
    assert text_of(let_binding_value(body, "a")) == "2"


def test_comments_and_lists_in_document_order():
    text = "# head\n{ /* block */ a = [ 1 ]; # tail\n  b = [ [ 2 ] ];\n}"
    document = doc(text)
    assert [text_of(c) for c in comments(document.tree.root_node)] == ["# head", "/* block */", "# tail"]
    start = text.index("a =")
    assert [text_of(c) for c in comments(document.tree.root_node, start, start + 20)] == ["# tail"]
    assert [text_of(n) for n in all_lists(document.tree.root_node)] == ["[ 1 ]", "[ [ 2 ] ]", "[ 2 ]"]


def test_nodes_of_type_in_document_order_through_nesting():
    text = '{ a = "x"; b = { c = "y${d}z"; }; e = let f = "w"; in f; }'
    root = doc(text).tree.root_node
    assert [text_of(n) for n in nodes_of_type(root, "string_fragment")] == ["x", "y", "z", "w"]
    assert [text_of(n).split(" =")[0] for n in nodes_of_type(root, "binding")] == ["a", "b", "c", "e", "f"]
    assert list(nodes_of_type(root, "source_code")) == [root]
