package dockgate.admission_test

import data.dockgate.admission
import data.dockgate.testing as t

_priv := t.container_hc({"Privileged": true})

# --- decision shape -----------------------------------------------------------------------------

test_decision_always_defined if {
	d := admission.decision with input as {}
	d.allowed == false
	d.violations[0].rule == "unknown-route"
	d.patch == []
	d.warnings == []
	d.profile == "baseline"
}

test_decision_for_read_only_route if {
	d := t.decide(t.request("container", "list", null), "baseline")
	d == {"allowed": true, "violations": [], "patch": [], "warnings": [], "profile": "baseline"}
}

test_violation_carries_title_and_action if {
	d := t.decide(_priv, "baseline")
	d.violations == [{
		"rule": "privileged",
		"title": "Privileged containers",
		"message": "--privileged is not allowed; drop it or ask for the 'privileged' profile",
		"action": "deny",
	}]
}

# --- profile selection --------------------------------------------------------------------------

test_profile_from_user_info_first if {
	cfg := {"defaultProfile": "ci", "identities": {"alice": {"profile": "restricted"}}}
	d := t.decide(_priv, "privileged") with data.dockgate.config as cfg
	d.profile == "privileged"
}

test_profile_from_identity if {
	cfg := {"defaultProfile": "ci", "identities": {"alice": {"profile": "restricted"}}, "listeners": {"main": {"profile": "privileged"}}}
	d := admission.decision with input as _priv with data.dockgate.config as cfg
	d.profile == "restricted"
}

test_profile_from_listener if {
	cfg := {"defaultProfile": "ci", "identities": {"bob": {"profile": "restricted"}}, "listeners": {"main": {"profile": "privileged"}}}
	d := admission.decision with input as _priv with data.dockgate.config as cfg
	d.profile == "privileged"
	d.allowed
}

test_profile_from_config_default if {
	d := admission.decision with input as _priv with data.dockgate.config as {"defaultProfile": "ci"}
	d.profile == "ci"
}

test_profile_defaults_to_baseline if {
	d := admission.decision with input as _priv
	d.profile == "baseline"
	t.denied_by(d, "privileged")
}

test_unknown_profile_denies_everything if {
	d := t.decide(t.request("container", "list", null), "nope")
	t.denied_by(d, "profile-invalid")
	d.violations[0].message == "profile 'nope' is not defined; ask an administrator for a valid profile"
}

test_profile_invalid_cannot_be_switched_off if {
	d := t.decide(t.request("container", "list", null), "nope") with data.dockgate.config as {"rules": {"profile-invalid": "off"}}
	t.denied_by(d, "profile-invalid")
}

test_missing_parent_profile_denies if {
	profiles := {"child": {"extends": "ghost", "rules": {}}}
	d := t.decide(t.request("container", "list", null), "child") with data.dockgate.profiles as profiles
	t.denied_by(d, "profile-invalid")
}

test_too_deep_profile_chain_denies if {
	profiles := {
		"a": {"extends": "b"}, "b": {"extends": "c"}, "c": {"extends": "d"},
		"d": {"rules": {}},
	}
	d := t.decide(t.request("container", "list", null), "a") with data.dockgate.profiles as profiles
	t.denied_by(d, "profile-invalid")
}

test_two_level_chain_is_fine if {
	profiles := {"a": {"extends": "b"}, "b": {"extends": "c"}, "c": {"rules": {"privileged": "deny"}}}
	d := t.decide(_priv, "a") with data.dockgate.profiles as profiles
	t.denied_by(d, "privileged")
	not "profile-invalid" in t.rules(d)
}

test_malformed_profile_fields_deny if {
	profiles := {"x": {"rules": ["privileged"]}}
	d := t.decide(t.request("container", "list", null), "x") with data.dockgate.profiles as profiles
	t.denied_by(d, "profile-invalid")
}

test_no_profiles_at_all_denies if {
	d := t.decide(t.request("container", "list", null), "baseline") with data.dockgate.profiles as null
	t.denied_by(d, "profile-invalid")
}

# --- actions ------------------------------------------------------------------------------------

test_unknown_action_denies if {
	d := t.decide(_priv, "baseline") with data.dockgate.config as {"rules": {"privileged": "block"}}
	t.denied_by(d, "privileged")
	d2 := t.decide(_priv, "baseline") with data.dockgate.config as {"rules": {"privileged": true}}
	t.denied_by(d2, "privileged")
}

test_dryrun_is_audit if {
	d := t.decide(_priv, "baseline") with data.dockgate.config as {"rules": {"privileged": "DryRun"}}
	d.allowed
	d.violations[0].action == "audit"
}

test_action_precedence_identity_listener_global if {
	cfg := {
		"rules": {"privileged": "off"},
		"listeners": {"main": {"rules": {"privileged": "audit"}}},
		"identities": {"alice": {"rules": {"privileged": "warn"}}},
	}
	d := t.decide(_priv, "baseline") with data.dockgate.config as cfg
	d.violations[0].action == "warn"
	cfg2 := object.remove(cfg, ["identities"])
	d2 := t.decide(_priv, "baseline") with data.dockgate.config as cfg2
	d2.violations[0].action == "audit"
	d3 := t.decide(_priv, "baseline") with data.dockgate.config as {"rules": {"privileged": "off"}}
	d3.violations == []
}

test_config_can_enable_a_rule_the_profile_leaves_off if {
	inp := t.container({"Image": "alpine", "HostConfig": {}})
	d := t.decide(inp, "baseline") with data.dockgate.config as {"rules": {"readonly-rootfs": "deny"}}
	t.denied_by(d, "readonly-rootfs")
}

# --- parameters ---------------------------------------------------------------------------------

test_parameters_merge_profile_config_listener_identity if {
	inp := t.container_hc({"CapAdd": ["SYS_PTRACE", "NET_ADMIN", "SYS_TIME"]})
	cfg := {
		"parameters": {"allowedCapabilities": ["SYS_PTRACE"]},
		"listeners": {"main": {"parameters": {"allowedCapabilities": ["SYS_PTRACE", "NET_ADMIN"]}}},
		"identities": {"alice": {"parameters": {"allowedCapabilities": ["SYS_PTRACE", "NET_ADMIN", "SYS_TIME"]}}},
	}
	t.clean(t.decide(inp, "baseline")) with data.dockgate.config as cfg
	d := t.decide(inp, "baseline") with data.dockgate.config as object.remove(cfg, ["identities"])
	t.rules(d) == {"capabilities"}
	count(d.violations) == 1
}

test_warnings_are_sorted_and_deduplicated if {
	inp := t.container_hc({"Privileged": true, "PidMode": "host"})
	d := t.decide(inp, "baseline") with data.dockgate.config as {"rules": {"privileged": "warn", "host-namespaces": "warn"}}
	d.warnings == sort(d.warnings)
	count(d.warnings) == 2
}
