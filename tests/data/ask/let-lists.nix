{ pkgs, ... }:
let
  devTools = with pkgs; [
    git
    ripgrep
  ];
  ports = [ 9000 ];
in
{
  environment.systemPackages = devTools ++ [ pkgs.vim ];
  networking.firewall.allowedTCPPorts = ports;
  networking.firewall.allowedUDPPorts = ports;
}
