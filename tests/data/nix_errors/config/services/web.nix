{ config, pkgs, lib, ... }:

let
  site = pkgs.fetchzip {
    url = "https://example.org/site-1.0.tar.gz";
    hash = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  };
in
{
  services.nginx = {
    enable = true;
    virtualHost."example.org".root = site;
  };
  networking.firewall.allowedTCPPorts = [ "80" 443 ];
}
