{ config, lib, pkgs, ... }:

{
  services = {
    printing.enable = true;
    xserver = {
      enable = true;
      xkb.layout = "us";
    };
  };

  networking = {
    hostName = "nested";
    firewall = {
      enable = true;
      allowedTCPPorts = [ 22 ];
    };
  };

  users.users = {
    carol = {
      isNormalUser = true;
      extraGroups = [ "wheel" ];
    };
  };
}
