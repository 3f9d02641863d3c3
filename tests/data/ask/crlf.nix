# Written on Windows: every line ends with CR LF.
{ config, pkgs, ... }:

{
  imports = [ ./hardware-configuration.nix ];

  # Packages
  environment.systemPackages = with pkgs; [
    git
    vim
  ];

  # Enable the OpenSSH daemon.
  # services.openssh.enable = true;

  networking.hostName = "crlf";
  system.stateVersion = "24.05";
}
