{ pkgs, ... }: { environment.systemPackages = [ pkgs.git ]; services.openssh.enable = true; }
