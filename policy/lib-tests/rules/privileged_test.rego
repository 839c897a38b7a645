package dockgate.rules.privileged_test

import data.dockgate.testing as t

test_privileged_container_denied if {
	d := t.decide(t.container(t.cli_run({"Privileged": true})), "baseline")
	t.denied_by(d, "privileged")
	t.message(d, "privileged") == "--privileged is not allowed; drop it or ask for the 'privileged' profile"
}

test_unprivileged_container_allowed if {
	t.untouched(t.decide(t.container(t.cli_run({"Privileged": false})), "baseline"))
}

test_privileged_exec_denied if {
	d := t.decide(t.exec({"Cmd": ["sh"], "Privileged": true, "User": ""}), "baseline")
	t.denied_by(d, "privileged")
}

test_plain_exec_allowed if {
	t.clean(t.decide(t.exec({"Cmd": ["sh"], "Privileged": false, "User": ""}), "baseline"))
}

test_exec_kind_container_operation_exec_synonym if {
	inp := t.request("container", "exec", {"Cmd": ["sh"], "Privileged": true})
	t.denied_by(t.decide(inp, "baseline"), "privileged")
}

test_restricted_and_ci_deny_privileged if {
	t.denied_by(t.decide(t.container_hc({"Privileged": true}), "restricted"), "privileged")
	t.denied_by(t.decide(t.container_hc({"Privileged": true}), "ci"), "privileged")
}

test_privileged_profile_allows if {
	d := t.decide(t.container_hc({"Privileged": true, "CapAdd": ["ALL"], "PidMode": "host"}), "privileged")
	t.clean(d)
}

test_action_warn_turns_denial_into_warning if {
	d := t.decide(t.container_hc({"Privileged": true}), "baseline") with data.dockgate.config as {"rules": {"privileged": "warn"}}
	d.allowed
	d.violations[0].action == "warn"
	d.warnings == ["dockgate: --privileged is not allowed; drop it or ask for the 'privileged' profile (rule privileged)"]
}

test_action_audit_only_reports if {
	cfg := {"identities": {"alice": {"rules": {"privileged": "audit"}}}}
	d := t.decide(t.container_hc({"Privileged": true}), "baseline") with data.dockgate.config as cfg
	d.allowed
	d.violations[0].action == "audit"
	d.warnings == []
}

test_action_override_is_per_identity if {
	cfg := {"identities": {"bob": {"rules": {"privileged": "off"}}}}
	d := t.decide(t.container_hc({"Privileged": true}), "baseline") with data.dockgate.config as cfg
	t.denied_by(d, "privileged")
}
