{ config, ... }:
{
  services.openssh.enable = true;
}
