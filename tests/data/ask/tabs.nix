{ config, pkgs, ... }:

{
	services = {
		openssh.enable = true;
	};

	networking.firewall = {
		enable = true;
		allowedTCPPorts = [ 22 ];
	};

	environment.systemPackages = with pkgs; [
		git
		vim
	];
}
