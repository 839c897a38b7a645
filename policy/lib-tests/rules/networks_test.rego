package dockgate.rules.networks_test

import data.dockgate.testing as t

_net(body) := t.request("network", "create", body)

test_ordinary_networks_allowed if {
	t.clean(t.decide(_net({"Name": "backend"}), "baseline"))
	t.clean(t.decide(_net({"Name": "backend", "Driver": "bridge", "Internal": true, "Options": {"com.docker.network.driver.mtu": "1400"}}), "baseline"))
	t.clean(t.decide(_net({"Name": "o", "Driver": "overlay", "Attachable": true}), "baseline"))
}

test_host_segment_drivers_denied if {
	every driver in ["macvlan", "ipvlan", "MACVLAN", "host"] {
		t.denied_by(t.decide(_net({"Name": "x", "Driver": driver, "Options": {"parent": "eth0"}}), "baseline"), "network-driver")
	}
}

test_dangerous_options_denied if {
	t.denied_by(t.decide(_net({"Name": "x", "Options": {"com.docker.network.bridge.name": "br0"}}), "baseline"), "network-options")
	t.denied_by(t.decide(_net({"Name": "x", "Driver": "bridge", "Options": {"parent": "eth0"}}), "baseline"), "network-options")
	t.denied_by(t.decide(_net({"Name": "ingress", "Driver": "overlay", "Ingress": true}), "baseline"), "network-options")
}
