# The configuration the samples in tests/data/nix_errors/ talk about: each rec-*.txt names
# /etc/nixos/<file>, which the explainer maps onto this copy.
{ config, pkgs, ... }:

{
  imports = [
    ./hardware-configuration.nix
    ./services/web.nix
  ];

  services.openssh = {
    enable = "yes";
    permitRootLogn = "no";
  };

  hardware.opengl.enable = true;
  services.xserver.displayManager.sddm.enable = true;
  sound.enable = true;
  networking.hostName = "laptop";
  boot.kernelPackages = pkgs.linuxPackages_latest;

  users.users.alice = {
    isNormalUser = true;
    packages = with pkgs; [ tensorflow ];
  };

  environment.systemPackages = with pkgs; [
    vim
    neovim
    vscode
    spotify
    mytool
  ];

  system.stateVersion = "24.11";
}
