# Konfiguration für Zoë — ✓ 日本語 🎉
{ config, pkgs, ... }:
{
  users.users.zoe = {
    isNormalUser = true;
    description = "Zoë Ünlü 🎉";
  };
  networking.hostName = "zoe"; # Rechnername: „zoe“
  environment.systemPackages = with pkgs; [
    git # Versionsverwaltung für Zoë
  ];
}
