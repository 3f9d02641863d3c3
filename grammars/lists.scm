; Every list expression; features decide which of them hold packages.
(list_expression) @list
