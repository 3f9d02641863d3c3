; Every path literal (`./services/foo.nix`); `nixos/modules/module-list.nix` lists the NixOS modules this way.
(path_expression) @path
