{ pkgs, ... }:
{
  environment.systemPackages = with pkgs; [ curl git wget ];
  networking.firewall.allowedTCPPorts = [ 22 80 443 ];
}
