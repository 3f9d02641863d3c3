"""Letting unfree packages in: `nixpkgs.config.allowUnfree = true;`, or, when the file already decides with
`allowUnfreePredicate` and a list of names, the new names added to that list. An opaque predicate is not
guessed at: the user is told to add the names themselves."""

from __future__ import annotations

from collections.abc import Sequence

from ..syntax.document import Document
from ..syntax.query import NixList, all_lists, find_bindings, list_elements, text_of
from .lists import insert_elements
from .options import EditError, module_set, set_option
from .text_edit import TextEdit
from .values import nix_string

ALLOW_UNFREE = ("nixpkgs", "config", "allowUnfree")
PREDICATE = ("nixpkgs", "config", "allowUnfreePredicate")


def allow_unfree_edits(doc: Document, names: Sequence[str]) -> list[TextEdit]:
    """Edits that let the unfree packages `names` be built; [] when the file already lets them in."""
    attrset = module_set(doc)
    if any(text_of(b.value).split()[-1:] == ["true"] for b in find_bindings(attrset, ALLOW_UNFREE)):
        return []
    predicates = find_bindings(attrset, PREDICATE)
    if not predicates:
        return set_option(doc, ALLOW_UNFREE, "true")
    predicate = predicates[0].value
    missing = [name for name in names if nix_string(name) not in text_of(predicate)]
    if not missing:
        return []
    for candidate in all_lists(predicate):
        elements = list_elements(candidate, None)
        if elements and all(e.node.type == "string_expression" for e in elements):
            return [insert_elements(doc, NixList(candidate, elements, None, PREDICATE), [nix_string(n) for n in missing])]
    raise EditError(
        f"this file lets unfree packages in with `allowUnfreePredicate`, and it is not clear how to add "
        f"{', '.join(missing)} to it; add {'them' if len(missing) > 1 else 'it'} there yourself"
    )
