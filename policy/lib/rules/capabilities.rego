# Capabilities. PSS baseline: added capabilities only from a safe list, never ALL.
# PSS restricted: the safe list shrinks to NET_BIND_SERVICE (parameter allowedCapabilities), and
# CapDrop must hold ALL, which the mutation adds.
package dockgate.rules.capabilities

import data.dockgate.core.config
import data.dockgate.core.spec
import data.dockgate.core.util

_allowed := {spec.cap_name(c) | some c in config.list_param("allowedCapabilities")}

violation contains {"rule": "capabilities", "message": msg} if {
	some c in spec.cap_add
	spec.cap_name(c) == "ALL"
	msg := concat("", ["--cap-add ", c, " (", spec.cap_add_field, ") is never allowed; add only the capabilities you need"])
}

violation contains {"rule": "capabilities", "message": msg} if {
	some c in spec.cap_add
	name := spec.cap_name(c)
	name != "ALL"
	not name in _allowed
	msg := concat("", [
		"--cap-add ", c, " (", spec.cap_add_field, ") is not allowed; allowed capabilities: ",
		util.list_text(sort([x | some x in _allowed])),
	])
}

# CapDrop holds ALL. dockerd accepts "ALL" in any case but not "CAP_ALL".
_drops_all if {
	some c in spec.cap_drop
	upper(trim_space(c)) == "ALL"
}

violation contains {"rule": "capabilities-drop-all", "message": msg, "fixable": true} if {
	spec.cap_drop_path
	config.reports_fixable("capabilities-drop-all")
	not _drops_all
	msg := "all capabilities must be dropped; add --cap-drop ALL (and --cap-add only what you need)"
}

# A service without a ContainerSpec cannot be patched; the violation then stands.
violation contains {"rule": "capabilities-drop-all", "message": msg} if {
	spec.container_spec
	not spec.service_has_container_spec
	config.enabled("capabilities-drop-all")
	not _drops_all
	msg := "services must drop all capabilities (--cap-drop ALL); this service has no container spec to apply it to"
}

mutation contains {
	"rule": "capabilities-drop-all",
	"ops": [{"op": "add", "path": spec.cap_drop_path, "value": array.concat(spec.cap_drop, ["ALL"])}],
	"warnings": ["dockgate: added --cap-drop ALL (rule capabilities-drop-all); only capabilities you add explicitly remain"],
} if {
	spec.cap_drop_path
	config.fixes("capabilities-drop-all")
	not _drops_all
}
