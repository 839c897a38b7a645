package dockgate.rules.ports_test

import data.dockgate.testing as t

_publish(bindings) := t.container(t.cli_run({"PortBindings": {"80/tcp": bindings}}))

test_loopback_high_port_allowed if {
	t.untouched(t.decide(_publish([{"HostIp": "127.0.0.1", "HostPort": "18080"}]), "baseline"))
	not "host-ports" in t.rules(t.decide(_publish([{"HostIp": "127.0.0.1", "HostPort": "18080"}]), "restricted"))
}

test_baseline_allows_any_interface_high_ports if {
	t.clean(t.decide(_publish([{"HostIp": "", "HostPort": "8080"}]), "baseline"))
	t.clean(t.decide(_publish([{"HostIp": "0.0.0.0", "HostPort": "8000-8010"}]), "baseline"))
	t.clean(t.decide(_publish([{"HostIp": "", "HostPort": ""}, {"HostIp": "::", "HostPort": "0"}]), "baseline"))
}

test_privileged_host_ports_denied if {
	every p in ["80", "22", "1023", "1000-1100", "00080"] {
		d := t.decide(_publish([{"HostIp": "127.0.0.1", "HostPort": p}]), "baseline")
		t.denied_by(d, "host-ports")
	}
}

test_invalid_host_port_denied if {
	d := t.decide(_publish([{"HostIp": "", "HostPort": "http"}]), "baseline")
	t.denied_by(d, "host-ports")
	contains(t.message(d, "host-ports"), "is not a port or port range")
}

test_restricted_only_loopback if {
	d := t.decide(_publish([{"HostIp": "", "HostPort": "8080"}]), "restricted")
	t.denied_by(d, "host-ports")
	contains(t.message(d, "host-ports"), "host IP '0.0.0.0'")
	t.denied_by(t.decide(_publish([{"HostIp": "192.168.1.5", "HostPort": "8080"}]), "restricted"), "host-ports")
	not "host-ports" in t.rules(t.decide(_publish([{"HostIp": "::1", "HostPort": "8080"}]), "restricted"))
	not "host-ports" in t.rules(t.decide(_publish([{"HostIp": "[::1]", "HostPort": "8080"}]), "restricted"))
}

test_publish_all if {
	inp := t.container(t.cli_run({"PublishAllPorts": true}))
	t.clean(t.decide(inp, "baseline"))
	t.denied_by(t.decide(inp, "restricted"), "host-ports")
	cfg := {"parameters": {"allowEphemeralHostPorts": false}}
	t.denied_by(t.decide(inp, "baseline"), "host-ports") with data.dockgate.config as cfg
	t.denied_by(t.decide(_publish([{"HostIp": "", "HostPort": ""}]), "baseline"), "host-ports") with data.dockgate.config as cfg
}

test_configured_ranges_and_ips if {
	cfg := {"parameters": {"allowedHostPortRanges": [[80, 80], [8000, 8999]], "allowedHostIPs": ["10.0.0.1"]}}
	t.clean(t.decide(_publish([{"HostIp": "10.0.0.1", "HostPort": "80"}]), "baseline")) with data.dockgate.config as cfg
	t.denied_by(t.decide(_publish([{"HostIp": "10.0.0.1", "HostPort": "9000"}]), "baseline"), "host-ports") with data.dockgate.config as cfg
	t.denied_by(t.decide(_publish([{"HostIp": "", "HostPort": "8080"}]), "baseline"), "host-ports") with data.dockgate.config as cfg
}

test_null_bindings_ignored if {
	t.clean(t.decide(t.container(t.cli_run({"PortBindings": {"80/tcp": null}})), "baseline"))
}

_svc(p) := t.request("service", "create", {"TaskTemplate": {"ContainerSpec": {"Image": "nginx"}}, "EndpointSpec": {"Ports": [{"Protocol": "tcp", "TargetPort": 80, "PublishedPort": p}]}})

test_service_ports if {
	t.clean(t.decide(_svc(8080), "baseline"))
	t.denied_by(t.decide(_svc(80), "baseline"), "host-ports")
	t.denied_by(t.decide(_svc(8080), "restricted"), "host-ports")
}
