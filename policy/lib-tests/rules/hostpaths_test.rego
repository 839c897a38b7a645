package dockgate.rules.hostpaths_test

import data.dockgate.testing as t

_bind(b) := t.container(t.cli_run({"Binds": [b]}))

_mount(m) := t.container(t.cli_run({"Mounts": [m]}))

# --- the Docker socket and protected paths, every spelling --------------------------------------

test_docker_socket_denied_in_every_spelling if {
	every b in [
		"/var/run/docker.sock:/var/run/docker.sock",
		"/run/docker.sock:/sock:ro",
		"//var//run/docker.sock:/s",
		"/var/run/./docker.sock:/s",
		"/var/run/docker.sock/:/s",
		"/tmp/../var/run/docker.sock:/s",
		"/var/run:/host-run",
		"/run:/r:ro",
		"/var:/v",
		"/:/host",
		"/home/alice/.docker/run/docker.sock:/s",
		"/tmp/docker.sock:/s",
		"/srv/x/dockgate.sock:/s",
	] {
		t.denied_by(t.decide(_bind(b), "baseline"), "host-path-denied")
	}
}

test_protected_system_paths_denied if {
	every b in [
		"/etc:/etc", "/etc/passwd:/p:ro", "/proc:/p", "/proc/1/root:/host", "/sys/fs/cgroup:/c",
		"/dev:/dev", "/boot:/b", "/root:/r", "/root/.ssh:/k:ro", "/var/lib/docker:/d",
		"/var/lib/docker/volumes/x/_data:/d", "/var/lib:/l", "/var/lib/containerd:/c",
	] {
		t.denied_by(t.decide(_bind(b), "baseline"), "host-path-denied")
	}
}

test_denied_message_names_reason if {
	d := t.decide(_bind("/var/run/docker.sock:/s"), "baseline")
	t.message(d, "host-path-denied") == "host path /var/run/docker.sock (HostConfig.Binds[0]) is not allowed: it is or contains the Docker socket /var/run/docker.sock; use a named volume, or a host directory under an allowed path"
	d2 := t.decide(_bind("/var:/v"), "baseline")
	contains(t.message(d2, "host-path-denied"), "it is or contains the Docker socket")
	d3 := t.decide(_bind("/etc/ssl:/s:ro"), "baseline")
	contains(t.message(d3, "host-path-denied"), "it is under the protected host path /etc")
}

test_extra_socket_paths_from_config if {
	cfg := {"parameters": {"dockerSocketPaths": ["/srv/engine/api.sock"], "deniedHostPaths": ["/srv/secrets"]}}
	t.denied_by(t.decide(_bind("/srv/engine/api.sock:/s"), "baseline"), "host-path-denied") with data.dockgate.config as cfg
	t.denied_by(t.decide(_bind("/srv/engine:/e"), "baseline"), "host-path-denied") with data.dockgate.config as cfg
	t.denied_by(t.decide(_bind("/srv/secrets/a:/e:ro"), "baseline"), "host-path-denied") with data.dockgate.config as cfg
	t.clean(t.decide(_bind("/srv/app:/app:ro"), "baseline")) with data.dockgate.config as cfg
}

test_floor_cannot_be_removed_by_config if {
	cfg := {"parameters": {"allowedHostPaths": ["/"], "deniedHostPaths": [], "dockerSocketPaths": []}}
	t.denied_by(t.decide(_bind("/var/run/docker.sock:/s"), "baseline"), "host-path-denied") with data.dockgate.config as cfg
	t.denied_by(t.decide(_bind("/etc:/e:ro"), "baseline"), "host-path-denied") with data.dockgate.config as cfg
	t.clean(t.decide(_bind("/usr/share:/u:ro"), "baseline")) with data.dockgate.config as cfg
}

test_mounts_bind_socket_denied if {
	m := {"Type": "bind", "Source": "/var/run/docker.sock", "Target": "/s", "ReadOnly": true}
	t.denied_by(t.decide(_mount(m), "baseline"), "host-path-denied")
	t.denied_by(t.decide(_mount({"Type": "BIND", "Source": "/proc/1/root", "Target": "/h"}), "baseline"), "host-path-denied")
}

test_npipe_denied if {
	d := t.decide(_mount({"Type": "npipe", "Source": "\\\\.\\pipe\\docker_engine", "Target": "\\\\.\\pipe\\docker_engine"}), "baseline")
	t.denied_by(d, "host-path-denied")
}

test_local_volume_bind_options_in_mounts_denied if {
	m := {"Type": "volume", "Source": "etcvol", "Target": "/x", "VolumeOptions": {"DriverConfig": {"Name": "local", "Options": {"type": "none", "o": "bind", "device": "/etc"}}}}
	t.denied_by(t.decide(_mount(m), "baseline"), "host-path-denied")
	m2 := {"Type": "volume", "Source": "v", "Target": "/x", "VolumeOptions": {"DriverConfig": {"Options": {"o": "bind", "device": "etc"}}}}
	t.denied_by(t.decide(_mount(m2), "baseline"), "host-path-denied")
}

test_volume_create_bind_options_denied if {
	inp := t.request("volume", "create", {"Name": "etc", "Driver": "local", "DriverOpts": {"type": "none", "o": "bind", "device": "/etc"}})
	t.denied_by(t.decide(inp, "baseline"), "host-path-denied")
	dev := t.request("volume", "create", {"Name": "disk", "DriverOpts": {"type": "ext4", "device": "/dev/sda1"}})
	t.denied_by(t.decide(dev, "baseline"), "host-path-denied")
}

test_existing_volume_with_bind_options_denied if {
	inp := object.union(_bind("etcvol:/x"), {"volumes": {"etcvol": {"Name": "etcvol", "Driver": "local", "Options": {"type": "none", "o": "bind", "device": "/etc"}}}})
	t.denied_by(t.decide(inp, "baseline"), "host-path-denied")
	inp2 := object.union(_mount({"Type": "volume", "Source": "etcvol", "Target": "/x"}), {"volumes": {"etcvol": {"Driver": "local", "Options": {"device": "/var/run"}}}})
	t.denied_by(t.decide(inp2, "baseline"), "host-path-denied")
}

test_existing_plain_volume_allowed if {
	inp := object.union(_bind("data:/data"), {"volumes": {"data": {"Name": "data", "Driver": "local", "Options": null}}})
	t.clean(t.decide(inp, "baseline"))
}

test_existing_volume_rw_host_path_reported if {
	inp := object.union(_bind("srcvol:/x"), {"volumes": {"srcvol": {"Driver": "local", "Options": {"type": "none", "o": "bind", "device": "/tmp/src"}}}})
	d := t.decide(inp, "baseline")
	t.denied_by(d, "host-path-readonly")
}

test_symlink_resolved_by_dockgate_is_judged if {
	inp := object.union(_bind("/tmp/innocent:/x:ro"), {"hostPaths": {"/tmp/innocent": "/var/run/docker.sock"}})
	t.denied_by(t.decide(inp, "baseline"), "host-path-denied")
	ok := object.union(_bind("/tmp/innocent:/x:ro"), {"hostPaths": {"/tmp/innocent": "/tmp/real"}})
	t.clean(t.decide(ok, "baseline"))
}

test_volumes_from_denied if {
	d := t.decide(t.container(t.cli_run({"VolumesFrom": ["db:ro"]})), "baseline")
	t.denied_by(d, "volumes-from")
	contains(t.message(d, "volumes-from"), "--volumes-from db ")
}

test_volumes_from_own_container_allowed if {
	inp := object.union(t.container(t.cli_run({"VolumesFrom": ["db"]})), {"containers": {"db": {"Config": {"Labels": {"dockgate.owner": "alice"}}}}})
	t.clean(t.decide(inp, "baseline"))
}

# --- traversal, allowlist, options --------------------------------------------------------------

test_dotdot_denied if {
	d := t.decide(_bind("/tmp/a/../b:/x:ro"), "baseline")
	t.rules(d) == {"host-path-traversal"}
	t.denied_by(t.decide(_mount({"Type": "bind", "Source": "/home/../etc", "Target": "/x"}), "baseline"), "host-path-traversal")
}

test_outside_allowlist_denied if {
	every b in ["/usr/share:/x:ro", "/homer:/x:ro", "/opt2/x:/x:ro", "/var/log:/l:ro"] {
		t.denied_by(t.decide(_bind(b), "baseline"), "host-path-allowlist")
	}
}

test_allowlisted_read_only_bind_allowed if {
	every b in ["/tmp/proj/src:/src:ro", "/home/alice/project:/app:ro", "/srv/data:/data:ro,rprivate"] {
		t.untouched(t.decide(_bind(b), "baseline"))
	}
}

test_named_and_anonymous_volumes_allowed if {
	d := t.decide(
		t.container(t.cli_run({"Binds": ["data:/data", "/anon"], "Mounts": [
			{"Type": "volume", "Source": "cache", "Target": "/cache"},
			{"Type": "tmpfs", "Target": "/run"},
		]})),
		"baseline",
	)
	t.untouched(d)
}

test_relabel_and_shared_propagation_denied if {
	every b in ["/tmp/x:/x:z", "/tmp/x:/x:ro,Z", "/tmp/x:/x:rshared", "/tmp/x:/x:ro,shared"] {
		t.denied_by(t.decide(_bind(b), "baseline"), "host-path-options")
	}
	m := {"Type": "bind", "Source": "/tmp/x", "Target": "/x", "ReadOnly": true, "BindOptions": {"Propagation": "rshared"}}
	t.denied_by(t.decide(_mount(m), "baseline"), "host-path-options")
}

# --- read-only mutation -------------------------------------------------------------------------

test_bind_made_read_only_below_1_44 if {
	every pair in [["/tmp/x:/x", "/tmp/x:/x:ro"], ["/tmp/x:/x:rw", "/tmp/x:/x:ro"], ["/tmp/x:/x:rw,rprivate", "/tmp/x:/x:rprivate,ro"]] {
		inp := _bind(pair[0])
		d := t.decide(inp, "baseline")
		d.allowed
		t.ops_on(d, "/HostConfig/Binds") == [{"op": "add", "path": "/HostConfig/Binds", "value": [pair[1]]}]
		t.settles(inp, "baseline")
	}
}

test_read_only_warning_says_what_changed if {
	d := t.decide(_bind("/tmp/x:/x"), "baseline")
	d.warnings == ["dockgate: host path /tmp/x mounted at /x was made read-only (rule host-path-readonly); writable host paths: (none)"]
}

test_binds_become_recursive_mounts_from_1_44 if {
	inp := t.with_api(t.container(t.cli_run({"Binds": ["/tmp/x:/x", "data:/data", "/tmp/y:/y:ro,rslave"]})), "1.44")
	d := t.decide(inp, "baseline")
	t.ops_on(d, "/HostConfig/Binds") == [{"op": "add", "path": "/HostConfig/Binds", "value": ["data:/data"]}]
	t.ops_on(d, "/HostConfig/Mounts") == [{"op": "add", "path": "/HostConfig/Mounts", "value": [
		{"Type": "bind", "Source": "/tmp/x", "Target": "/x", "ReadOnly": true, "BindOptions": {"ReadOnlyForceRecursive": true, "CreateMountpoint": true}},
		{"Type": "bind", "Source": "/tmp/y", "Target": "/y", "ReadOnly": true, "BindOptions": {"ReadOnlyForceRecursive": true, "CreateMountpoint": true, "Propagation": "rslave"}},
	]}]
	count(d.warnings) == 1
	t.settles(inp, "baseline")
}

test_mounts_made_recursively_read_only_from_1_44 if {
	m := {"Type": "bind", "Source": "/tmp/x", "Target": "/x", "BindOptions": {"ReadOnlyNonRecursive": true}}
	inp := t.with_api(_mount(m), "1.47")
	d := t.decide(inp, "baseline")
	t.ops_on(d, "/HostConfig/Mounts")[0].value == [{"Type": "bind", "Source": "/tmp/x", "Target": "/x", "ReadOnly": true, "BindOptions": {"ReadOnlyForceRecursive": true}}]
	t.settles(inp, "baseline")
}

test_read_only_mount_gets_recursive_flag_silently if {
	inp := t.with_api(_mount({"Type": "bind", "Source": "/tmp/x", "Target": "/x", "ReadOnly": true}), "1.44")
	d := t.decide(inp, "baseline")
	t.ops_on(d, "/HostConfig/Mounts")[0].value[0].BindOptions == {"ReadOnlyForceRecursive": true}
	d.warnings == []
	t.settles(inp, "baseline")
}

test_non_recursive_mount_only_needs_read_only if {
	m := {"Type": "bind", "Source": "/tmp/x", "Target": "/x", "BindOptions": {"NonRecursive": true}}
	inp := t.with_api(_mount(m), "1.44")
	d := t.decide(inp, "baseline")
	t.ops_on(d, "/HostConfig/Mounts")[0].value == [object.union(m, {"ReadOnly": true})]
	t.settles(inp, "baseline")
}

test_mounts_below_1_44_get_plain_read_only if {
	inp := _mount({"Type": "bind", "Source": "/tmp/x", "Target": "/x"})
	d := t.decide(inp, "baseline")
	t.ops_on(d, "/HostConfig/Mounts")[0].value == [{"Type": "bind", "Source": "/tmp/x", "Target": "/x", "ReadOnly": true}]
	t.ops_on(d, "/HostConfig/Binds") == []
	t.settles(inp, "baseline")
}

test_volume_mount_with_host_device_made_read_only if {
	m := {"Type": "volume", "Source": "src", "Target": "/x", "VolumeOptions": {"DriverConfig": {"Options": {"type": "none", "o": "bind,rw", "device": "/tmp/src"}}}}
	inp := _mount(m)
	d := t.decide(inp, "baseline")
	v := t.ops_on(d, "/HostConfig/Mounts")[0].value[0]
	v.ReadOnly == true
	v.VolumeOptions.DriverConfig.Options.o == "bind,ro"
	t.settles(inp, "baseline")
}

test_volume_create_made_read_only if {
	inp := t.request("volume", "create", {"Name": "src", "Driver": "local", "DriverOpts": {"type": "none", "o": "bind", "device": "/tmp/src"}})
	d := t.decide(inp, "baseline")
	d.allowed
	t.ops_on(d, "/DriverOpts/o") == [{"op": "add", "path": "/DriverOpts/o", "value": "bind,ro"}]
	t.settles(inp, "baseline")
}

test_writable_prefix_keeps_binds_writable if {
	inp := _bind("/workspace/job-1:/src")
	d := t.decide(inp, "ci")
	t.ops_on(d, "/HostConfig/Binds") == []
	t.clean(d)
	d44 := t.decide(t.with_api(inp, "1.44"), "ci")
	t.ops_on(d44, "/HostConfig/Mounts") == []
}

test_writable_prefix_does_not_unlock_protected_paths if {
	t.denied_by(t.decide(_bind("/workspace/../var/run/docker.sock:/s"), "ci"), "host-path-denied")
	cfg := {"parameters": {"writableHostPaths": ["/var"]}}
	t.denied_by(t.decide(_bind("/var/run:/r"), "ci"), "host-path-denied") with data.dockgate.config as cfg
}

test_readonly_rule_warn_reports_instead_of_patching if {
	d := t.decide(_bind("/tmp/x:/x"), "baseline") with data.dockgate.config as {"rules": {"host-path-readonly": "warn"}}
	t.ops_on(d, "/HostConfig/Binds") == []
	"host-path-readonly" in t.rules(d)
	d.allowed
}

test_service_mounts if {
	t.denied_by(t.decide(t.service({"Image": "x", "Mounts": [{"Type": "bind", "Source": "/var/run/docker.sock", "Target": "/s"}]}), "baseline"), "host-path-denied")
	inp := t.service({"Image": "x", "Mounts": [{"Type": "bind", "Source": "/srv/www", "Target": "/www"}]})
	d := t.decide(inp, "baseline")
	t.ops_on(d, "/TaskTemplate/ContainerSpec/Mounts")[0].value == [{"Type": "bind", "Source": "/srv/www", "Target": "/www", "ReadOnly": true}]
	t.settles(inp, "baseline")
}

# --- restricted: no host paths at all -----------------------------------------------------------

test_restricted_denies_every_host_path if {
	every inp in [
		_bind("/tmp/x:/x:ro"),
		_mount({"Type": "bind", "Source": "/tmp/x", "Target": "/x", "ReadOnly": true}),
		_mount({"Type": "volume", "Source": "v", "Target": "/x", "VolumeOptions": {"DriverConfig": {"Options": {"type": "none", "o": "bind", "device": "/tmp/x"}}}}),
		t.request("volume", "create", {"Name": "v", "DriverOpts": {"type": "none", "o": "bind", "device": "/tmp/x"}}),
	] {
		t.denied_by(t.decide(inp, "restricted"), "host-binds")
	}
}

test_restricted_allows_named_volumes_and_tmpfs if {
	body := object.union(t.cli_run({"Binds": ["data:/data"], "Mounts": [{"Type": "tmpfs", "Target": "/tmp"}]}), {"User": "1000"})
	t.clean(t.decide(t.container(body), "restricted"))
	t.clean(t.decide(t.request("volume", "create", {"Name": "data", "Driver": "local", "DriverOpts": {}}), "restricted"))
}
