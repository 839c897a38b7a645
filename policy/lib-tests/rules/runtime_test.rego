package dockgate.rules.runtime_test

import data.dockgate.testing as t

test_runtimes if {
	t.denied_by(t.decide(t.container(t.cli_run({"Runtime": "sysbox-runc"})), "baseline"), "runtime")
	t.clean(t.decide(t.container(t.cli_run({"Runtime": "runc"})), "baseline"))
	t.clean(t.decide(t.container(t.cli_run({"Runtime": ""})), "baseline"))
	cfg := {"parameters": {"allowedRuntimes": ["", "runc", "runsc"]}}
	t.clean(t.decide(t.container(t.cli_run({"Runtime": "runsc"})), "baseline")) with data.dockgate.config as cfg
}

test_cgroup_parent_denied if {
	t.denied_by(t.decide(t.container(t.cli_run({"CgroupParent": "/system.slice"})), "baseline"), "cgroup-parent")
	t.denied_by(t.decide(t.request("container", "update", {"CgroupParent": "/"}), "baseline"), "cgroup-parent")
	build := t.with_query(t.request("build", "build", null), {"cgroupparent": ["/init.scope"]})
	t.denied_by(t.decide(build, "baseline"), "cgroup-parent")
	cfg := {"parameters": {"allowedCgroupParents": ["/ci"]}}
	t.clean(t.decide(t.container(t.cli_run({"CgroupParent": "/ci"})), "baseline")) with data.dockgate.config as cfg
}

test_oom_protections_denied if {
	t.denied_by(t.decide(t.container(t.cli_run({"OomKillDisable": true})), "baseline"), "oom-kill-disable")
	t.denied_by(t.decide(t.request("container", "update", {"OomKillDisable": true}), "baseline"), "oom-kill-disable")
	t.denied_by(t.decide(t.container(t.cli_run({"OomScoreAdj": -1000})), "baseline"), "oom-kill-disable")
	t.clean(t.decide(t.container(t.cli_run({"OomKillDisable": false, "OomScoreAdj": 500})), "baseline"))
}

test_update_with_ordinary_resources_allowed if {
	t.clean(t.decide(t.request("container", "update", {"Memory": 536870912, "RestartPolicy": {"Name": "always"}}), "baseline"))
}

test_readonly_rootfs_when_enabled if {
	cfg := {"rules": {"readonly-rootfs": "deny"}}
	t.denied_by(t.decide(t.container(t.cli_run({})), "baseline"), "readonly-rootfs") with data.dockgate.config as cfg
	t.clean(t.decide(t.container(t.cli_run({"ReadonlyRootfs": true})), "baseline")) with data.dockgate.config as cfg
	t.denied_by(t.decide(t.service({"Image": "x"}), "baseline"), "readonly-rootfs") with data.dockgate.config as cfg
	t.clean(t.decide(t.service({"Image": "x", "ReadOnly": true}), "baseline")) with data.dockgate.config as cfg
}
