"""Syntax errors in words a person can act on.

tree-sitter marks errors with bare ERROR and MISSING nodes. Each is read here in its context (the binding it
sits in, the brackets around it, the token that follows) and turned into a sentence such as "missing `;`
after the value of `services.openssh.enable`" or "unclosed `[` opened on line 3". Only the first problem on
a line is kept, so a half-typed line shows one error, not ten.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice

from tree_sitter import Node

from ..syntax.document import Document
from ..syntax.query import attrpath_names, leaves
from .problem import Problem, Related

MAX_PROBLEMS = 20
_EXPLAINED_PER_PROBLEM = 5  # error nodes looked at per problem shown: a broken deep file has thousands
_CLIMB_LIMIT = 200  # ancestors looked at to name a binding (`services.openssh.enable`)
_TOKEN_SCAN_LIMIT = 2000  # an ERROR node this large gets the generic message rather than a long scan

_OPENERS = {"{": "}", "[": "]", "(": ")", "${": "}", "let": "in", '"': '"', "''": "''"}
_CLOSERS = {"}", "]", ")", "in"}
_INTERPOLATION_HOMES = {"string_expression", "indented_string_expression", "path_expression", "hpath_expression",
                        "attrpath", "inherited_attrs"}
_SET_OWNERS = {"attrset_expression", "rec_attrset_expression", "let_expression", "binding_set"}
_QUOTES = {'"', "''"}
_BINARY_OPERATORS = {"+", "-", "*", "/", "++", "//", "==", "!=", "<", ">", "<=", ">=", "&&", "||", "->", "?"}
_EXPRESSION_LEADERS = _BINARY_OPERATORS | {"!", "=", "then", "else", "if", "assert", "with", "in", "(", "[", "${"}
# What a keyword that starts an expression needs next, when the ERROR it starts lacks it.
_KEYWORD_NEEDS = {
    "assert": (";", "`assert` needs `;` after its condition: `assert condition; expression`"),
    "with": (";", "`with` needs `;` after its set: `with pkgs; [ … ]`"),
    "if": ("then", "`if` needs `then` after its condition: `if condition then a else b`"),
}


def syntax_problems(doc: Document, limit: int = MAX_PROBLEMS) -> list[Problem]:
    """Readable syntax problems of `doc`, first per line, at most `limit`."""
    root = doc.tree.root_node
    if not root.has_error:
        return []
    problems: list[Problem] = []
    taken: set[int] = set()  # lines that already have a problem: an error node wholly on one adds nothing
    for node, context in islice(_error_nodes(root), limit * _EXPLAINED_PER_PROBLEM):
        line = doc.line_of(node.start_byte)
        if line in taken and doc.line_of(node.end_byte) == line:
            continue
        problem = _explain(doc, node, context)
        if problem is not None:
            problems.append(problem)
            taken.add(doc.line_of(problem.start))
    return _first_per_line(doc, problems, limit)


class _Context:
    """The ancestors of an error node, outermost first, as the descent from the root met them. `Node.parent`
    is no substitute: it walks down from the root on every call, and on a zero-width node thousands of
    levels deep it crashes the process (tree-sitter 0.25.2)."""

    __slots__ = ("ancestors",)

    def __init__(self, path: list[Node]) -> None:
        self.ancestors = tuple(path)

    @property
    def parent(self) -> Node | None:
        return self.ancestors[-1] if self.ancestors else None

    @property
    def grand(self) -> Node | None:
        return self.ancestors[-2] if len(self.ancestors) > 1 else None

    def enclosing_binding(self) -> int | None:
        """Index in `ancestors` of the nearest `binding`."""
        return next((i for i in range(len(self.ancestors) - 1, -1, -1) if self.ancestors[i].type == "binding"), None)

    def binding_path(self, index: int | None) -> tuple[str, ...] | None:
        """The attribute path of the binding at `ancestors[index]` from the outermost set around it, as in
        `services.openssh.enable`: its own path, prefixed by those of the bindings whose values hold it. The
        climb stops at a `let`, a list or a function's parameters (paths restart there); `…` shows a cut.
        None when a name is dynamic or there is no binding."""
        if index is None:
            return None
        parts: list[tuple[str, ...]] = []
        child: Node | None = None
        cut = index >= _CLIMB_LIMIT  # a name that long is cut anyway; climbing further costs time
        for position in range(index, max(index - _CLIMB_LIMIT, -1), -1):
            node = self.ancestors[position]
            if node.type == "binding":
                if child is not None and node.child_by_field_name("expression") != child:
                    cut = False
                    break
                attrpath = node.child_by_field_name("attrpath")
                names = attrpath_names(attrpath) if attrpath is not None else None
                if names is None:
                    return None
                parts.append(names)
            elif node.type in ("let_expression", "list_expression", "formals"):
                cut = False
                break
            child = node
        path = tuple(name for names in reversed(parts) for name in names)
        return ("…", *path) if cut and path else path


def _error_nodes(root: Node) -> Iterator[tuple[Node, _Context]]:
    """ERROR and MISSING nodes in document order, each with its ancestors, descending only into subtrees
    that contain an error."""
    path: list[Node] = []
    stack: list[tuple[Node, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        del path[depth:]
        if node.is_error or node.is_missing:
            yield node, _Context(path)
            continue
        path.append(node)
        stack.extend(reversed([(c, depth + 1) for c in node.children if c.has_error or c.is_missing]))


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
    if not path:
        return "this binding"
    shown = ".".join(path).replace("….", "…", 1)
    return shown if len(shown) <= 80 else "…" + shown[-79:]


def _climb(node: Node, stop: Node, limit: int = 8) -> Iterator[Node]:
    """The parents of `node` up to (not including) its ancestor `stop`: a short climb inside one ERROR."""
    current = node.parent
    for _ in range(limit):
        if current is None or current == stop:
            return
        yield current
        current = current.parent


def _token_before(doc: Document, offset: int) -> Node | None:
    """The token that ends at or before `offset` (skipping white space)."""
    position = offset
    while position > 0 and doc.source[position - 1 : position] in (b" ", b"\t", b"\r", b"\n"):
        position -= 1
    if position == 0:
        return None
    return doc.tree.root_node.descendant_for_byte_range(position - 1, position)


def _code_before(doc: Document, offset: int) -> Node | None:
    """The token before `offset` that is not a comment."""
    token = _token_before(doc, offset)
    while token is not None and token.type == "comment":
        token = _token_before(doc, token.start_byte)
    return token


def _token_after(doc: Document, offset: int) -> Node | None:
    """The token that starts at or after `offset` (skipping white space)."""
    position = offset
    while doc.source[position : position + 1] in (b" ", b"\t", b"\r", b"\n"):
        position += 1
    if position >= len(doc.source):
        return None
    return doc.tree.root_node.descendant_for_byte_range(position, position + 1)


def _at_token_before(doc: Document, offset: int, message: str, related: tuple[Related, ...] = ()) -> Problem:
    """A problem shown on the token before `offset` (a zero-width spot is hard to see in an editor)."""
    token = _token_before(doc, offset)
    if token is None:
        return Problem(offset, offset, message, related=related)
    return Problem(token.start_byte, token.end_byte, message, related=related)


def _line(doc: Document, node: Node) -> int:
    return doc.line_of(node.start_byte) + 1


def _explain(doc: Document, node: Node, context: _Context) -> Problem | None:
    return _explain_missing(doc, node, context) if node.is_missing else _explain_error(doc, node, context)


def _explain_missing(doc: Document, node: Node, context: _Context) -> Problem | None:
    kind = node.type
    parent, grand = context.parent, context.grand
    at = node.start_byte
    parent_type = parent.type if parent is not None else ""
    if kind == ";":
        if parent is not None and parent_type == "binding":
            index = len(context.ancestors) - 1
            path = _dotted(context.binding_path(index))
            value, end = parent.child_by_field_name("expression"), _token_before(doc, at)
            if value is not None and end is not None and end.start_byte >= value.start_byte:
                path = _swallowed_owner(doc, context, index, value, end) or path
            return _at_token_before(doc, at, f"missing `;` after the value of `{path}`")
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
        if parent_type == "formal" and _trailing_comma(doc, _code_before(doc, at)):
            return None
        if parent_type == "attrpath":
            return Problem(at, at, "missing attribute name before `=`")
        if grand is not None and grand.type == "binding":
            path = context.binding_path(len(context.ancestors) - 2)
            return _at_token_before(doc, at, f"missing value after `{_dotted(path)} =`")
        if grand is not None and grand.type == "binary_expression":
            operator = grand.child_by_field_name("operator")
            shown = operator.text.decode() if operator is not None and operator.text else "the operator"
            return _at_token_before(doc, at, f"missing expression after `{shown}`")
        return _missing_expression(doc, at)
    return _at_token_before(doc, at, f"missing `{kind}`")


def _missing_expression(doc: Document, at: int) -> Problem:
    """An expression is missing at `at`: say what it should follow (`:` of a function, `!`, `-`, `then` …)."""
    before = _token_before(doc, at)
    shown = _kind(before) if before is not None and before.child_count == 0 else ""
    if shown == ":":
        return _at_token_before(doc, at, "missing the function body after `:`")
    if shown in _EXPRESSION_LEADERS:
        return _at_token_before(doc, at, f"missing expression after `{shown}`")
    return _at_token_before(doc, at, "missing expression here")


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
        message = f"unclosed `{kind}` opened on line {line}: add `{closer}` {_where(doc, at, opener)}".rstrip()
    elif _ends_in_error(doc):
        message = f"the file ends before the `{kind}` opened on line {line} is closed: add `{closer}`"
    else:
        message = f"unclosed `{kind}` opened on line {line}: add `{closer}` where it should end"
    related = (Related(opener.start_byte, opener.end_byte, f"`{kind}` opened here"),)
    if at is None:
        return Problem(opener.start_byte, opener.end_byte, message, related=related)
    return _at_token_before(doc, at, message, related)


def _where(doc: Document, at: int, opener: Node) -> str:
    """Where a closer goes, in words: after the token before `at` (named when it is short), or nothing when
    that token is the opener itself."""
    token = _token_before(doc, at)
    if token is None or token.start_byte <= opener.start_byte:
        return ""
    shown = doc.slice(token.start_byte, token.end_byte)
    if token.type in (";", ",") or "\n" in shown or len(shown) > 40:
        return f"at the end of line {doc.line_of(token.start_byte) + 1}"
    return f"after `{shown}`"


def _ends_in_error(doc: Document) -> bool:
    """True when the last token of the file sits inside an ERROR node: the file stops mid-expression."""
    end = len(doc.source.rstrip())
    cursor = doc.tree.root_node.walk()  # down to the last token, not up from it: see `_Context`
    while cursor.goto_first_child_for_byte(max(end - 1, 0)) is not None:
        if cursor.node.is_error:
            return True
    return False


def _trailing_comma(doc: Document, comma: Node | None) -> bool:
    """`{ lib, stdenv, }:`, the style nixfmt writes: Nix allows a `,` after the last parameter (not after
    `...`), tree-sitter-nix 0.1.0 does not. True when `comma` is such a comma."""
    if comma is None or comma.type != ",":
        return False
    after, before = _token_after(doc, comma.end_byte), _code_before(doc, comma.start_byte)
    while after is not None and after.type == "comment":
        after = _token_after(doc, after.end_byte)
    return (after is not None and after.type == "}" and before is not None
            and before.type not in ("{", ",", "ellipses", "...", "@"))


def _explain_error(doc: Document, node: Node, context: _Context) -> Problem | None:
    """An ERROR node in words. Its tokens are read in three passes, the most telling first: brackets, quotes
    and comments left open or closed wrongly; bindings cut short or run together; a keyword or operator
    missing its other half. What none explains is named as unexpected."""
    tokens = []
    for token in leaves(node):
        tokens.append(token)
        if len(tokens) > _TOKEN_SCAN_LIMIT:
            return Problem(node.start_byte, node.start_byte + 1, "syntax error: this part could not be read as Nix")
    tokens = [t for t in tokens if t.type != "comment"]
    if not tokens:
        return Problem(node.start_byte, node.end_byte, "syntax error")
    if context.parent is not None and context.parent.type == "formals" and len(tokens) == 1 and _trailing_comma(doc, tokens[0]):
        return None
    for explain in (_bracket_problem, _binding_problem, _keyword_problem):
        problem = explain(doc, node, context, tokens)
        if problem is not None:
            return problem
    return _unexpected(doc, tokens)


def _bracket_problem(doc: Document, node: Node, context: _Context, tokens: list[Node]) -> Problem | None:
    """An unterminated comment, a `${` out of place, a wrong or stray closer, or an opener left open."""
    comment = _unterminated_comment(doc, tokens)
    if comment is not None:
        return comment
    interpolation = _misplaced_interpolation(doc, node, context, tokens)
    if interpolation is not None:
        return Problem(interpolation.start_byte, interpolation.end_byte,
                       "`${…}` works only inside a string, a path or an attribute name: "
                       "write `\"${…}\"`, or the expression without `${ }`")
    stray, unclosed, close_at = _match_brackets(doc, tokens)
    if (stray is not None and unclosed is not None and stray.start_byte > unclosed.start_byte
            and _kind(stray) in (")", "]", "}") and _kind(unclosed) in ("[", "(", "{", "${")):
        return Problem(stray.start_byte, stray.end_byte,
                       f"`{_kind(stray)}` does not match the `{_kind(unclosed)}` opened on line "
                       f"{_line(doc, unclosed)}: write `{_OPENERS[_kind(unclosed)]}`",
                       related=(Related(unclosed.start_byte, unclosed.end_byte, f"`{_kind(unclosed)}` opened here"),))
    if unclosed is not None:
        if _kind(unclosed) in ("[", "(") and close_at is None:
            equals = _equals_after(doc, node, tokens, unclosed)
            problem = _swallowed_binding(doc, unclosed, equals) if equals is not None else None
            if problem is not None:
                return problem
        if _kind(unclosed) in ("[", "(", "{") and close_at is None:
            following = _token_after(doc, node.end_byte)
            if following is not None and _kind(following) in (")", "]", "}"):
                close_at = node.end_byte  # the bracket after this ERROR closes an outer one
        return _unclosed(doc, unclosed, close_at)
    if stray is not None:
        if _kind(stray) == "in":
            return Problem(stray.start_byte, stray.end_byte, "`in` without a `let` before it")
        return Problem(stray.start_byte, stray.end_byte, f"unexpected `{_kind(stray)}`: it closes nothing")
    return None


def _binding_problem(doc: Document, node: Node, context: _Context, tokens: list[Node]) -> Problem | None:
    """A binding typed halfway, ended with `,`, or run into the next one for want of a `;`."""
    types = [_kind(t) for t in tokens]
    parent = context.parent
    unfinished = _unfinished_binding(doc, tokens)
    if unfinished is not None:
        return unfinished
    if "," in types:
        comma = tokens[types.index(",")]
        binding = context.enclosing_binding()
        if binding is not None:
            return Problem(comma.start_byte, comma.end_byte,
                           f"end the value of `{_dotted(context.binding_path(binding))}` with `;`, not `,`")
    if "=" in types and parent is not None and parent.type == "list_expression":
        opener = parent.children[0] if parent.children[0].type == "[" else None
        problem = _swallowed_binding(doc, opener, tokens[types.index("=")]) if opener is not None else None
        if problem is not None:
            return problem
    if "=" in types:
        problem = _missing_semicolon_before(doc, context, tokens[types.index("=")])
        if problem is not None:
            return problem
    if "in" in types:
        token = tokens[types.index("in")]
        before = _token_before(doc, token.start_byte)
        if before is not None and before.type != ";":
            return _at_token_before(doc, token.start_byte, "missing `;` before `in`")
    if parent is not None and parent.type in _SET_OWNERS and set(types) <= {"identifier", "."}:
        shown = doc.slice(tokens[0].start_byte, tokens[-1].end_byte)
        return Problem(tokens[0].start_byte, tokens[-1].end_byte, f"`{shown}` needs a value: write `{shown} = …;`")
    return None


def _keyword_problem(doc: Document, node: Node, context: _Context, tokens: list[Node]) -> Problem | None:
    """A keyword or operator without its other half: `if` without `then` or `else`, `assert`/`with` without
    `;`, an operator or `:` with nothing after it, parameters without `,` between them."""
    types = [_kind(t) for t in tokens]
    first = tokens[0]
    parent = context.parent
    if "if" in types and "then" in types and "else" not in types:
        return Problem(first.start_byte, node.end_byte, "`if … then …` needs an `else` branch")
    need = _KEYWORD_NEEDS.get(types[0])
    if need is not None and need[0] not in types:
        return Problem(first.start_byte, first.end_byte, need[1])
    if types[0] in _BINARY_OPERATORS and len(types) == 1:
        return Problem(first.start_byte, first.end_byte, f"missing expression after `{types[0]}`")
    if types == [":"]:
        return Problem(first.start_byte, first.end_byte, "missing the function body after `:`")
    if parent is not None and parent.type == "formals" and types[0] == "identifier":
        return Problem(first.start_byte, first.end_byte, f"missing `,` before `{doc.slice(first.start_byte, first.end_byte)}`")
    return None


def _unexpected(doc: Document, tokens: list[Node]) -> Problem:
    """The last resort: a stray `;` or `.`, `...` without `,`, or the first token, named."""
    types = [_kind(t) for t in tokens]
    first = tokens[0]
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


def _match_brackets(doc: Document, tokens: list[Node]) -> tuple[Node | None, Node | None, int | None]:
    """Pair brackets, quotes and `let`/`in` among `tokens`: (first closer that closes nothing, the opener
    left open, where its closer belongs when that can be told).

    Two shapes tell which bracket was left open. A closer that starts its line left of the line of the
    bracket it would close (`a = {` … `  c = 2;` then a final `}`): that bracket was left open, its content
    ends before the first line indented no deeper than its own. A closer of another kind (`[ … }`): the
    brackets above the one it closes were left open, just before it."""
    stack: list[Node] = []
    stray: Node | None = None
    suspect: Node | None = None
    close_at: int | None = None
    for token in tokens:
        kind = _kind(token)
        if kind in _QUOTES and stack and _kind(stack[-1]) == kind:
            stack.pop()
        elif kind in _OPENERS:
            stack.append(token)
        elif kind in _CLOSERS:
            while (kind in (")", "]", "}") and len(stack) > 1 and _OPENERS[_kind(stack[-1])] == kind
                   and _outdented(doc, token, stack[-1]) and _OPENERS[_kind(stack[-2])] == kind):
                if suspect is None:
                    suspect, close_at = stack[-1], _content_end(doc, stack[-1])
                stack.pop()
            if stack and _OPENERS[_kind(stack[-1])] == kind:
                stack.pop()
            elif kind in (")", "]", "}") and any(_OPENERS[_kind(t)] == kind for t in stack):
                if suspect is None:
                    suspect, close_at = stack[-1], token.start_byte
                while _OPENERS[_kind(stack.pop())] != kind:
                    pass
            elif stray is None and (kind != "in" or not any(_kind(t) == "let" for t in stack)):
                stray = token  # an `in` inside a `let` being written is no stray
    return stray, (suspect or (stack[-1] if stack else None)), close_at


def _content_end(doc: Document, opener: Node) -> int | None:
    """Start of the first line after the opener's that is indented no deeper than the opener's line: by
    the indentation, the opener's content ends before it."""
    own = _indent(doc, opener.start_byte)[0]
    for line in range(doc.line_of(opener.start_byte) + 1, doc.line_count):
        start, end = doc.line_span(line)
        text = doc.source[start:end]
        if text.strip() and len(text) - len(text.lstrip(b" \t")) <= own:
            return start
    return None


def _indent(doc: Document, offset: int) -> tuple[int, bool]:
    """Indentation of the line holding `offset`, and whether only white space precedes `offset` on it."""
    start, _end = doc.line_span(doc.line_of(offset))
    line = doc.source[start:offset]
    return len(line) - len(line.lstrip(b" \t")), not line.strip(b" \t")


def _outdented(doc: Document, closer: Node, opener: Node) -> bool:
    closer_indent, first_on_line = _indent(doc, closer.start_byte)
    return first_on_line and closer_indent < _indent(doc, opener.start_byte)[0]


def _equals_after(doc: Document, error: Node, tokens: list[Node], opener: Node) -> Node | None:
    """The `=` of a binding that an unclosed bracket swallowed: inside the ERROR after the bracket, or the
    token right after the ERROR."""
    found = next((t for t in tokens if t.type == "=" and t.start_byte > opener.start_byte), None)
    if found is not None:
        return found
    following = _token_after(doc, error.end_byte)
    return following if following is not None and following.type == "=" else None


def _swallowed_binding(doc: Document, opener: Node, equals: Node) -> Problem | None:
    """`[ firefox <newline> time.timeZone = "UTC";`: the bracket was never closed, so the next binding landed
    inside it. Point after the last real element, where the closer belongs."""
    end = _skip_attrpath_backwards(doc, _token_before(doc, equals.start_byte))
    kind = _kind(opener)
    if end is None or end.start_byte < opener.start_byte:
        return None
    closer = _OPENERS[kind]
    shown = doc.slice(end.start_byte, end.end_byte)
    message = f"unclosed `{kind}` opened on line {_line(doc, opener)}: add `{closer}` after `{shown}`"
    if end == opener:
        message = f"unclosed `{kind}` opened on line {_line(doc, opener)}: add `{closer}`"
    return Problem(end.start_byte, end.end_byte, message,
                   related=(Related(opener.start_byte, opener.end_byte, f"`{kind}` opened here"),))


def _unfinished_binding(doc: Document, tokens: list[Node]) -> Problem | None:
    """A half-typed binding: `services.openssh.` or `services.openssh.enable =` followed by `}`, `;`, `in`
    or the end of the file."""
    for token in tokens:
        if token.type not in (".", "="):
            continue
        after = _token_after(doc, token.end_byte)
        if after is not None and _kind(after) not in ("}", ";", "in"):
            continue
        start = _skip_attrpath_backwards(doc, _token_before(doc, token.start_byte))
        path_start = _token_after(doc, start.end_byte) if start is not None else _token_after(doc, 0)
        if path_start is None or path_start.start_byte >= token.start_byte:
            continue
        path = " ".join(doc.slice(path_start.start_byte, token.start_byte).split())
        if token.type == ".":
            return Problem(token.start_byte, token.end_byte, f"missing attribute name after `{path}.`")
        return Problem(token.start_byte, token.end_byte, f"missing value after `{path} =`")
    return None


def _unterminated_comment(doc: Document, tokens: list[Node]) -> Problem | None:
    """`/*` with no `*/` is no comment to tree-sitter but a `/` and a `*` token, touching."""
    for token in tokens:
        if token.type == "/" and doc.source[token.end_byte : token.end_byte + 1] == b"*":
            return Problem(token.start_byte, token.end_byte + 1, "unterminated comment: `/*` has no closing `*/`")
        if token.type == "*" and doc.source[token.start_byte - 1 : token.start_byte] == b"/":
            return Problem(token.start_byte - 1, token.end_byte, "unterminated comment: `/*` has no closing `*/`")
    return None


def _misplaced_interpolation(doc: Document, error: Node, context: _Context, tokens: list[Node]) -> Node | None:
    """A `${` where an expression belongs (`a = ${x};`), not in a string, path or attribute name, where it
    is legal. Inside an ERROR a string may be cut in pieces, so an open quote before it also counts."""
    for index, token in enumerate(tokens):
        if token.type != "${":
            continue
        before = _token_before(doc, token.start_byte)
        if before is not None and (before.type in _QUOTES or before.type in ("string_fragment", "path_fragment", ".")):
            continue
        if any(t.type in _QUOTES for t in tokens[:index]) or doc.source[token.start_byte - 1 : token.start_byte] == b"/":
            continue
        around = [*_climb(token, error), *context.ancestors]
        if not any(a.type in _INTERPOLATION_HOMES for a in around):
            return token
    return None


def _missing_semicolon_before(doc: Document, context: _Context, equals: Node) -> Problem | None:
    """`a = 1 <newline> b = 2;` reads as `a = (1 b) = 2`: the `=` is out of place because `;` is missing
    after `1`. Find the binding whose value swallowed the next binding and the token that ends its value."""
    index = context.enclosing_binding()
    if index is None:
        return None
    binding = context.ancestors[index]
    path = _dotted(context.binding_path(index))
    value = binding.child_by_field_name("expression")
    if value is None or equals.start_byte <= value.start_byte:
        return None
    end = _skip_attrpath_backwards(doc, _token_before(doc, equals.start_byte))
    if end is not None and end.type == ",":  # `a = 1,` <newline> `b = 2;`: the `,` is the problem, reported
        return Problem(end.start_byte, end.end_byte, f"end the value of `{path}` with `;`, not `,`")
    if end is not None and end.type == "=" and end.parent == binding:
        # `a =` <newline> `b = 2;`: `b` became a's value, so a's own value is what is missing
        return Problem(end.start_byte, end.end_byte, f"missing value after `{path} =`")
    if end is None or end.start_byte < value.start_byte:
        return None
    owner = _swallowed_owner(doc, context, index, value, end)
    return Problem(end.start_byte, end.end_byte, f"missing `;` after the value of `{owner or path}`")


_OWNER_SEARCH_LIMIT = 50  # `=` signs looked at backwards to find which swallowed binding a value belongs to


def _swallowed_owner(doc: Document, context: _Context, index: int, value: Node, end: Node) -> str | None:
    """`a = 1 <newline> b = 2 <newline> c = 3;` reads as one binding `a` whose value swallowed `b = 2` and
    `c = 3`. The value that ends at `end` belongs to the last swallowed binding before it (its `=` is a
    stray one, inside an ERROR): name that one (`b`), with the path of the sets around `a`. None when `end`
    ends `a`'s own value."""
    position = end.start_byte
    for _ in range(_OWNER_SEARCH_LIMIT):
        position = doc.source.rfind(b"=", value.start_byte, position)
        if position < 0:
            return None
        token = doc.tree.root_node.descendant_for_byte_range(position, position + 1)
        if token is None or token.type != "=" or token.parent is None or not token.parent.is_error:
            continue
        start = _skip_attrpath_backwards(doc, _token_before(doc, token.start_byte))
        first = _token_after(doc, start.end_byte) if start is not None else None
        if first is None or first.start_byte >= token.start_byte:
            return None
        written = " ".join(doc.slice(first.start_byte, token.start_byte).split())
        own = context.binding_path(index) or ()
        attrpath = context.ancestors[index].child_by_field_name("attrpath")
        names = attrpath_names(attrpath) if attrpath is not None else None
        prefix = own[: len(own) - len(names)] if names and len(own) >= len(names) else ()
        return _dotted((*prefix, written))
    return None


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
