; Constructs that can fold when they span several lines. Consecutive `#` lines are merged in Python.
[
  (attrset_expression)
  (rec_attrset_expression)
  (let_attrset_expression)
  (list_expression)
  (let_expression)
  (indented_string_expression)
  (formals)
  (comment)
] @fold
