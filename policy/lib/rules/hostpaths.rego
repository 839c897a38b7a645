# Host paths: Binds, Mounts (bind, npipe, local volumes with bind/device options), volumes
# created with bind/device options, existing volumes (input.volumes) and VolumesFrom.
#
#   host-path-denied     the Docker socket, its parents and protected system paths, any spelling
#   host-path-traversal  `..` in a host path (symlinks + `..` are resolved by the kernel, not us)
#   host-path-allowlist  other host paths only under parameters.allowedHostPaths/writableHostPaths
#   host-path-options    no SELinux relabel (z/Z) or shared propagation on host paths
#   host-path-readonly   host paths outside parameters.writableHostPaths are made read-only
#                        (mutation): `:ro` below API 1.44; from 1.44 binds become Mounts entries
#                        with BindOptions.ReadOnlyForceRecursive, so submounts are read-only too
#   host-binds           restricted: no host paths at all
#   volumes-from         no --volumes-from unless the source container is the caller's
package dockgate.rules.hostpaths

import data.dockgate.core.config
import data.dockgate.core.mounts
import data.dockgate.core.paths
import data.dockgate.core.request
import data.dockgate.core.spec
import data.dockgate.core.util

violation contains {"rule": "host-path-denied", "message": msg} if {
	some ref in mounts.refs
	some p in ref.paths
	reason := paths.denial(p)
	msg := concat("", [
		"host path ", ref.source, " (", ref.field, ") is not allowed: ", reason,
		"; use a named volume, or a host directory under an allowed path",
	])
}

violation contains {"rule": "host-path-denied", "message": msg} if {
	some ref in mounts.refs
	ref.type == "npipe"
	msg := concat("", ["named pipe mounts (", ref.field, ") are not allowed; remove the npipe mount"])
}

violation contains {"rule": "host-path-traversal", "message": msg} if {
	some ref in mounts.refs
	paths.has_dotdot(ref.source)
	msg := concat("", ["host path ", ref.source, " (", ref.field, ") contains '..'; give the plain absolute path"])
}

violation contains {"rule": "host-path-allowlist", "message": msg} if {
	some ref in mounts.refs
	some p in ref.paths
	not paths.denial(p)
	not paths.allowed(p)
	msg := concat("", [
		"host path ", p, " (", ref.field, ") is outside the allowed host paths (",
		util.list_text(paths.allowed_prefixes), "); use a named volume or ask for the path to be allowed",
	])
}

violation contains {"rule": "host-path-options", "message": msg} if {
	some ref in mounts.refs
	some o in object.get(ref, "options", [])
	o in {"z", "Z"}
	msg := concat("", [
		"the :", o, " option on host path ", ref.source, " (", ref.field, ") would relabel host files; ",
		"remove it",
	])
}

violation contains {"rule": "host-path-options", "message": msg} if {
	some ref in mounts.refs
	some o in array.concat(object.get(ref, "options", []), [object.get(ref, "propagation", "")])
	lower(o) in {"shared", "rshared"}
	msg := concat("", [
		o, " propagation on host path ", ref.source, " (", ref.field, ") would let mounts reach the host; ",
		"remove it",
	])
}

violation contains {"rule": "host-binds", "message": msg} if {
	some ref in mounts.refs
	config.enabled("host-binds")
	msg := concat("", [
		"host path ", ref.source, " (", ref.field, ") is not allowed under profile '", config.profile_name,
		"'; use a named volume or tmpfs",
	])
}

violation contains {"rule": "volumes-from", "message": msg} if {
	request.container_create
	some entry in util.strings(object.get(spec.host_config, "VolumesFrom", null))
	source := split(entry, ":")[0]
	not spec.owned_container(source)
	msg := concat("", [
		"--volumes-from ", source, " is not allowed: it would mount everything that container mounts ",
		"and it is not known to be yours; use named volumes instead",
	])
}

# --- read-only host paths -----------------------------------------------------------------------

_all_writable(ref) if {
	count(ref.paths) > 0
	every p in ref.paths {
		paths.writable(p)
	}
}

needs_read_only(ref) if {
	ref.type in {"bind", "volume"}
	not ref.readOnly
	not _all_writable(ref)
}

_writable_text := util.list_text(paths.writable_prefixes)

violation contains {"rule": "host-path-readonly", "message": msg, "fixable": true} if {
	some ref in mounts.refs
	config.reports_fixable("host-path-readonly")
	not ref.existing
	needs_read_only(ref)
	msg := concat("", [
		"host path ", ref.source, " (", ref.field, ") must be mounted read-only (add :ro); ",
		"writable host paths: ", _writable_text,
	])
}

violation contains {"rule": "host-path-readonly", "message": msg} if {
	some ref in mounts.refs
	ref.existing
	needs_read_only(ref)
	msg := concat("", [
		ref.field, " mounts host path ", ref.source, " read-write; only these host paths may be writable: ",
		_writable_text,
	])
}

_warning(ref) := concat("", [
	"dockgate: host path ", ref.source, _target_text(ref), " was made read-only (rule host-path-readonly); ",
	"writable host paths: ", _writable_text,
])

_target_text(ref) := "" if ref.target == ""

_target_text(ref) := concat("", [" mounted at ", ref.target]) if ref.target != ""

_recursive if request.api_at_least(1, 44)

# Container create: HostConfig.Binds and HostConfig.Mounts.
_binds := util.strings(object.get(spec.host_config, "Binds", null)) if request.container_create

_bind_refs := {r.index: r | some r in mounts.bind_refs(_binds, "HostConfig.Binds")}

_mount_list := util.arr(object.get(spec.host_config, "Mounts", null)) if request.container_create

_mount_list := util.arr(object.get(spec.container_spec, "Mounts", null)) if request.service_write

_mounts_path := "/HostConfig/Mounts" if request.container_create

_mounts_path := "/TaskTemplate/ContainerSpec/Mounts" if request.service_write

_mount_refs := {r.index: r | some r in mounts.mount_refs(_mount_list, "Mounts")}

# From API 1.44 every non-writable host bind moves to Mounts (to force recursive read-only).
_converted(i) if {
	_recursive
	ref := _bind_refs[i]
	not _all_writable(ref)
}

_rewritten(i) if {
	not _recursive
	needs_read_only(_bind_refs[i])
}

_bind_after(i, b) := _read_only_bind(_bind_refs[i]) if {
	_rewritten(i)
} else := b

_read_only_bind(ref) := concat(":", [ref.source, ref.target, concat(",", array.concat(
	[o | some o in ref.options; o != "rw"],
	["ro"],
))])

_bind_as_mount(ref) := {
	"Type": "bind",
	"Source": ref.source,
	"Target": ref.target,
	"ReadOnly": true,
	"BindOptions": object.union({"ReadOnlyForceRecursive": true, "CreateMountpoint": true}, _propagation(ref)),
}

# Binds keep dockerd's create-the-directory behaviour (CreateMountpoint) and their propagation.
_propagation(ref) := {"Propagation": modes[0]} if {
	modes := [o | some o in ref.options; o in {"private", "rprivate", "slave", "rslave", "shared", "rshared"}]
	count(modes) > 0
} else := {}

_new_binds := [b | some i, b in _binds; not _converted(i)] if _recursive

_new_binds := [_bind_after(i, b) | some i, b in _binds] if not _recursive

_new_mounts := array.concat(
	[_mount_after(i, m) | some i, m in _mount_list],
	[_bind_as_mount(_bind_refs[i]) | some i, _ in _binds; _converted(i)],
)

_mount_after(i, m) := _fixed_mount(m, _mount_refs[i]) if {
	_mount_needs_fix(m, _mount_refs[i])
} else := m

_mount_needs_fix(_, ref) if needs_read_only(ref)

_mount_needs_fix(m, ref) if {
	ref.type == "bind"
	not _all_writable(ref)
	_wants_recursive(m)
	not _is_recursive(m)
}

_mount_needs_fix(m, ref) if {
	ref.type == "volume"
	not _all_writable(ref)
	object.get(m, "ReadOnly", false) != true
}

_wants_recursive(m) if {
	_recursive
	object.get(m, ["BindOptions", "NonRecursive"], false) != true
}

_is_recursive(m) if {
	m.BindOptions.ReadOnlyForceRecursive == true
	object.get(m, ["BindOptions", "ReadOnlyNonRecursive"], false) != true
}

# (object.union merges nested objects, so BindOptions is replaced, not merged.)
_fixed_mount(m, ref) := object.union(object.remove(m, ["BindOptions"]), {"ReadOnly": true, "BindOptions": _recursive_options(m)}) if {
	ref.type == "bind"
	_wants_recursive(m)
}

_fixed_mount(m, ref) := object.union(m, {"ReadOnly": true}) if {
	ref.type == "bind"
	not _wants_recursive(m)
}

_fixed_mount(m, ref) := object.union(m, {
	"ReadOnly": true,
	"VolumeOptions": {"DriverConfig": {"Options": {"o": read_only_o(mounts.mount_volume_options(m))}}},
}) if {
	ref.type == "volume"
}

_recursive_options(m) := object.union(
	object.remove(util.obj(object.get(m, "BindOptions", {})), ["ReadOnlyNonRecursive"]),
	{"ReadOnlyForceRecursive": true},
)

# Local driver "o" with rw replaced by ro, other options kept as written.
read_only_o(opts) := concat(",", array.concat(
	[o | some o in split(util.str(object.get(opts, "o", "")), ","); o != ""; not lower(o) in {"rw", "ro"}],
	["ro"],
))

_changed_refs contains ref if {
	some ref in mounts.refs
	not ref.existing
	needs_read_only(ref)
}

_warnings := sort([_warning(ref) | some ref in _changed_refs])

# Binds and Mounts change only where they hold host path references (mounts.refs has them all).
mutation contains {"rule": "host-path-readonly", "ops": ops, "warnings": _warnings} if {
	request.container_create
	count(mounts.refs) > 0
	config.fixes("host-path-readonly")
	ops := [op |
		some op in [
			{"op": "add", "path": "/HostConfig/Binds", "value": _new_binds},
			{"op": "add", "path": _mounts_path, "value": _new_mounts},
		]
		op.value != _current(op.path)
	]
	count(ops) > 0
}

mutation contains {"rule": "host-path-readonly", "ops": [op], "warnings": _warnings} if {
	request.service_write
	count(mounts.refs) > 0
	config.fixes("host-path-readonly")
	_new_mounts != _mount_list
	op := {"op": "add", "path": _mounts_path, "value": _new_mounts}
}

# POST /volumes/create: make the local driver mount read-only through its "o" option.
mutation contains {"rule": "host-path-readonly", "ops": [op], "warnings": _warnings} if {
	request.volume_create
	config.fixes("host-path-readonly")
	some ref in mounts.volume_create_refs
	needs_read_only(ref)
	op := {"op": "add", "path": "/DriverOpts/o", "value": read_only_o(request.object.DriverOpts)}
}

_current("/HostConfig/Binds") := _binds

_current("/HostConfig/Mounts") := _mount_list
