# PSS baseline "host namespaces": no host network/pid/ipc/uts/userns/cgroupns, and no joining
# another container's namespaces unless that container belongs to the caller.
#
# Ownership is known only when the lookup stage passes the referenced container's inspect result
# in input.containers[<name or id as written>]; without it, `container:<x>` is denied.
package dockgate.rules.namespaces

import data.dockgate.core.request
import data.dockgate.core.spec
import data.dockgate.core.util

_modes := {
	"NetworkMode": "--network",
	"PidMode": "--pid",
	"IpcMode": "--ipc",
	"UTSMode": "--uts",
	"UsernsMode": "--userns",
	"CgroupnsMode": "--cgroupns",
	"Cgroup": "HostConfig.Cgroup",
}

# The namespace modes a create sets (most are "").
_mode_values[field] := value if {
	request.container_create
	some field, _ in _modes
	raw := spec.host_config[field]
	raw != ""
	value := trim_space(util.str(raw))
	value != ""
}

violation contains {"rule": "host-namespaces", "message": msg} if {
	some field, value in _mode_values
	lower(value) == "host"
	msg := concat("", [_modes[field], "=host (HostConfig.", field, ") is not allowed: it shares the host's namespace; remove it"])
}

violation contains {"rule": "host-namespaces", "message": msg} if {
	some field, value in _mode_values
	startswith(lower(value), "container:")
	other := substring(value, count("container:"), -1)
	flag := _modes[field]
	not spec.owned_container(other)
	msg := concat("", [
		flag, "=", value, " (HostConfig.", field, ") is not allowed: ",
		"joining another container's namespace needs that container to be yours; remove it",
	])
}

# Connecting to the predefined "host" network through NetworkingConfig.
violation contains {"rule": "host-namespaces", "message": msg} if {
	request.container_create
	some name, _ in util.obj(object.get(request.object, ["NetworkingConfig", "EndpointsConfig"], {}))
	lower(trim_space(name)) == "host"
	msg := "the host network (NetworkingConfig.EndpointsConfig.host) is not allowed; use a user-defined network"
}

violation contains {"rule": "host-namespaces", "message": msg} if {
	request.service_write
	some field in ["TaskTemplate", "Spec"]
	some net in util.arr(object.get(_service_networks_parent(field), "Networks", []))
	lower(trim_space(util.str(object.get(net, "Target", "")))) == "host"
	msg := "services may not use the host network; attach them to an overlay network"
}

violation contains {"rule": "host-namespaces", "message": msg} if {
	request.network_connect
	_host_network
	msg := "connecting a container to the host network is not allowed; use a user-defined network"
}

violation contains {"rule": "host-namespaces", "message": msg} if {
	request.build
	some mode in request.query_values("networkmode")
	_host_or_container(mode)
	msg := concat("", [
		"builds with networkmode=", mode, " are not allowed: RUN steps would share the host's ",
		"or another container's network; drop --network",
	])
}

# TaskTemplate.Networks, and the deprecated top-level ServiceSpec.Networks.
_service_networks_parent("TaskTemplate") := util.obj(object.get(request.object, "TaskTemplate", {}))

_service_networks_parent("Spec") := request.object

_host_network if lower(request.target) == "host"

_host_network if lower(util.str(object.get(request.old_object, "Driver", null))) == "host"

_host_network if lower(util.str(object.get(request.old_object, "Name", null))) == "host"

_host_or_container(mode) if lower(trim_space(mode)) == "host"

_host_or_container(mode) if startswith(lower(trim_space(mode)), "container:")
