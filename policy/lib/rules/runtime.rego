# Docker-only controls on how the container is run:
#   runtime           HostConfig.Runtime from parameters.allowedRuntimes ("" = the default)
#   cgroup-parent     HostConfig.CgroupParent (create, update) and the build's cgroupparent only
#                     from parameters.allowedCgroupParents
#   oom-kill-disable  no OomKillDisable, no negative OomScoreAdj (both shield a container from the
#                     OOM killer at the host's expense)
#   readonly-rootfs   (off in the shipped profiles) ReadonlyRootfs / a service's ReadOnly required
package dockgate.rules.runtime

import data.dockgate.core.config
import data.dockgate.core.request
import data.dockgate.core.spec
import data.dockgate.core.util

violation contains {"rule": "runtime", "message": msg} if {
	request.container_create
	rt := util.str(object.get(spec.host_config, "Runtime", null))
	not lower(rt) in {lower(r) | some r in config.list_param("allowedRuntimes")}
	msg := concat("", [
		"--runtime ", rt, " (HostConfig.Runtime) is not allowed; allowed runtimes: ",
		util.list_text([r | some r in config.list_param("allowedRuntimes"); r != ""]),
	])
}

_cgroup_parents contains {"value": util.str(object.get(spec.host_config, "CgroupParent", null)), "field": "HostConfig.CgroupParent"}

_cgroup_parents contains {"value": v, "field": "the build's cgroupparent parameter"} if {
	request.build
	some v in request.query_values("cgroupparent")
}

violation contains {"rule": "cgroup-parent", "message": msg} if {
	some c in _cgroup_parents
	c.value != ""
	not c.value in config.list_param("allowedCgroupParents")
	msg := concat("", ["--cgroup-parent ", c.value, " (", c.field, ") is not allowed; remove it"])
}

violation contains {"rule": "oom-kill-disable", "message": msg} if {
	spec.host_config.OomKillDisable == true
	msg := "--oom-kill-disable (HostConfig.OomKillDisable) is not allowed; remove it"
}

violation contains {"rule": "oom-kill-disable", "message": msg} if {
	adj := spec.host_config.OomScoreAdj
	is_number(adj)
	adj < 0
	msg := "a negative --oom-score-adj (HostConfig.OomScoreAdj) is not allowed; use 0 or more"
}

violation contains {"rule": "readonly-rootfs", "message": msg} if {
	request.container_create
	config.enabled("readonly-rootfs")
	object.get(spec.host_config, "ReadonlyRootfs", false) != true
	msg := "the root filesystem must be read-only; add --read-only (and tmpfs mounts where the container writes)"
}

violation contains {"rule": "readonly-rootfs", "message": msg} if {
	spec.container_spec
	config.enabled("readonly-rootfs")
	object.get(spec.container_spec, "ReadOnly", false) != true
	msg := "the service's root filesystem must be read-only; add --read-only"
}
