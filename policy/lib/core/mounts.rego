# Every host path a request would mount, in every spelling dockerd accepts.
#
# A reference is {"field", "source", "target", "paths", "type", "readOnly", ...}:
#   field    where it came from, for messages (e.g. "HostConfig.Binds[0]")
#   source   the path as written
#   paths    the normalized path, plus the resolved real path when dockgate supplied one in
#            input.hostPaths[<source as written>] (symlinks can only be judged that way)
#   type     "bind" (Binds, Mounts bind), "volume" (local volume bind/device options) or "npipe"
#
# Sources: container create (HostConfig.Binds, HostConfig.Mounts), services
# (TaskTemplate.ContainerSpec.Mounts), POST /volumes/create (DriverOpts), and named volumes the
# request uses that already exist with bind/device options (input.volumes[<name>], filled by the
# lookup stage with the volume's inspect result).
package dockgate.core.mounts

import data.dockgate.core.paths
import data.dockgate.core.request
import data.dockgate.core.spec
import data.dockgate.core.util

# Binds "src:dst[:opts]" (dockerd's Linux parser splits on ':'). One part is an anonymous volume;
# a source that is not absolute is a named volume.
parse_bind(b) := {
	"source": ps[0],
	"target": ps[1],
	"options": [o | some i, seg in ps; i >= 2; some o in split(seg, ","); o != ""],
} if {
	ps := split(b, ":")
	count(ps) >= 2
}

host_bind(b) := p if {
	p := parse_bind(b)
	startswith(p.source, "/")
}

named_volume_bind(b) := p if {
	p := parse_bind(b)
	not startswith(p.source, "/")
}

bind_read_only(p) := "ro" in p.options

mount_type(m) := lower(util.str(object.get(m, "Type", "")))

# The host path behind local-driver options {type, o, device}, if they make a bind or mount a
# device: any absolute device, or a bind-like one (type none / o=bind) even if relative.
local_device(opts) := dev if {
	dev := util.str(object.get(opts, "device", ""))
	dev != ""
	fstype := lower(util.str(object.get(opts, "type", "")))
	fstype != "tmpfs"
	_device_is_host_path(dev, fstype, local_o(opts))
}

local_o(opts) := [o | some o in split(lower(util.str(object.get(opts, "o", ""))), ","); o != ""]

_device_is_host_path(dev, _, _) if startswith(dev, "/")

_device_is_host_path(_, fstype, _) if fstype in {"", "none"}

_device_is_host_path(_, _, o) if {
	some x in o
	x in {"bind", "rbind"}
}

local_driver(name) if lower(util.str(name)) in {"", "local"}

# Options of a volume-type mount when the local driver would create it with them.
mount_volume_options(m) := opts if {
	dc := util.obj(object.get(m, ["VolumeOptions", "DriverConfig"], {}))
	local_driver(object.get(dc, "Name", ""))
	opts := util.obj(object.get(dc, "Options", {}))
}

_paths(source) := array.concat([paths.clean(source)], _real(source))

_real(source) := [paths.clean(r)] if {
	r := input.hostPaths[source]
	is_string(r)
	r != ""
} else := []

index_field(field, i) := concat("", [field, "[", format_int(i, 10), "]"])

# Host path references in a Binds array.
bind_refs(binds, field) := {ref |
	some i, b in util.strings(binds)
	p := host_bind(b)
	ref := {
		"field": index_field(field, i),
		"source": p.source,
		"target": p.target,
		"paths": _paths(p.source),
		"type": "bind",
		"readOnly": bind_read_only(p),
		"options": p.options,
		"index": i,
	}
}

# Host path references in a Mounts array (containers and services share the Mount type).
mount_refs(mounts, field) := {ref |
	some i, m in util.arr(mounts)
	is_object(m)
	ref := _mount_ref(m, index_field(field, i), i)
}

_mount_ref(m, field, i) := {
	"field": field,
	"source": src,
	"target": util.str(object.get(m, "Target", "")),
	"paths": _paths(src),
	"type": "bind",
	"readOnly": object.get(m, "ReadOnly", false) == true,
	"propagation": lower(util.str(object.get(m, ["BindOptions", "Propagation"], ""))),
	"index": i,
} if {
	mount_type(m) == "bind"
	src := util.str(object.get(m, "Source", ""))
}

_mount_ref(m, field, i) := {
	"field": field,
	"source": util.str(object.get(m, "Source", "")),
	"target": util.str(object.get(m, "Target", "")),
	"paths": [],
	"type": "npipe",
	"readOnly": object.get(m, "ReadOnly", false) == true,
	"index": i,
} if {
	mount_type(m) == "npipe"
}

_mount_ref(m, field, i) := {
	"field": concat("", [field, ".VolumeOptions.DriverConfig.Options"]),
	"source": dev,
	"target": util.str(object.get(m, "Target", "")),
	"paths": _paths(dev),
	"type": "volume",
	"readOnly": "ro" in local_o(opts),
	"index": i,
} if {
	mount_type(m) == "volume"
	opts := mount_volume_options(m)
	dev := local_device(opts)
}

# Names of the named volumes a request uses, for the existing-volume check.
used_volume_names contains p.source if {
	request.container_create
	some b in util.strings(object.get(spec.host_config, "Binds", null))
	p := named_volume_bind(b)
}

used_volume_names contains name if {
	some m in util.arr(_request_mounts)
	mount_type(m) == "volume"
	name := util.str(object.get(m, "Source", ""))
	name != ""
}

_request_mounts := spec.host_config.Mounts if request.container_create

_request_mounts := spec.container_spec.Mounts if request.service_write

# Named volumes that already exist with bind/device options (input.volumes from the lookup stage).
existing_volume_refs contains ref if {
	some name in used_volume_names
	vol := input.volumes[name]
	is_object(vol)
	local_driver(object.get(vol, "Driver", ""))
	dev := local_device(util.obj(object.get(vol, "Options", {})))
	ref := {
		"field": concat("", ["volume ", name, " (existing)"]),
		"source": dev,
		"target": "",
		"paths": _paths(dev),
		"type": "volume",
		"readOnly": "ro" in local_o(util.obj(object.get(vol, "Options", {}))),
		"existing": true,
	}
}

# POST /volumes/create with local driver options.
volume_create_refs contains ref if {
	request.volume_create
	local_driver(object.get(request.object, "Driver", ""))
	opts := util.obj(object.get(request.object, "DriverOpts", {}))
	dev := local_device(opts)
	ref := {
		"field": "DriverOpts",
		"source": dev,
		"target": "",
		"paths": _paths(dev),
		"type": "volume",
		"readOnly": "ro" in local_o(opts),
	}
}

# All host path references of this request (one set built, rather than unions of four).
refs contains ref if some ref in bind_refs(_binds, "HostConfig.Binds")

refs contains ref if some ref in mount_refs(_mounts, _mounts_field)

refs contains ref if some ref in existing_volume_refs

refs contains ref if some ref in volume_create_refs

default _binds := []

_binds := spec.host_config.Binds if request.container_create

default _mounts := []

_mounts := _request_mounts

default _mounts_field := "HostConfig.Mounts"

_mounts_field := "TaskTemplate.ContainerSpec.Mounts" if request.service_write
