# A small policy for dockgate's pipeline tests. It exercises every part of the policy contract
# (DESIGN.md "The policy contract"): deny, warn and audit violations, a JSON patch and warnings.
# It is NOT a security profile: the shipped baseline/restricted profiles live elsewhere.
#
# Entrypoint: dockgate/test/decision
package dockgate.test

decision := {
	"allowed": allowed,
	"violations": [v | some v in violation],
	"patch": patch,
	"warnings": [w | some w in warning],
}

default allowed := false

allowed if {
	not _has_deny
}

_has_deny if {
	some v in violation
	v.action == "deny"
}

_container_create if {
	input.kind == "container"
	input.operation == "create"
}

_host_config := object.get(input, ["object", "HostConfig"], {})

# Lists in the canonical body may be absent or null; both mean empty.
_list(value) := value if is_array(value)

_list(value) := [] if not is_array(value)

# --- deny -------------------------------------------------------------------

violation contains _deny("no-privileged", "privileged containers are not allowed: remove --privileged") if {
	_container_create
	_host_config.Privileged == true
}

# POST /containers/{id}/exec is classified as kind "container", operation "exec".
violation contains _deny("no-privileged-exec", "privileged exec is not allowed: remove --privileged from docker exec") if {
	input.kind == "container"
	input.operation == "exec"
	input.object.Privileged == true
}

violation contains _deny("no-host-binds", concat("", ["host path ", source, " cannot be bind-mounted: use a named volume"])) if {
	_container_create
	some bind in _list(_host_config.Binds)
	source := _bind_source(bind)
	contains(source, "/") # a named volume's name never holds a slash; any other source is a host path
}

violation contains _deny("no-host-binds", concat("", ["bind mount of ", object.get(mount, "Source", ""), " is not allowed: use a named volume"])) if {
	_container_create
	some mount in _list(_host_config.Mounts)
	lower(mount.Type) == "bind"
}

violation contains _deny("no-host-binds", concat("", ["volume mount ", object.get(mount, "Source", ""), " uses bind/device driver options: use a plain named volume"])) if {
	_container_create
	some mount in _list(_host_config.Mounts)
	lower(mount.Type) == "volume"
	_binds_host_path(object.get(mount, ["VolumeOptions", "DriverConfig", "Options"], {}))
}

# A named volume created earlier with bind/device options (the gate passes what the daemon has).
violation contains _deny("no-host-binds", concat("", ["volume ", name, " was created with bind/device options: use a plain named volume"])) if {
	_container_create
	some name, volume in object.get(input, "volumes", {})
	_binds_host_path(object.get(volume, "Options", {}))
}

violation contains _deny("no-volumes-from", "--volumes-from is not allowed: it inherits the other container's host mounts") if {
	_container_create
	count(_list(_host_config.VolumesFrom)) > 0
}

violation contains _deny("no-host-volumes", "local volumes with bind/device options are not allowed: they expose a host path") if {
	input.kind == "volume"
	input.operation == "create"
	lower(object.get(input.object, "Driver", "")) in {"", "local"}
	_binds_host_path(object.get(input.object, "DriverOpts", {}))
}

# "src:dst[:opts]" names a source; a lone "dst" is an anonymous volume.
_bind_source(bind) := parts[0] if {
	parts := split(bind, ":")
	count(parts) >= 2
}

# The local driver mounts a host path with type=none or o=bind, and a host device or directory
# with device=/...
_binds_host_path(opts) if {
	some key, value in opts
	_host_path_option(lower(key), lower(value))
}

_host_path_option("type", "none")

_host_path_option("o", value) if {
	some o in split(value, ",")
	trim_space(o) in {"bind", "rbind"}
}

_host_path_option("device", value) if startswith(value, "/")

# --- warn / audit -----------------------------------------------------------

violation contains _violation("latest-tag", concat("", ["image ", image, " is not pinned: use a version tag or digest"]), "warn") if {
	_container_create
	image := input.object.Image
	is_string(image)
	_unpinned(image)
}

violation contains _violation("host-network", "container uses the host network", "audit") if {
	_container_create
	lower(object.get(_host_config, "NetworkMode", "")) == "host"
}

_unpinned(image) if endswith(image, ":latest")

_unpinned(image) if {
	not contains(image, "@")
	segments := split(image, "/")
	not contains(segments[count(segments) - 1], ":")
}

# --- mutation ---------------------------------------------------------------

_label_key := "dockgate.test"

patch := [_label_op] if {
	_container_create
	_label_op
} else := []

# Labels absent or null: add the whole map; present without our key: add the key. (object.get:
# `not is_object(input.object.Labels)` would be undefined, not true, when Labels is absent.)
_label_op := {"op": "add", "path": "/Labels", "value": {_label_key: "1"}} if {
	not is_object(object.get(input, ["object", "Labels"], null))
} else := {"op": "add", "path": "/Labels/dockgate.test", "value": "1"} if {
	not _label_key in object.keys(input.object.Labels)
}

warning contains v.message if {
	some v in violation
	v.action == "warn"
}

warning contains "label dockgate.test=1 added by rule test-label" if {
	count(patch) > 0
}

_deny(rule, message) := _violation(rule, message, "deny")

_violation(rule, message, action) := {"rule": rule, "message": message, "action": action}
