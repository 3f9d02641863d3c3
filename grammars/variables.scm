; Every variable read (`pkgs` in `pkgs.firefox`, `lib` in `lib.mkIf`); scope checks filter them by name.
(variable_expression) @variable
