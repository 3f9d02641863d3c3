{ config, pkgs, ... }:

{
    services = {
        openssh = {
            enable = true;
        };
        printing.enable = true;
    };

    environment.systemPackages = with pkgs; [
        wget
        git
    ];

    system.stateVersion = "24.11";
}
