{ pkgs, ... }:
{
  environment.systemPackages = [ pkgs.wget pkgs.curl ];

  users.users.dana = {
    isNormalUser = true;
    extraGroups = [ "wheel" ];
    packages = [
      pkgs.firefox
      pkgs.thunderbird
    ];
  };
}
