"""Operations on a module (set an option, add packages, add to a list…) and applying several in a row.

Each operation is computed on the text the previous one produced, so "add firefox and enable ssh" works
on any file; the final text must parse or nothing is returned. Callers turn the before/after pair into
minimal edits (`text_edit.minimal_edits`) or a diff.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from ..syntax.document import Document
from ..syntax.query import find_bindings
from .lists import SYSTEM_PACKAGES, add_packages, add_to_list, package_list_paths, remove_from_list, remove_packages
from .options import EditError, check_reachable, module_set, set_option
from .scope import MODULE_ARGUMENTS, ScopeError, module_argument_edits, unbound_names
from .text_edit import TextEdit, apply_edits
from .unfree import allow_unfree_edits


@attrs.frozen
class SetOption:
    path: tuple[str, ...]
    value: str  # Nix source text
    only_existing: bool = False  # switching something off that the file never switched on changes nothing
    companion: bool = False  # goes with the main switch before it; never written over the user's own value


@attrs.frozen
class AddPackages:
    names: tuple[str, ...]
    path: tuple[str, ...] = SYSTEM_PACKAGES


@attrs.frozen
class RemovePackages:
    """Remove packages from `path`, or from every package list of the module when `path` is None."""

    names: tuple[str, ...]
    path: tuple[str, ...] | None = None


@attrs.frozen
class AddToList:
    path: tuple[str, ...]
    items: tuple[str, ...]  # Nix source texts


@attrs.frozen
class RemoveFromList:
    path: tuple[str, ...]
    items: tuple[str, ...]


@attrs.frozen
class AllowUnfree:
    """Let these unfree packages be built (`allowUnfree`, or their names in an existing predicate's list)."""

    names: tuple[str, ...]


Operation = SetOption | AddPackages | RemovePackages | AddToList | RemoveFromList | AllowUnfree


def operation_edits(doc: Document, operation: Operation) -> list[TextEdit]:
    """The edits one operation makes to `doc` ([] when it is already so)."""
    if isinstance(operation, SetOption):
        if operation.only_existing and not find_bindings(module_set(doc), operation.path):
            check_reachable(module_set(doc), operation.path)  # "off" is not "already so" when it is hidden
            return []
        if operation.companion and find_bindings(module_set(doc), operation.path):
            return []
        return set_option(doc, operation.path, operation.value)
    if isinstance(operation, AddPackages):
        return add_packages(doc, operation.path, operation.names)
    if isinstance(operation, RemovePackages):
        paths = [operation.path] if operation.path is not None else package_list_paths(doc) or [SYSTEM_PACKAGES]
        return [edit for path in paths for edit in remove_packages(doc, path, operation.names)]
    if isinstance(operation, AllowUnfree):
        return allow_unfree_edits(doc, operation.names)
    if isinstance(operation, AddToList):
        return add_to_list(doc, operation.path, operation.items)
    return remove_from_list(doc, operation.path, operation.items)


@attrs.frozen
class Applied:
    source: bytes
    changed: tuple[Operation, ...]  # the operations that changed something
    unchanged: tuple[Operation, ...]  # the ones that were already true of the file


def apply_operations(doc: Document, operations: Sequence[Operation]) -> Applied:
    """Apply operations in order. Raises `EditError` when one cannot be made or the result does not parse."""
    current = doc
    changed: list[Operation] = []
    unchanged: list[Operation] = []
    main_changed = True
    for operation in operations:
        if isinstance(operation, SetOption) and operation.companion and not main_changed and operation.value not in ("true", "false"):
            # the feature was already on: its tuning (`nix.gc.dates`) is the user's business; a switch that
            # belongs with it (PipeWire's `pulse.enable`) is still added
            unchanged.append(operation)
            continue
        edits = operation_edits(current, operation)
        if not (isinstance(operation, SetOption) and operation.companion):
            main_changed = bool(edits)
        if not edits:
            unchanged.append(operation)
            continue
        current = current.edited((e.start, e.end, e.text) for e in edits)
        if current.tree.root_node.has_error:
            raise EditError("the change would break the file's syntax, so it was not made (please report this)")
        changed.append(operation)
    if changed:
        current = _with_module_arguments(doc, current)
    return Applied(current.source, tuple(changed), tuple(unchanged))


def _with_module_arguments(original: Document, current: Document) -> Document:
    """New text may read `pkgs` in a module that never took it (`{ }`, `{ config, ... }:`): add it to the
    module's arguments, or Nix rejects the file with "undefined variable 'pkgs'"."""
    # only names the new text mentions more often than the old did can have become unbound (and the tree
    # walk is skipped for the common case of bare names added under `with pkgs;`)
    grown = [n for n in MODULE_ARGUMENTS if current.source.count(n.encode()) > original.source.count(n.encode())]
    missing = [name for name in unbound_names(current, grown) if name not in unbound_names(original, grown)]
    if not missing:
        return current
    try:
        edits = module_argument_edits(current, missing)
    except ScopeError as error:
        raise EditError(str(error)) from error
    result = Document(original.uri, apply_edits(current.source, edits))
    if result.tree.root_node.has_error:
        raise EditError("the change would break the file's syntax, so it was not made (please report this)")
    return result
