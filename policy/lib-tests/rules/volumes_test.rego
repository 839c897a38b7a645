package dockgate.rules.volumes_test

import data.dockgate.testing as t

_vol(opts) := t.request("volume", "create", {"Name": "v", "Driver": "local", "DriverOpts": opts})

test_plain_and_tmpfs_volumes_allowed if {
	t.clean(t.decide(_vol({}), "baseline"))
	t.clean(t.decide(_vol({"type": "tmpfs", "device": "tmpfs", "o": "size=100m,uid=1000"}), "baseline"))
	t.clean(t.decide(t.request("volume", "create", {"Name": "v"}), "baseline"))
}

test_other_filesystems_denied if {
	every opts in [
		{"type": "nfs", "o": "addr=10.0.0.1,rw", "device": ":/export"},
		{"type": "cifs", "device": "//server/share"},
		{"type": "overlay", "o": "lowerdir=/etc,upperdir=/tmp/u,workdir=/tmp/w", "device": "overlay"},
		{"type": "ext4", "device": "/dev/sda1"},
	] {
		t.denied_by(t.decide(_vol(opts), "baseline"), "volume-options")
	}
}

test_mount_driver_config_types_judged if {
	m := {"Type": "volume", "Source": "n", "Target": "/n", "VolumeOptions": {"DriverConfig": {"Name": "local", "Options": {"type": "nfs", "device": ":/x"}}}}
	t.denied_by(t.decide(t.container(t.cli_run({"Mounts": [m]})), "baseline"), "volume-options")
	s := t.service({"Image": "x", "Mounts": [m]})
	t.denied_by(t.decide(s, "baseline"), "volume-options")
}

test_nfs_allowed_by_config if {
	cfg := {"parameters": {"allowedLocalVolumeTypes": ["", "none", "tmpfs", "nfs"]}}
	t.clean(t.decide(_vol({"type": "nfs", "o": "addr=10.0.0.1", "device": ":/export"}), "baseline")) with data.dockgate.config as cfg
}

test_restricted_volume_drivers if {
	d := t.decide(t.request("volume", "create", {"Name": "v", "Driver": "rexray/ebs"}), "restricted")
	t.denied_by(d, "volume-driver")
	t.clean(t.decide(t.request("volume", "create", {"Name": "v", "Driver": ""}), "restricted"))
	m := {"Type": "volume", "Source": "n", "Target": "/n", "VolumeOptions": {"DriverConfig": {"Name": "sshfs"}}}
	inp := t.container({"Image": "x", "User": "1000", "HostConfig": {"Mounts": [m], "CapDrop": ["ALL"], "SecurityOpt": ["no-new-privileges"]}})
	t.denied_by(t.decide(inp, "restricted"), "volume-driver")
	vd := t.container({"Image": "x", "User": "1000", "HostConfig": {"Binds": ["data:/data"], "VolumeDriver": "sshfs", "CapDrop": ["ALL"], "SecurityOpt": ["no-new-privileges"]}})
	t.denied_by(t.decide(vd, "restricted"), "volume-driver")
	t.clean(t.decide(t.request("volume", "create", {"Name": "v", "Driver": "rexray/ebs"}), "baseline"))
}
