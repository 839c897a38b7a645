# The workloads the issue says must keep working under baseline, as their clients send them.
package dockgate.benign_test

import data.dockgate.testing as t

test_docker_run if {
	t.untouched(t.decide(t.container(t.cli_run_body), "baseline"))
}

test_docker_exec_logs_cp if {
	t.clean(t.decide(t.exec({"AttachStdout": true, "AttachStderr": true, "Cmd": ["ls"], "Privileged": false, "User": "", "Tty": false}), "baseline"))
	every op in ["start", "logs", "archive.get", "archive.put", "archive.head", "attach", "wait", "delete", "inspect"] {
		t.clean(t.decide(object.union(t.request("container", op, null), {"target": "web"}), "baseline"))
	}
	t.clean(t.decide(t.request("exec", "start", {"Detach": false, "Tty": false}), "baseline"))
}

test_docker_build if {
	inp := object.union(t.with_query(t.request("build", "build", null), {"t": ["app"], "rm": ["1"], "networkmode": ["default"], "buildargs": ["{}"]}), {"request": {"path": "/build"}})
	t.clean(t.decide(inp, "baseline"))
}

test_named_volumes_and_user_networks if {
	t.clean(t.decide(t.request("volume", "create", {"Name": "data", "Driver": "local", "DriverOpts": {}, "Labels": {}}), "baseline"))
	t.clean(t.decide(t.request("network", "create", {"Name": "app", "Driver": "bridge", "CheckDuplicate": true}), "baseline"))
	body := object.union(t.cli_run({"Binds": ["data:/data"], "NetworkMode": "app"}), {"NetworkingConfig": {"EndpointsConfig": {"app": {"Aliases": ["web"]}}}})
	t.untouched(t.decide(t.container(body), "baseline"))
	t.clean(t.decide(object.union(t.request("network", "connect", {"Container": "web"}), {"target": "app"}), "baseline"))
}

test_publish_cap_user if {
	hc := {"PortBindings": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "18080"}]}, "CapAdd": ["NET_BIND_SERVICE"]}
	body := object.union(t.cli_run(hc), {"User": "1000", "ExposedPorts": {"80/tcp": {}}})
	t.untouched(t.decide(t.container(body), "baseline"))
}

# docker compose v2 (API 1.41) with `./src:/src:ro` and a named volume.
test_compose_read_only_bind if {
	body := {
		"Image": "nginx:alpine",
		"Labels": {"com.docker.compose.project": "demo", "com.docker.compose.service": "web"},
		"HostConfig": {
			"Binds": ["/tmp/demo/src:/usr/share/nginx/html:ro"],
			"Mounts": [{"Type": "volume", "Source": "demo_data", "Target": "/data", "VolumeOptions": {}}],
			"NetworkMode": "demo_default",
			"PortBindings": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "18080"}]},
			"RestartPolicy": {"Name": ""},
			"LogConfig": {"Type": "", "Config": null},
		},
		"NetworkingConfig": {"EndpointsConfig": {"demo_default": {"Aliases": ["web"]}}},
	}
	t.untouched(t.decide(t.container(body), "baseline"))
}

# docker-py: client.containers.create("alpine", network_disabled=True)
test_python_sdk_network_disabled if {
	body := {
		"Image": "alpine", "NetworkDisabled": true, "Tty": false, "OpenStdin": false, "StdinOnce": false,
		"AttachStdin": false, "AttachStdout": false, "AttachStderr": false, "Hostname": null,
		"Domainname": null, "User": null, "Cmd": null, "Env": null, "Labels": null, "Volumes": null,
		"HostConfig": {"NetworkMode": "default"}, "NetworkingConfig": null,
	}
	d := t.decide(t.container(body), "baseline")
	t.clean(d)
	d.patch == [{"op": "add", "path": "/Labels", "value": {"dockgate.owner": "alice"}}]
}

test_benign_workloads_under_ci_too if {
	t.clean(t.decide(t.container(t.cli_run_body), "ci"))
}
