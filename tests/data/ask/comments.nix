/* My machine.
   Edited by hand; keep the comments. */
{ config, pkgs, ... }:

{
  # --- packages ---
  environment.systemPackages = with pkgs; [
    # editors
    vim # the one true editor
    # tools
    git
  ]; # end of packages

  services.openssh.enable = true; # remote access
  # services.printing.enable = true;
}
