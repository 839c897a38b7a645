# Helpers for the policy unit tests.
package dockgate.testing

import data.dockgate.admission

# What dockgate passes for a request by identity "alice" on listener "main".
base := {
	"uid": "test",
	"request": {"method": "POST", "path": "/containers/create", "apiVersion": "1.41", "query": {}},
	"userInfo": {"username": "alice", "groups": ["dev"], "listener": "main"},
	"dryRun": false,
}

# Input for a request of kind/operation with a body.
request(kind, operation, body) := object.union(base, {"kind": kind, "operation": operation, "object": body})

container(body) := request("container", "create", body)

container_hc(hc) := container({"Image": "alpine", "HostConfig": hc})

exec(body) := object.union(
	request("exec", "create", body),
	{"target": "web", "request": {"path": "/containers/web/exec"}},
)

service(container_spec) := object.union(
	request("service", "create", {"Name": "web", "TaskTemplate": {"ContainerSpec": container_spec}}),
	{"request": {"path": "/services/create"}},
)

with_api(inp, version) := object.union(inp, {"request": {"apiVersion": version}})

with_query(inp, query) := object.union(inp, {"request": {"query": query}})

replace_object(inp, body) := object.union(object.remove(inp, ["object"]), {"object": body})

# The body `docker run alpine` (CLI 28, API 1.41) sends, with its nulls and empty values.
cli_run_body := {
	"Hostname": "", "Domainname": "", "User": "", "AttachStdin": false, "AttachStdout": true,
	"AttachStderr": true, "Tty": false, "OpenStdin": false, "StdinOnce": false, "Env": null,
	"Cmd": ["true"], "Image": "alpine", "Volumes": null, "WorkingDir": "", "Entrypoint": null,
	"OnBuild": null, "Labels": {},
	"HostConfig": {
		"Binds": null, "ContainerIDFile": "", "LogConfig": {"Type": "", "Config": {}},
		"NetworkMode": "default", "PortBindings": {}, "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0},
		"AutoRemove": false, "VolumeDriver": "", "VolumesFrom": null, "ConsoleSize": [0, 0],
		"CapAdd": null, "CapDrop": null, "CgroupnsMode": "", "Dns": [], "DnsOptions": [], "DnsSearch": [],
		"ExtraHosts": null, "GroupAdd": null, "IpcMode": "", "Cgroup": "", "Links": null, "OomScoreAdj": 0,
		"PidMode": "", "Privileged": false, "PublishAllPorts": false, "ReadonlyRootfs": false,
		"SecurityOpt": null, "UTSMode": "", "UsernsMode": "", "ShmSize": 0, "Isolation": "",
		"CpuShares": 0, "Memory": 0, "NanoCpus": 0, "CgroupParent": "", "BlkioWeight": 0,
		"Devices": [], "DeviceCgroupRules": null, "DeviceRequests": null, "MemoryReservation": 0,
		"MemorySwap": 0, "MemorySwappiness": null, "OomKillDisable": null, "PidsLimit": null,
		"Ulimits": null, "CpuCount": 0, "CpuPercent": 0, "MaskedPaths": null, "ReadonlyPaths": null,
	},
	"NetworkingConfig": {"EndpointsConfig": {}},
}

# docker run with these HostConfig fields changed.
cli_run(hc) := object.union(cli_run_body, {"HostConfig": hc})

decide(inp, profile) := d if {
	d := admission.decision with input as object.union(inp, {"userInfo": {"profile": profile}})
}

rules(d) := {v.rule | some v in d.violations}

# Denied, and by this rule.
denied_by(d, rule) if {
	d.allowed == false
	some v in d.violations
	v.rule == rule
	v.action == "deny"
}

# Allowed with no violation at all (patches and warnings may still be there).
clean(d) if {
	d.allowed == true
	count(d.violations) == 0
}

# Allowed, nothing changed but the owner label, nothing to say.
untouched(d) if {
	clean(d)
	every op in d.patch {
		op.path in {"/Labels", "/Labels/dockgate.owner"}
	}
	d.warnings == []
}

message(d, rule) := [v.message | some v in d.violations; v.rule == rule][0]

ops_on(d, path) := [op | some op in d.patch; op.path == path]

# The object after applying the decision's patch once.
patched(inp, profile) := json.patch(inp.object, decide(inp, profile).patch)

# Deciding again on the patched object: the mutations have converged.
second(inp, profile) := decide(replace_object(inp, patched(inp, profile)), profile)

settles(inp, profile) if {
	d := second(inp, profile)
	d.patch == []
}
