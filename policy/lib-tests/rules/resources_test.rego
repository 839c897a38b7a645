package dockgate.rules.resources_test

import data.dockgate.testing as t

test_ci_adds_default_limits if {
	inp := t.container(t.cli_run({}))
	d := t.decide(inp, "ci")
	t.clean(d)
	t.ops_on(d, "/HostConfig/Memory") == [{"op": "add", "path": "/HostConfig/Memory", "value": 4294967296}]
	t.ops_on(d, "/HostConfig/NanoCpus") == [{"op": "add", "path": "/HostConfig/NanoCpus", "value": 1000000000}]
	t.ops_on(d, "/HostConfig/PidsLimit") == [{"op": "add", "path": "/HostConfig/PidsLimit", "value": 4096}]
	"dockgate: no memory limit was set, so the profile's default memory limit 4096 MiB was applied (rule resource-defaults)" in d.warnings
	t.settles(inp, "ci")
}

test_ci_keeps_explicit_limits if {
	d := t.decide(t.container(t.cli_run({"Memory": 268435456, "NanoCpus": 500000000, "PidsLimit": 100})), "ci")
	t.ops_on(d, "/HostConfig/Memory") == []
	t.ops_on(d, "/HostConfig/NanoCpus") == []
	t.ops_on(d, "/HostConfig/PidsLimit") == []
}

test_ci_unlimited_pids_get_the_default if {
	d := t.decide(t.container(t.cli_run({"PidsLimit": -1})), "ci")
	t.ops_on(d, "/HostConfig/PidsLimit")[0].value == 4096
}

test_ci_avoids_settings_dockerd_would_reject if {
	d := t.decide(t.container(t.cli_run({"CpuQuota": 50000, "MemorySwap": 1073741824})), "ci")
	t.ops_on(d, "/HostConfig/NanoCpus") == []
	t.ops_on(d, "/HostConfig/Memory") == []
	d2 := t.decide(t.container(t.cli_run({"MemoryReservation": 8589934592})), "ci")
	t.ops_on(d2, "/HostConfig/Memory") == []
	d3 := t.decide(t.container(t.cli_run({"MemorySwap": -1})), "ci")
	t.ops_on(d3, "/HostConfig/Memory")[0].value == 4294967296
}

test_ci_creates_host_config if {
	inp := t.container({"Image": "alpine"})
	d := t.decide(inp, "ci")
	d.patch[0] == {"op": "add", "path": "/HostConfig", "value": {}}
	t.settles(inp, "ci")
}

test_baseline_adds_no_limits if {
	d := t.decide(t.container(t.cli_run({})), "baseline")
	t.ops_on(d, "/HostConfig/Memory") == []
}

test_resource_defaults_audit if {
	d := t.decide(t.container(t.cli_run({})), "ci") with data.dockgate.config as {"rules": {"resource-defaults": "audit"}}
	t.ops_on(d, "/HostConfig/Memory") == []
	"resource-defaults" in t.rules(d)
	d.allowed
}
