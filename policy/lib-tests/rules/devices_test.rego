package dockgate.rules.devices_test

import data.dockgate.testing as t

test_devices_denied if {
	d := t.decide(t.container(t.cli_run({"Devices": [{"PathOnHost": "/dev/sda", "PathInContainer": "/dev/xvda", "CgroupPermissions": "rwm"}]})), "baseline")
	t.denied_by(d, "devices")
	contains(t.message(d, "devices"), "--device /dev/sda")
}

test_device_cgroup_rules_denied if {
	t.denied_by(t.decide(t.container_hc({"DeviceCgroupRules": ["b *:* rwm"]}), "baseline"), "devices")
}

test_device_requests_denied if {
	gpu := {"Driver": "", "Count": -1, "Capabilities": [["gpu"]]}
	t.denied_by(t.decide(t.container_hc({"DeviceRequests": [gpu]}), "baseline"), "devices")
}

test_allowlisted_devices if {
	cfg := {"parameters": {
		"allowedDevices": ["/dev/fuse"],
		"allowedDeviceCgroupRules": ["c 10:229 rwm"],
		"allowedDeviceRequestDrivers": ["nvidia"],
	}}
	hc := {
		"Devices": [{"PathOnHost": "/dev//fuse", "PathInContainer": "/dev/fuse", "CgroupPermissions": "rwm"}],
		"DeviceCgroupRules": ["c 10:229 rwm"],
		"DeviceRequests": [{"Driver": "NVIDIA", "Count": 1}],
	}
	t.clean(t.decide(t.container_hc(hc), "baseline")) with data.dockgate.config as cfg
}

test_update_devices_denied if {
	inp := t.request("container", "update", {"Devices": [{"PathOnHost": "/dev/mem"}], "Memory": 0})
	t.denied_by(t.decide(inp, "baseline"), "devices")
}

test_empty_devices_allowed if {
	t.clean(t.decide(t.container(t.cli_run({"Devices": [], "DeviceRequests": null})), "baseline"))
}
