"""Syntax errors in words a person can act on.

tree-sitter marks errors with bare ERROR and MISSING nodes. Each is read here in its context (the binding it
sits in, the brackets around it, the token that follows) and turned into a sentence such as "missing `;`
after the value of `services.openssh.enable`" or "unclosed `[` opened on line 3". Only the first problem on
a line is kept, so a half-typed line shows one error, not ten.
"""

from __future__ import annotations

from collections.abc import Iterator

from tree_sitter import Node

from ..syntax.document import Document
from ..syntax.query import binding_path, enclosing_binding, leaves
from .problem import Problem, Related

MAX_PROBLEMS = 20
_TOKEN_SCAN_LIMIT = 2000  # an ERROR node this large gets the generic message rather than a long scan

_OPENERS = {"{": "}", "[": "]", "(": ")", "${": "}", "let": "in", '"': '"', "''": "''"}
_CLOSERS = {"}", "]", ")", "in"}
_QUOTES = {'"', "''"}


def syntax_problems(doc: Document, limit: int = MAX_PROBLEMS) -> list[Problem]:
    """Readable syntax problems of `doc`, first per line, at most `limit`."""
    root = doc.tree.root_node
    if not root.has_error:
        return []
    problems = [p for node in _error_nodes(root) if (p := _explain(doc, node)) is not None]
    return _first_per_line(doc, problems, limit)


def _error_nodes(root: Node) -> Iterator[Node]:
    """ERROR and MISSING nodes in document order, descending only into subtrees that contain an error."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            yield node
            continue
        stack.extend(reversed([c for c in node.children if c.has_error or c.is_missing]))


def _first_per_line(doc: Document, problems: list[Problem], limit: int) -> list[Problem]:
    kept: list[Problem] = []
    lines: set[int] = set()
    openers: set[int] = set()  # two symptoms of one unclosed bracket are one problem
    for problem in sorted(problems, key=lambda p: (p.start, p.end)):
        line = doc.line_of(problem.start)
        opener = problem.related[0].start if problem.related else None
        if line in lines or opener in openers:
            continue
        lines.add(line)
        if opener is not None:
            openers.add(opener)
        kept.append(problem)
        if len(kept) == limit:
            break
    return kept


def _dotted(path: tuple[str, ...] | None) -> str:
    return ".".join(path) if path else "this binding"


def _token_before(doc: Document, offset: int) -> Node | None:
    """The token that ends at or before `offset` (skipping white space)."""
    position = offset
    while position > 0 and doc.source[position - 1 : position] in (b" ", b"\t", b"\r", b"\n"):
        position -= 1
    if position == 0:
        return None
    return doc.tree.root_node.descendant_for_byte_range(position - 1, position)


def _at_token_before(doc: Document, offset: int, message: str, related: tuple[Related, ...] = ()) -> Problem:
    """A problem shown on the token before `offset` (a zero-width spot is hard to see in an editor)."""
    token = _token_before(doc, offset)
    if token is None:
        return Problem(offset, offset, message, related=related)
    return Problem(token.start_byte, token.end_byte, message, related=related)


def _line(doc: Document, node: Node) -> int:
    return doc.line_of(node.start_byte) + 1


def _explain(doc: Document, node: Node) -> Problem | None:
    return _explain_missing(doc, node) if node.is_missing else _explain_error(doc, node)


def _explain_missing(doc: Document, node: Node) -> Problem | None:
    kind = node.type
    parent = node.parent
    at = node.start_byte
    parent_type = parent.type if parent is not None else ""
    if kind == ";":
        if parent is not None and parent_type == "binding":
            return _at_token_before(doc, at, f"missing `;` after the value of `{_dotted(binding_path(parent))}`")
        if parent_type in ("inherit", "inherit_from"):
            return _at_token_before(doc, at, "missing `;` at the end of `inherit`")
        return _at_token_before(doc, at, "missing `;`")
    if kind in (")", "]", "}") and parent is not None:
        opener = next((c for c in parent.children if c.type in _OPENERS and _OPENERS[c.type] == kind), None)
        if opener is not None:
            return _unclosed(doc, opener, at)
        return _at_token_before(doc, at, f"missing `{kind}`")
    if kind == "identifier":
        if parent_type == "inherited_attrs":
            return None  # `inherit;` with no names is valid Nix
        if parent_type == "attrpath":
            return Problem(at, at, "missing attribute name before `=`")
        grand = parent.parent if parent is not None else None
        if grand is not None and grand.type == "binding":
            return _at_token_before(doc, at, f"missing value after `{_dotted(binding_path(grand))} =`")
        if grand is not None and grand.type == "binary_expression":
            operator = grand.child_by_field_name("operator")
            shown = operator.text.decode() if operator is not None and operator.text else "the operator"
            return _at_token_before(doc, at, f"missing expression after `{shown}`")
        return _at_token_before(doc, at, "missing expression here")
    return _at_token_before(doc, at, f"missing `{kind}`")


def _unclosed(doc: Document, opener: Node, at: int | None = None) -> Problem:
    """An opener that is never closed: shown where the closer should go when known, else on the opener."""
    kind = _kind(opener)
    closer = _OPENERS[kind]
    line = _line(doc, opener)
    if kind == "let":
        message = f"`let` on line {line} has no `in`: add `in` and the expression the `let` is for"
    elif kind in _QUOTES:
        message = f"unterminated string: the `{kind}` on line {line} has no closing `{closer}`"
    elif at is not None:
        message = f"unclosed `{kind}` opened on line {line}: add `{closer}`"
    elif _ends_in_error(doc):
        message = f"the file ends before the `{kind}` opened on line {line} is closed: add `{closer}`"
    else:
        message = f"unclosed `{kind}` opened on line {line}: add `{closer}` where it should end"
    related = (Related(opener.start_byte, opener.end_byte, f"`{kind}` opened here"),)
    if at is None:
        return Problem(opener.start_byte, opener.end_byte, message, related=related)
    return _at_token_before(doc, at, message, related)


def _ends_in_error(doc: Document) -> bool:
    """True when the last token of the file sits inside an ERROR node: the file stops mid-expression."""
    end = len(doc.source.rstrip())
    node = doc.tree.root_node.descendant_for_byte_range(max(end - 1, 0), end)
    while node is not None:
        if node.is_error:
            return True
        node = node.parent
    return False


def _explain_error(doc: Document, node: Node) -> Problem:
    tokens = []
    for token in leaves(node):
        tokens.append(token)
        if len(tokens) > _TOKEN_SCAN_LIMIT:
            return Problem(node.start_byte, node.start_byte + 1, "syntax error: this part could not be read as Nix")
    tokens = [t for t in tokens if t.type != "comment"]
    if not tokens:
        return Problem(node.start_byte, node.end_byte, "syntax error")
    first = tokens[0]
    types = [_kind(t) for t in tokens]

    if first.type == "*" and doc.source[first.start_byte - 1 : first.start_byte] == b"/":
        return Problem(first.start_byte - 1, first.end_byte, "unterminated comment: `/*` has no closing `*/`")

    stray, unclosed = _match_brackets(tokens)
    if unclosed is not None:
        return _unclosed(doc, unclosed)
    if stray is not None:
        if _kind(stray) == "in":
            return Problem(stray.start_byte, stray.end_byte, "`in` without a `let` before it")
        return Problem(stray.start_byte, stray.end_byte, f"unexpected `{_kind(stray)}`: it closes nothing")

    if "," in types:
        comma = tokens[types.index(",")]
        binding = enclosing_binding(node)
        if binding is not None:
            return Problem(
                comma.start_byte,
                comma.end_byte,
                f"end the value of `{_dotted(binding_path(binding))}` with `;`, not `,`",
            )
    if "=" in types and node.parent is not None and node.parent.type == "list_expression":
        problem = _list_swallowed_binding(doc, node.parent, tokens[types.index("=")])
        if problem is not None:
            return problem
    if "=" in types:
        problem = _missing_semicolon_before(doc, node, tokens[types.index("=")])
        if problem is not None:
            return problem
    for keyword in ("in", "then", "else"):
        if keyword in types:
            token = tokens[types.index(keyword)]
            before = _token_before(doc, token.start_byte)
            if keyword == "in" and before is not None and before.type != ";":
                return _at_token_before(doc, token.start_byte, "missing `;` before `in`")
    if "if" in types and "then" in types and "else" not in types:
        return Problem(first.start_byte, node.end_byte, "`if … then …` needs an `else` branch")
    if types == [";"]:
        before = _token_before(doc, first.start_byte)
        message = "extra `;`" if before is not None and before.type == ";" else "unexpected `;`"
        return Problem(first.start_byte, first.end_byte, message)
    if types == ["."]:
        return Problem(first.start_byte, first.end_byte, "missing attribute name after `.`")
    if first.type == "ellipses" or "..." in types:
        return Problem(first.start_byte, first.end_byte, "missing `,` before `...`")
    shown = doc.slice(first.start_byte, first.end_byte).splitlines()[0][:30] if first.end_byte > first.start_byte else ""
    return Problem(first.start_byte, first.end_byte, f"unexpected `{shown}`" if shown else "syntax error")


def _kind(token: Node) -> str:
    """A token's type; a keyword that error recovery turned into a bare `keyword` node is named by its text."""
    if token.type == "keyword" and token.text:
        return token.text.decode("utf-8", "replace")
    return token.type


def _match_brackets(tokens: list[Node]) -> tuple[Node | None, Node | None]:
    """Pair brackets, quotes and `let`/`in` among `tokens`: (first closer that closes nothing, innermost
    opener left open)."""
    stack: list[Node] = []
    stray: Node | None = None
    for token in tokens:
        kind = _kind(token)
        if kind in _QUOTES and stack and _kind(stack[-1]) == kind:
            stack.pop()
        elif kind in _OPENERS:
            stack.append(token)
        elif kind in _CLOSERS:
            if stack and _OPENERS[_kind(stack[-1])] == kind:
                stack.pop()
            elif stray is None and kind != "in":
                stray = token
            elif stray is None and not any(_kind(t) == "let" for t in stack):
                stray = token
    return stray, (stack[-1] if stack else None)


def _list_swallowed_binding(doc: Document, list_node: Node, equals: Node) -> Problem | None:
    """`[ firefox <newline> time.timeZone = "UTC";` : the list was never closed, so the next binding landed
    inside it. Point after the last real element."""
    opener = list_node.children[0] if list_node.children and list_node.children[0].type == "[" else None
    end = _skip_attrpath_backwards(doc, _token_before(doc, equals.start_byte))
    if opener is None or end is None or end.start_byte < opener.start_byte:
        return None
    shown = doc.slice(end.start_byte, end.end_byte)
    message = f"unclosed `[` opened on line {_line(doc, opener)}: add `]` after `{shown}`"
    if end == opener:
        message = f"unclosed `[` opened on line {_line(doc, opener)}: add `]`"
    return Problem(end.start_byte, end.end_byte, message,
                   related=(Related(opener.start_byte, opener.end_byte, "`[` opened here"),))


def _missing_semicolon_before(doc: Document, error: Node, equals: Node) -> Problem | None:
    """`a = 1 <newline> b = 2;` reads as `a = (1 b) = 2`: the `=` is out of place because `;` is missing
    after `1`. Find the binding whose value swallowed the next binding and the token that ends its value."""
    binding = enclosing_binding(error)
    if binding is None:
        return None
    value = binding.child_by_field_name("expression")
    if value is None or equals.start_byte <= value.start_byte:
        return None
    end = _skip_attrpath_backwards(doc, _token_before(doc, equals.start_byte))
    if end is None or end.start_byte < value.start_byte:
        return None
    return Problem(
        end.start_byte, end.end_byte, f"missing `;` after the value of `{_dotted(binding_path(binding))}`"
    )


def _skip_attrpath_backwards(doc: Document, token: Node | None) -> Node | None:
    """From the last token of an attribute path (`networking.hostName`), the token just before the path."""

    def before(node: Node) -> Node | None:
        found = _token_before(doc, node.start_byte)
        while found is not None and found.type == "comment":
            found = _token_before(doc, found.start_byte)
        return found

    def skip_attr(node: Node | None) -> Node | None:
        if node is None:
            return None
        if node.type == '"' and node.parent is not None and node.parent.type == "string_expression":
            return before(node.parent)
        return before(node) if node.type == "identifier" else None

    token = skip_attr(token)
    while token is not None and token.type == ".":
        token = skip_attr(before(token))
    return token
