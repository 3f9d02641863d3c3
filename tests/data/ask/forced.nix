{ config, lib, pkgs, ... }:
{
  services.openssh.enable = lib.mkForce false;
  time.timeZone = lib.mkDefault "UTC";
  networking.hostName = lib.mkOverride 50 "forced";
}
