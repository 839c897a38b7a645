# resource-defaults (ci): containers created without a memory, CPU or pids limit get the
# defaults in parameters.resourceDefaults ({"Memory": bytes, "NanoCpus": n, "PidsLimit": n}).
# A limit is only added where dockerd would accept it next to what the request already sets.
package dockgate.rules.resources

import data.dockgate.core.config
import data.dockgate.core.request
import data.dockgate.core.spec
import data.dockgate.core.util

_defaults := util.obj(config.param("resourceDefaults", {}))

_default(name) := n if {
	n := _defaults[name]
	is_number(n)
	n > 0
}

_set(name) if {
	v := spec.host_config[name]
	is_number(v)
	v > 0
}

_unset(name) if not _set(name)

_number(name) := n if {
	n := spec.host_config[name]
	is_number(n)
} else := 0

# Memory: not below MemoryReservation, not above a positive MemorySwap.
_adds contains {"field": "Memory", "value": n, "text": concat("", ["memory limit ", _mib(n), " MiB"])} if {
	n := _default("Memory")
	_unset("Memory")
	_number("MemoryReservation") <= n
	_swap_fits(n)
}

_swap_fits(_) if _number("MemorySwap") <= 0

_swap_fits(n) if _number("MemorySwap") >= n

# NanoCpus conflicts with CpuPeriod/CpuQuota.
_adds contains {"field": "NanoCpus", "value": n, "text": concat("", ["CPU limit ", util.int_text(n), " nano-CPUs"])} if {
	n := _default("NanoCpus")
	_unset("NanoCpus")
	_unset("CpuPeriod")
	_unset("CpuQuota")
}

# PidsLimit 0 or -1 means unlimited: both get the default.
_adds contains {"field": "PidsLimit", "value": n, "text": concat("", ["pids limit ", util.int_text(n)])} if {
	n := _default("PidsLimit")
	_unset("PidsLimit")
}

_mib(n) := util.int_text(floor(n / 1048576))

mutation contains {"rule": "resource-defaults", "ops": ops, "warnings": warnings} if {
	request.container_create
	config.fixes("resource-defaults")
	count(_adds) > 0
	ops := [{"op": "add", "path": concat("/", ["", "HostConfig", a.field]), "value": a.value} | some a in _adds]
	warnings := sort([w |
		some a in _adds
		w := concat("", [
			"dockgate: no ", lower(a.field), " limit was set, so the profile's default ", a.text,
			" was applied (rule resource-defaults)",
		])
	])
}

# There is nothing to deny; with warn/audit the rule reports what it would add.
violation contains {"rule": "resource-defaults", "message": msg, "fixable": true} if {
	request.container_create
	config.reports_fixable("resource-defaults")
	some a in _adds
	msg := concat("", ["no ", a.field, " limit is set; the profile's default would be ", a.text])
}
