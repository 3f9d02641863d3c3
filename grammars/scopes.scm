; What scope analysis walks, in document order (one capture name, so one ordered list): every variable read,
; every name an `inherit` reads (`inherit x;` reads `x`; `inherit (e) x;` reads only `e`, a variable_expression),
; and every node that opens a scope.
(variable_expression) @node
(inherit attrs: (inherited_attrs attr: (_) @node))
[
  (function_expression)
  (let_expression)
  (let_attrset_expression)
  (rec_attrset_expression)
  (with_expression)
] @node
