package dockgate.rules.user_test

import data.dockgate.testing as t

_as(user) := t.container({"Image": "alpine", "User": user, "HostConfig": {"CapDrop": ["ALL"], "SecurityOpt": ["no-new-privileges"]}})

test_root_denied_in_every_spelling if {
	every u in ["root", "ROOT", "0", "00", "0000:5", "+0", "-0", "root:root", " 0 ", "0:0"] {
		d := t.decide(_as(u), "restricted")
		t.denied_by(d, "run-as-non-root")
	}
}

test_empty_user_denied_without_image_info if {
	d := t.decide(_as(""), "restricted")
	t.denied_by(d, "run-as-non-root")
	contains(t.message(d, "run-as-non-root"), "set --user to a non-root numeric UID")
}

test_empty_user_uses_image_user if {
	t.clean(t.decide(object.union(_as(""), {"image": {"Config": {"User": "1000:1000"}}}), "restricted"))
	t.denied_by(t.decide(object.union(_as(""), {"image": {"Config": {"User": ""}}}), "restricted"), "run-as-non-root")
	t.denied_by(t.decide(object.union(_as(""), {"image": {"Config": {"User": "0"}}}), "restricted"), "run-as-non-root")
}

test_non_root_uids_allowed if {
	every u in ["1000", "1000:0", "65534:65534", "+1000", "01000"] {
		t.clean(t.decide(_as(u), "restricted"))
	}
}

test_invalid_uids_denied if {
	every u in ["-1", "99999999999", "2147483648"] {
		d := t.decide(_as(u), "restricted")
		contains(t.message(d, "run-as-non-root"), "not a valid UID")
	}
}

test_user_names_denied_unless_allowed if {
	d := t.decide(_as("nobody"), "restricted")
	contains(t.message(d, "run-as-non-root"), "user names are not allowed")
	cfg := {"parameters": {"allowNamedUsers": true}}
	t.clean(t.decide(_as("nobody"), "restricted")) with data.dockgate.config as cfg
	t.denied_by(t.decide(_as("root"), "restricted"), "run-as-non-root") with data.dockgate.config as cfg
}

test_baseline_allows_root if {
	t.clean(t.decide(t.container(t.cli_run({})), "baseline"))
	t.clean(t.decide(t.container(object.union(t.cli_run_body, {"User": "root"})), "baseline"))
}

test_exec_as_root_denied if {
	every u in ["root", "0", "0:0"] {
		t.denied_by(t.decide(t.exec({"Cmd": ["sh"], "User": u}), "restricted"), "run-as-non-root")
	}
}

test_exec_without_user_uses_container_user if {
	base := t.exec({"Cmd": ["sh"], "User": ""})
	t.clean(t.decide(object.union(base, {"oldObject": {"Config": {"User": "1000"}}}), "restricted"))
	d := t.decide(object.union(base, {"oldObject": {"Config": {"User": ""}}}), "restricted")
	t.denied_by(d, "run-as-non-root")
	startswith(t.message(d, "run-as-non-root"), "exec without --user runs as the container's user ''")
	t.denied_by(t.decide(base, "restricted"), "run-as-non-root")
}

test_exec_as_user_allowed if {
	t.clean(t.decide(t.exec({"Cmd": ["sh"], "User": "1000"}), "restricted"))
}

test_service_user if {
	t.denied_by(t.decide(t.service({"Image": "x", "User": "root", "CapabilityDrop": ["ALL"]}), "restricted"), "run-as-non-root")
	d := t.decide(t.service({"Image": "x", "User": "1000", "CapabilityDrop": ["ALL"]}), "restricted")
	not "run-as-non-root" in t.rules(d)
}
