; Every comment, `#` line comments and `/* */` block comments alike (tree-sitter-nix has one `comment` type).
(comment) @comment
