package dockgate.test_test

import data.dockgate.test

_create(object) := {"kind": "container", "operation": "create", "object": object}

_rules(d) := {v.rule | some v in d.violations}

_denied_by(d, rule) if {
	d.allowed == false
	some v in d.violations
	v.rule == rule
	v.action == "deny"
}

# --- container create ---------------------------------------------------------

test_plain_create_allowed_and_labelled if {
	d := test.decision with input as _create({"Image": "alpine:3.20"})
	d.allowed == true
	d.violations == []
	d.patch == [{"op": "add", "path": "/Labels", "value": {"dockgate.test": "1"}}]
	d.warnings == ["label dockgate.test=1 added by rule test-label"]
}

test_null_labels_get_the_whole_map if {
	d := test.decision with input as _create({"Image": "alpine:3.20", "Labels": null})
	d.patch == [{"op": "add", "path": "/Labels", "value": {"dockgate.test": "1"}}]
}

test_other_labels_get_the_key if {
	d := test.decision with input as _create({"Image": "alpine:3.20", "Labels": {"app": "web"}})
	d.patch == [{"op": "add", "path": "/Labels/dockgate.test", "value": "1"}]
}

test_present_label_no_patch if {
	d := test.decision with input as _create({"Image": "alpine:3.20", "Labels": {"dockgate.test": "0"}})
	d.allowed == true
	d.patch == []
	d.warnings == []
}

test_privileged_denied if {
	d := test.decision with input as _create({"Image": "alpine:3.20", "HostConfig": {"Privileged": true}})
	_denied_by(d, "no-privileged")
	some v in d.violations
	v == {"rule": "no-privileged", "message": "privileged containers are not allowed: remove --privileged", "action": "deny"}
}

test_unprivileged_allowed if {
	d := test.decision with input as _create({"Image": "alpine:3.20", "HostConfig": {"Privileged": false}})
	d.allowed == true
}

test_host_binds_denied if {
	every bind in ["/etc:/host-etc", "/var/run/docker.sock:/var/run/docker.sock:ro", "./src:/src", "/:/host:rw"] {
		d := test.decision with input as _create({"Image": "alpine:3.20", "HostConfig": {"Binds": [bind]}})
		_denied_by(d, "no-host-binds")
	}
}

test_named_and_anonymous_binds_allowed if {
	d := test.decision with input as _create({"Image": "alpine:3.20", "HostConfig": {"Binds": ["data:/data", "cache:/cache:ro", "/anonymous"]}})
	d.allowed == true
}

test_null_lists_allowed if {
	d := test.decision with input as _create({"Image": "alpine:3.20", "HostConfig": {"Binds": null, "Mounts": null, "VolumesFrom": null}})
	d.allowed == true
}

test_bind_mount_denied if {
	every type in ["bind", "Bind"] {
		d := test.decision with input as _create({"Image": "alpine:3.20", "HostConfig": {"Mounts": [{"Type": type, "Source": "/etc", "Target": "/etc"}]}})
		_denied_by(d, "no-host-binds")
	}
}

test_volume_mount_with_host_options_denied if {
	every opts in [{"type": "none", "o": "bind", "device": "/etc"}, {"type": "none"}, {"o": "rw,bind"}, {"device": "/dev/sda1"}, {"O": "rbind"}] {
		m := {"Type": "volume", "Source": "v", "Target": "/v", "VolumeOptions": {"DriverConfig": {"Name": "local", "Options": opts}}}
		d := test.decision with input as _create({"Image": "alpine:3.20", "HostConfig": {"Mounts": [m]}})
		_denied_by(d, "no-host-binds")
	}
}

test_plain_volume_and_tmpfs_mounts_allowed if {
	mounts := [
		{"Type": "volume", "Source": "v", "Target": "/v"},
		{"Type": "volume", "Source": "w", "Target": "/w", "VolumeOptions": {"DriverConfig": {"Name": "local", "Options": {"type": "tmpfs", "o": "size=10m"}}}},
		{"Type": "tmpfs", "Target": "/tmp"},
	]
	d := test.decision with input as _create({"Image": "alpine:3.20", "HostConfig": {"Mounts": mounts}})
	d.allowed == true
}

test_volumes_from_denied if {
	d := test.decision with input as _create({"Image": "alpine:3.20", "HostConfig": {"VolumesFrom": ["other:ro"]}})
	_denied_by(d, "no-volumes-from")
}

test_empty_volumes_from_allowed if {
	d := test.decision with input as _create({"Image": "alpine:3.20", "HostConfig": {"VolumesFrom": []}})
	d.allowed == true
}

test_several_violations_reported if {
	d := test.decision with input as _create({"Image": "alpine:3.20", "HostConfig": {"Privileged": true, "Binds": ["/etc:/etc"], "VolumesFrom": ["x"]}})
	d.allowed == false
	_rules(d) == {"no-privileged", "no-host-binds", "no-volumes-from"}
}

# --- warn / audit ---------------------------------------------------------------

test_unpinned_images_warn if {
	every image in ["alpine", "alpine:latest", "localhost:5000/alpine", "docker.io/library/alpine:latest"] {
		d := test.decision with input as _create({"Image": image})
		_warns(d, image)
	}
}

_warns(d, image) if {
	d.allowed == true
	some v in d.violations
	v.rule == "latest-tag"
	v.action == "warn"
	v.message in d.warnings
	contains(v.message, image)
}

test_pinned_images_do_not_warn if {
	every image in ["alpine:3.20", "localhost:5000/alpine:1", "alpine@sha256:0000000000000000000000000000000000000000000000000000000000000000"] {
		d := test.decision with input as _create({"Image": image})
		not "latest-tag" in _rules(d)
	}
}

test_host_network_audited if {
	d := test.decision with input as _create({"Image": "alpine:3.20", "HostConfig": {"NetworkMode": "host"}})
	d.allowed == true
	d.violations == [{"rule": "host-network", "message": "container uses the host network", "action": "audit"}]
}

# --- exec create ----------------------------------------------------------------

test_privileged_exec_denied if {
	d := test.decision with input as {"kind": "container", "operation": "exec", "target": "web", "object": {"Cmd": ["sh"], "Privileged": true}}
	_denied_by(d, "no-privileged-exec")
	d.patch == []
}

test_exec_allowed if {
	d := test.decision with input as {"kind": "container", "operation": "exec", "target": "web", "object": {"Cmd": ["sh"], "Privileged": false}}
	d == {"allowed": true, "violations": [], "patch": [], "warnings": []}
}

# --- volume create --------------------------------------------------------------

test_local_volume_with_host_options_denied if {
	every body in [
		{"Name": "v", "Driver": "local", "DriverOpts": {"type": "none", "o": "bind", "device": "/etc"}},
		{"Name": "v", "DriverOpts": {"device": "/dev/sda1"}},
		{"Name": "v", "Driver": "", "DriverOpts": {"o": "bind"}},
	] {
		d := test.decision with input as {"kind": "volume", "operation": "create", "object": body}
		_denied_by(d, "no-host-volumes")
	}
}

test_volume_create_allowed if {
	every body in [
		{"Name": "v"},
		{"Name": "v", "Driver": "local", "DriverOpts": {"type": "tmpfs", "device": "tmpfs", "o": "size=10m"}},
		{"Name": "v", "Driver": "some-plugin", "DriverOpts": {"device": "/x"}},
	] {
		d := test.decision with input as {"kind": "volume", "operation": "create", "object": body}
		d.allowed == true
	}
}

# --- other requests ---------------------------------------------------------------

test_other_requests_untouched if {
	d := test.decision with input as {"kind": "container", "operation": "start", "target": "web"}
	d == {"allowed": true, "violations": [], "patch": [], "warnings": []}
}

test_denies_named_volume_created_with_bind_options if {
	d := test.decision with input as {"kind": "container", "operation": "create", "object": {"Image": "busybox:1", "Labels": {"dockgate.test": "1"}, "HostConfig": {"Binds": ["data:/x"]}}, "volumes": {"data": {"Name": "data", "Driver": "local", "Options": {"type": "none", "o": "bind", "device": "/etc"}}}}
	not d.allowed
}

test_allows_plain_named_volume if {
	d := test.decision with input as {"kind": "container", "operation": "create", "object": {"Image": "busybox:1", "Labels": {"dockgate.test": "1"}, "HostConfig": {"Binds": ["data:/x"]}}, "volumes": {"data": {"Name": "data", "Driver": "local", "Options": null}}}
	d.allowed
}
