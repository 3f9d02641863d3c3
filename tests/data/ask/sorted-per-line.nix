{ config, pkgs, ... }:

{
  # Kept in alphabetical order.
  environment.systemPackages = with pkgs; [
    curl # downloads
    git
    htop # process viewer
    tmux
    wget
  ];
}
