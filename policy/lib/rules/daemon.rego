# Daemon-wide operations that hand out root on the host:
#   plugins  installing, upgrading, configuring or enabling plugins (they run as root with the
#            privileges they ask for), and services that run plugins, unless the plugin
#            reference starts with one of parameters.allowedPlugins
#   swarm    init/join/update/leave/unlock and the unlock key, node updates and removals: a
#            foreign swarm manager could schedule tasks with host mounts here
package dockgate.rules.daemon

import data.dockgate.core.config
import data.dockgate.core.request
import data.dockgate.core.util

_plugin_ops := {"pull", "install", "upgrade", "create", "set", "enable", "push"}

# The plugin a request names: remote= for pull/upgrade, the path's name otherwise.
_plugin_refs contains ref if {
	request.kind == "plugin"
	request.operation in _plugin_ops
	some ref in array.concat(request.query_values("remote"), [request.target])
	ref != ""
}

_plugin_refs contains "(unnamed)" if {
	request.kind == "plugin"
	request.operation in _plugin_ops
	request.target == ""
	count(request.query_values("remote")) == 0
}

_plugin_allowed(ref) if {
	some prefix in config.list_param("allowedPlugins")
	prefix != ""
	startswith(lower(ref), lower(prefix))
}

violation contains {"rule": "plugins", "message": msg} if {
	some ref in _plugin_refs
	not _plugin_allowed(ref)
	msg := concat("", [
		"plugin ", request.operation, " of ", ref, " is not allowed: plugins run as root on the host; ",
		"ask an administrator to install it",
	])
}

violation contains {"rule": "plugins", "message": msg} if {
	request.service_write
	_plugin_service
	msg := "services that run plugins (TaskTemplate.PluginSpec / Runtime plugin) are not allowed"
}

_plugin_service if is_object(request.object.TaskTemplate.PluginSpec)

_plugin_service if lower(util.str(object.get(request.object, ["TaskTemplate", "Runtime"], null))) == "plugin"

violation contains {"rule": "swarm", "message": msg} if {
	request.kind == "swarm"
	request.operation != "inspect"
	msg := concat("", ["swarm ", request.operation, " is not allowed through dockgate; ask an administrator"])
}

violation contains {"rule": "swarm", "message": msg} if {
	request.kind == "node"
	request.operation in {"update", "delete"}
	msg := concat("", ["node ", request.operation, " is not allowed through dockgate; ask an administrator"])
}
