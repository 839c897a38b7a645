package dockgate.rules.ownership_test

import data.dockgate.testing as t

_cfg := {"rules": {"container-ownership": "deny"}}

_on(op, owner) := object.union(t.request("container", op, null), {"target": "web", "oldObject": {"Config": {"Labels": {"dockgate.owner": owner}}}})

test_off_in_shipped_profiles if {
	t.clean(t.decide(_on("archive.put", "bob"), "baseline"))
	t.clean(t.decide(_on("export", "bob"), "restricted"))
}

test_own_containers_allowed if {
	every op in ["start", "archive.get", "archive.put", "export", "logs", "update"] {
		t.clean(t.decide(_on(op, "alice"), "baseline")) with data.dockgate.config as _cfg
	}
}

test_other_containers_denied if {
	every op in ["archive.get", "archive.put", "export", "kill"] {
		d := t.decide(_on(op, "bob"), "baseline") with data.dockgate.config as _cfg
		t.denied_by(d, "container-ownership")
	}
	d := t.decide(_on("start", ""), "baseline") with data.dockgate.config as _cfg
	contains(t.message(d, "container-ownership"), "belongs to no dockgate identity")
}

test_commit_and_exec_checked if {
	commit := object.union(t.request("image", "commit", {}), {"oldObject": {"Config": {"Labels": {}}}})
	t.denied_by(t.decide(commit, "baseline"), "container-ownership") with data.dockgate.config as _cfg
	ex := object.union(t.exec({"Cmd": ["sh"]}), {"oldObject": {"Config": {"Labels": {"dockgate.owner": "bob"}}}})
	t.denied_by(t.decide(ex, "baseline"), "container-ownership") with data.dockgate.config as _cfg
}

test_lookup_missing_denies if {
	inp := object.union(t.request("container", "export", null), {"target": "web"})
	d := t.decide(inp, "baseline") with data.dockgate.config as _cfg
	t.denied_by(d, "container-ownership")
	contains(t.message(d, "container-ownership"), "could not be looked up")
}

test_create_and_list_not_checked if {
	t.clean(t.decide(t.request("container", "list", null), "baseline")) with data.dockgate.config as _cfg
}
