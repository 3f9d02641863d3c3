{ config, lib, modulesPath, ... }:

{
  boot.initrd.availableKernelModules = [ "xhci_pci" "ahci" "nvme" ];
  fileSystems."/" = {
    fsType = "ext4";
  };
  networking.hostName = "nixos";
}
