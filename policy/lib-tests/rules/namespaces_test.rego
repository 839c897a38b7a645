package dockgate.rules.namespaces_test

import data.dockgate.testing as t

test_host_namespaces_denied if {
	every field in ["NetworkMode", "PidMode", "IpcMode", "UTSMode", "UsernsMode", "CgroupnsMode", "Cgroup"] {
		t.denied_by(t.decide(t.container(t.cli_run({field: "host"})), "baseline"), "host-namespaces")
	}
}

test_host_spelled_in_capitals_denied if {
	t.denied_by(t.decide(t.container_hc({"NetworkMode": "HOST"}), "baseline"), "host-namespaces")
	t.denied_by(t.decide(t.container_hc({"PidMode": " Host "}), "baseline"), "host-namespaces")
}

test_other_container_namespace_denied if {
	every field in ["NetworkMode", "PidMode", "IpcMode"] {
		d := t.decide(t.container_hc({field: "container:db"}), "baseline")
		t.denied_by(d, "host-namespaces")
	}
}

test_own_container_namespace_allowed if {
	inp := object.union(t.container_hc({"NetworkMode": "container:db"}), {"containers": {"db": {"Config": {"Labels": {"dockgate.owner": "alice"}}}}})
	t.clean(t.decide(inp, "baseline"))
}

test_someone_elses_container_namespace_denied if {
	inp := object.union(t.container_hc({"PidMode": "container:db"}), {"containers": {"db": {"Config": {"Labels": {"dockgate.owner": "bob"}}}}})
	t.denied_by(t.decide(inp, "baseline"), "host-namespaces")
}

test_ordinary_modes_allowed if {
	hc := {"NetworkMode": "mynet", "IpcMode": "shareable", "PidMode": "", "UTSMode": "", "CgroupnsMode": "private", "UsernsMode": ""}
	t.clean(t.decide(t.container(t.cli_run(hc)), "baseline"))
	t.clean(t.decide(t.container(t.cli_run({"NetworkMode": "none"})), "baseline"))
	t.clean(t.decide(t.container(t.cli_run({"NetworkMode": "bridge"})), "baseline"))
}

test_host_network_endpoint_denied if {
	body := object.union(t.cli_run_body, {"NetworkingConfig": {"EndpointsConfig": {"host": {}}}})
	t.denied_by(t.decide(t.container(body), "baseline"), "host-namespaces")
}

test_service_host_network_denied if {
	inp := t.request("service", "create", {"TaskTemplate": {"ContainerSpec": {"Image": "nginx"}, "Networks": [{"Target": "host"}]}})
	t.denied_by(t.decide(inp, "baseline"), "host-namespaces")
	old := t.request("service", "update", {"TaskTemplate": {"ContainerSpec": {"Image": "nginx"}}, "Networks": [{"Target": "HOST"}]})
	t.denied_by(t.decide(old, "baseline"), "host-namespaces")
}

test_service_overlay_network_allowed if {
	inp := t.request("service", "create", {"TaskTemplate": {"ContainerSpec": {"Image": "nginx"}, "Networks": [{"Target": "backend"}]}})
	t.clean(t.decide(inp, "baseline"))
}

test_network_connect_host_denied if {
	by_name := object.union(t.request("network", "connect", {"Container": "web"}), {"target": "host"})
	t.denied_by(t.decide(by_name, "baseline"), "host-namespaces")
	by_id := object.union(t.request("network", "connect", {"Container": "web"}), {"target": "0123abcd", "oldObject": {"Name": "host", "Driver": "host"}})
	t.denied_by(t.decide(by_id, "baseline"), "host-namespaces")
}

test_network_connect_user_network_allowed if {
	inp := object.union(t.request("network", "connect", {"Container": "web"}), {"target": "backend", "oldObject": {"Name": "backend", "Driver": "bridge"}})
	t.clean(t.decide(inp, "baseline"))
}

test_build_networkmode_host_denied if {
	inp := t.with_query(t.request("build", "build", null), {"networkmode": ["host"], "t": ["app"]})
	t.denied_by(t.decide(inp, "baseline"), "host-namespaces")
	other := t.with_query(t.request("build", "build", null), {"networkmode": ["default", "container:db"]})
	t.denied_by(t.decide(other, "baseline"), "host-namespaces")
}

test_build_default_network_allowed if {
	inp := t.with_query(t.request("build", "build", null), {"networkmode": ["default"], "t": ["app"]})
	t.clean(t.decide(inp, "baseline"))
}
