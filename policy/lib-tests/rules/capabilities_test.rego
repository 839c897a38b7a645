package dockgate.rules.capabilities_test

import data.dockgate.testing as t

test_dangerous_capabilities_denied_in_every_spelling if {
	every cap in ["SYS_ADMIN", "sys_admin", "CAP_SYS_ADMIN", "cap_sys_admin", " Sys_Ptrace ", "NET_ADMIN", "SYS_MODULE", "DAC_READ_SEARCH"] {
		t.denied_by(t.decide(t.container(t.cli_run({"CapAdd": [cap]})), "baseline"), "capabilities")
	}
}

test_all_is_never_allowed if {
	every cap in ["ALL", "all", "CAP_ALL", " All "] {
		d := t.decide(t.container_hc({"CapAdd": [cap]}), "baseline")
		t.denied_by(d, "capabilities")
		contains(t.message(d, "capabilities"), "is never allowed")
	}
}

test_all_is_denied_even_if_allowlisted if {
	cfg := {"parameters": {"allowedCapabilities": ["ALL"]}}
	d := t.decide(t.container_hc({"CapAdd": ["ALL"]}), "baseline") with data.dockgate.config as cfg
	t.denied_by(d, "capabilities")
}

test_baseline_capabilities_allowed if {
	t.clean(t.decide(t.container(t.cli_run({"CapAdd": ["NET_BIND_SERVICE"]})), "baseline"))
	t.clean(t.decide(t.container_hc({"CapAdd": ["cap_chown", "SETUID", "setgid", "KILL"]}), "baseline"))
}

test_restricted_only_net_bind_service if {
	d := t.decide(t.container_hc({"CapAdd": ["CHOWN"], "CapDrop": ["ALL"]}), "restricted")
	t.denied_by(d, "capabilities")
	contains(t.message(d, "capabilities"), "allowed capabilities: NET_BIND_SERVICE")
}

test_restricted_adds_cap_drop_all if {
	inp := t.container_hc({"CapAdd": ["NET_BIND_SERVICE"]})
	d := t.decide(inp, "restricted")
	not "capabilities-drop-all" in t.rules(d)
	t.ops_on(d, "/HostConfig/CapDrop") == [{"op": "add", "path": "/HostConfig/CapDrop", "value": ["ALL"]}]
	"dockgate: added --cap-drop ALL (rule capabilities-drop-all); only capabilities you add explicitly remain" in d.warnings
	t.settles(inp, "restricted")
}

test_restricted_keeps_existing_drops if {
	d := t.decide(t.container_hc({"CapDrop": ["NET_RAW"]}), "restricted")
	t.ops_on(d, "/HostConfig/CapDrop")[0].value == ["NET_RAW", "ALL"]
}

test_restricted_cap_drop_all_already_there if {
	every drop in [["ALL"], ["all"], ["NET_RAW", "All"]] {
		d := t.decide(t.container_hc({"CapDrop": drop}), "restricted")
		t.ops_on(d, "/HostConfig/CapDrop") == []
	}
}

test_restricted_creates_missing_host_config if {
	inp := t.container({"Image": "alpine", "User": "1000"})
	d := t.decide(inp, "restricted")
	d.patch[0] == {"op": "add", "path": "/HostConfig", "value": {}}
	d.allowed
	t.settles(inp, "restricted")
}

test_restricted_null_host_config if {
	inp := t.container({"Image": "alpine", "User": "1000", "HostConfig": null})
	d := t.decide(inp, "restricted")
	d.patch[0] == {"op": "add", "path": "/HostConfig", "value": {}}
	t.settles(inp, "restricted")
}

test_cap_drop_all_warn_reports_without_patch if {
	cfg := {"rules": {"capabilities-drop-all": "warn"}}
	d := t.decide(t.container({"Image": "alpine", "User": "1000", "HostConfig": {}}), "restricted") with data.dockgate.config as cfg
	t.ops_on(d, "/HostConfig/CapDrop") == []
	"capabilities-drop-all" in t.rules(d)
	d.allowed
}

test_service_capabilities if {
	t.denied_by(t.decide(t.service({"Image": "nginx", "CapabilityAdd": ["SYS_ADMIN"]}), "baseline"), "capabilities")
	d := t.decide(t.service({"Image": "nginx", "User": "1000"}), "restricted")
	t.ops_on(d, "/TaskTemplate/ContainerSpec/CapabilityDrop") == [{"op": "add", "path": "/TaskTemplate/ContainerSpec/CapabilityDrop", "value": ["ALL"]}]
}

test_service_without_container_spec_cannot_drop if {
	inp := t.request("service", "create", {"Name": "p", "TaskTemplate": {"PluginSpec": {"Name": "x"}}})
	d := t.decide(inp, "restricted")
	t.denied_by(d, "capabilities-drop-all")
}
