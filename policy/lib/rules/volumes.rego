# Volumes (POST /volumes/create and volume-type Mounts the local driver would create):
#   volume-options  local driver "type" only from parameters.allowedLocalVolumeTypes (tmpfs and
#                   bind-like by default): other filesystems mount devices or network shares as
#                   root on the host. Bind/device paths themselves are judged by the host-path-*
#                   rules (hostpaths.rego).
#   volume-driver   (restricted) Driver only from parameters.allowedVolumeDrivers
package dockgate.rules.volumes

import data.dockgate.core.config
import data.dockgate.core.mounts
import data.dockgate.core.request
import data.dockgate.core.spec
import data.dockgate.core.util

_local_options contains {"options": util.obj(object.get(request.object, "DriverOpts", null)), "field": "DriverOpts"} if {
	request.volume_create
	mounts.local_driver(object.get(request.object, "Driver", ""))
}

_local_options contains {"options": opts, "field": concat("", [field, ".VolumeOptions.DriverConfig.Options"])} if {
	some field, m in _mounts
	mounts.mount_type(m) == "volume"
	opts := mounts.mount_volume_options(m)
}

_mounts[field] := m if {
	request.container_create
	some i, m in util.arr(object.get(spec.host_config, "Mounts", null))
	field := mounts.index_field("HostConfig.Mounts", i)
}

_mounts[field] := m if {
	request.service_write
	some i, m in util.arr(object.get(spec.container_spec, "Mounts", null))
	field := mounts.index_field("TaskTemplate.ContainerSpec.Mounts", i)
}

violation contains {"rule": "volume-options", "message": msg} if {
	some lo in _local_options
	fstype := lower(util.str(object.get(lo.options, "type", "")))
	not fstype in {lower(t) | some t in config.list_param("allowedLocalVolumeTypes")}
	msg := concat("", [
		"local volumes of type '", fstype, "' (", lo.field, ") are not allowed; allowed types: ",
		util.list_text([t | some t in config.list_param("allowedLocalVolumeTypes"); t != ""]),
	])
}

_drivers contains {"driver": util.str(object.get(request.object, "Driver", "")), "field": "Driver"} if {
	request.volume_create
}

# The default driver for the named volumes in Binds.
_drivers contains {"driver": util.str(object.get(spec.host_config, "VolumeDriver", "")), "field": "HostConfig.VolumeDriver"} if {
	request.container_create
}

_drivers contains {"driver": util.str(object.get(m, ["VolumeOptions", "DriverConfig", "Name"], "")), "field": field} if {
	some field, m in _mounts
	mounts.mount_type(m) == "volume"
}

violation contains {"rule": "volume-driver", "message": msg} if {
	config.enabled("volume-driver")
	some d in _drivers
	not _driver_allowed(d.driver)
	msg := concat("", [
		"volume driver '", d.driver, "' (", d.field, ") is not allowed; allowed drivers: ",
		util.list_text(config.list_param("allowedVolumeDrivers")),
	])
}

# "" is the daemon's default driver, local.
_driver_allowed(d) if lower(d) in {lower(x) | some x in config.list_param("allowedVolumeDrivers")}

_driver_allowed("") if "local" in {lower(x) | some x in config.list_param("allowedVolumeDrivers")}
