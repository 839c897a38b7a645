# PSS baseline "devices": host devices, device cgroup rules and device requests (GPUs) only when
# allowlisted (parameters.allowedDevices, allowedDeviceCgroupRules, allowedDeviceRequestDrivers).
# Applies to container create and update (update carries the same Resources fields).
package dockgate.rules.devices

import data.dockgate.core.config
import data.dockgate.core.paths
import data.dockgate.core.spec
import data.dockgate.core.util

_allowed_devices := {paths.clean(d) | some d in config.list_param("allowedDevices")}

violation contains {"rule": "devices", "message": msg} if {
	some d in util.arr(object.get(spec.host_config, "Devices", null))
	host := util.str(object.get(d, "PathOnHost", ""))
	not paths.clean(host) in _allowed_devices
	msg := concat("", [
		"--device ", host, " (HostConfig.Devices) is not allowed; allowed devices: ",
		util.list_text(sort([x | some x in _allowed_devices])),
	])
}

violation contains {"rule": "devices", "message": msg} if {
	some r in util.strings(object.get(spec.host_config, "DeviceCgroupRules", null))
	not r in config.list_param("allowedDeviceCgroupRules")
	msg := concat("", ["--device-cgroup-rule '", r, "' (HostConfig.DeviceCgroupRules) is not allowed; remove it"])
}

violation contains {"rule": "devices", "message": msg} if {
	some r in util.arr(object.get(spec.host_config, "DeviceRequests", null))
	driver := lower(util.str(object.get(r, "Driver", "")))
	not driver in {lower(d) | some d in config.list_param("allowedDeviceRequestDrivers")}
	msg := concat("", [
		"device requests (--gpus, HostConfig.DeviceRequests) with driver '", driver, "' are not allowed; ",
		"remove them or ask for the driver to be allowed",
	])
}
