package dockgate.rules.security_opts_test

import data.dockgate.testing as t

_opts(opts) := t.container(t.cli_run({"SecurityOpt": opts}))

test_apparmor_unconfined_denied if {
	every o in ["apparmor=unconfined", "apparmor:unconfined", "apparmor=UNCONFINED", " apparmor = unconfined"] {
		t.denied_by(t.decide(_opts([o]), "baseline"), "apparmor")
	}
	t.clean(t.decide(_opts(["apparmor=docker-default"]), "baseline"))
}

test_selinux_escapes_denied if {
	every o in ["label=disable", "label:disable", "disable", "label=user:system_u", "label=role:system_r", "label=type:spc_t", "label:type:unconfined_t"] {
		t.denied_by(t.decide(_opts([o]), "baseline"), "selinux")
	}
}

test_selinux_allowed_labels if {
	t.clean(t.decide(_opts(["label=type:container_t", "label=level:s0:c100,c200"]), "baseline"))
}

test_seccomp_unconfined_denied if {
	every o in ["seccomp=unconfined", "seccomp:unconfined", "SECCOMP=Unconfined"] {
		t.denied_by(t.decide(_opts([o]), "baseline"), "seccomp")
	}
	t.clean(t.decide(_opts(["seccomp=builtin"]), "baseline"))
}

_profile := `{"defaultAction":"SCMP_ACT_ALLOW"}`

test_custom_seccomp_profile_needs_allowlist if {
	o := concat("", ["seccomp=", _profile])
	d := t.decide(_opts([o]), "baseline")
	t.denied_by(d, "seccomp")
	cfg := {"parameters": {"allowedSeccompProfiles": [{"defaultAction": "SCMP_ACT_ALLOW"}]}}
	t.clean(t.decide(_opts([o]), "baseline")) with data.dockgate.config as cfg
	t.clean(t.decide(_opts([`seccomp={ "defaultAction" : "SCMP_ACT_ALLOW" }`]), "baseline")) with data.dockgate.config as cfg
	t.denied_by(t.decide(_opts(["seccomp=/etc/profile.json"]), "baseline"), "seccomp") with data.dockgate.config as cfg
}

test_unmasking_proc_denied if {
	t.denied_by(t.decide(_opts(["systempaths=unconfined"]), "baseline"), "proc-mount")
	t.denied_by(t.decide(_opts(["writable-cgroups=true"]), "baseline"), "proc-mount")
	t.clean(t.decide(_opts(["writable-cgroups=false"]), "baseline"))
	t.denied_by(t.decide(t.container(t.cli_run({"MaskedPaths": []})), "baseline"), "proc-mount")
	t.denied_by(t.decide(t.container(t.cli_run({"ReadonlyPaths": []})), "baseline"), "proc-mount")
	t.denied_by(t.decide(t.container(t.cli_run({"MaskedPaths": ["/proc/kcore"]})), "baseline"), "proc-mount")
}

test_masked_paths_superset_allowed if {
	masked := array.concat(data.dockgate.profiles.baseline.parameters.defaultMaskedPaths, ["/proc/extra"])
	t.clean(t.decide(t.container(t.cli_run({"MaskedPaths": masked})), "baseline"))
}

# --- no-new-privileges (restricted) -------------------------------------------------------------

_restricted(opts) := t.container({"Image": "alpine", "User": "1000", "HostConfig": {"CapDrop": ["ALL"], "SecurityOpt": opts}})

test_no_new_privileges_added if {
	inp := _restricted(["apparmor=docker-default"])
	d := t.decide(inp, "restricted")
	d.allowed
	t.ops_on(d, "/HostConfig/SecurityOpt") == [{"op": "add", "path": "/HostConfig/SecurityOpt", "value": ["apparmor=docker-default", "no-new-privileges=true"]}]
	d.warnings == ["dockgate: added --security-opt no-new-privileges (rule no-new-privileges)"]
	t.settles(inp, "restricted")
}

test_no_new_privileges_audit_reports_without_patch if {
	d := t.decide(_restricted([]), "restricted") with data.dockgate.config as {"rules": {"no-new-privileges": "audit"}}
	d.allowed
	t.ops_on(d, "/HostConfig/SecurityOpt") == []
	some v in d.violations
	v.rule == "no-new-privileges"
	v.action == "audit"
}

test_no_new_privileges_false_replaced if {
	every o in ["no-new-privileges=false", "no-new-privileges:false", "no-new-privileges=0"] {
		inp := _restricted([o, "label=level:s0"])
		d := t.decide(inp, "restricted")
		t.ops_on(d, "/HostConfig/SecurityOpt")[0].value == ["label=level:s0", "no-new-privileges=true"]
		t.settles(inp, "restricted")
	}
}

test_no_new_privileges_already_set if {
	every o in ["no-new-privileges", "no-new-privileges=true", "no-new-privileges:true", "no-new-privileges=1"] {
		d := t.decide(_restricted([o]), "restricted")
		t.ops_on(d, "/HostConfig/SecurityOpt") == []
		t.clean(d)
	}
}

test_no_new_privileges_null_security_opt if {
	inp := _restricted(null)
	t.ops_on(t.decide(inp, "restricted"), "/HostConfig/SecurityOpt")[0].value == ["no-new-privileges=true"]
	t.settles(inp, "restricted")
}

test_baseline_does_not_add_no_new_privileges if {
	t.ops_on(t.decide(_opts(null), "baseline"), "/HostConfig/SecurityOpt") == []
}

# --- services' Privileges -----------------------------------------------------------------------

_svc(privileges) := t.service({"Image": "nginx", "User": "1000", "CapabilityDrop": ["ALL"], "Privileges": privileges})

test_service_privileges_judged if {
	t.denied_by(t.decide(_svc({"SELinuxContext": {"Disable": true}}), "baseline"), "selinux")
	t.denied_by(t.decide(_svc({"SELinuxContext": {"User": "system_u"}}), "baseline"), "selinux")
	t.denied_by(t.decide(_svc({"AppArmor": {"Mode": "disabled"}}), "baseline"), "apparmor")
	t.denied_by(t.decide(_svc({"Seccomp": {"Mode": "unconfined"}}), "baseline"), "seccomp")
	custom := {"Seccomp": {"Mode": "custom", "Profile": base64.encode(_profile)}}
	t.denied_by(t.decide(_svc(custom), "baseline"), "seccomp")
	cfg := {"parameters": {"allowedSeccompProfiles": [{"defaultAction": "SCMP_ACT_ALLOW"}]}}
	t.clean(t.decide(_svc(custom), "baseline")) with data.dockgate.config as cfg
	t.clean(t.decide(_svc({"SELinuxContext": {"Type": "container_t"}, "AppArmor": {"Mode": "default"}}), "baseline"))
}

test_service_no_new_privileges_from_1_44 if {
	inp := t.with_api(_svc({"AppArmor": {"Mode": "default"}}), "1.44")
	d := t.decide(inp, "restricted")
	d.allowed
	t.ops_on(d, "/TaskTemplate/ContainerSpec/Privileges") == [{"op": "add", "path": "/TaskTemplate/ContainerSpec/Privileges", "value": {"AppArmor": {"Mode": "default"}, "NoNewPrivileges": true}}]
	t.settles(inp, "restricted")
	t.clean(t.decide(t.with_api(_svc({"NoNewPrivileges": true}), "1.44"), "restricted"))
}

test_service_no_new_privileges_impossible_below_1_44 if {
	t.denied_by(t.decide(_svc(null), "restricted"), "no-new-privileges")
}
