# PSS baseline "sysctls": only the namespaced, safe set in parameters.allowedSysctls.
# Names are compared lower-cased with '/' read as '.', the two spellings the kernel accepts.
package dockgate.rules.sysctls

import data.dockgate.core.config
import data.dockgate.core.spec
import data.dockgate.core.util

_name(s) := lower(replace(trim_space(s), "/", "."))

_allowed := {_name(s) | some s in config.list_param("allowedSysctls")}

violation contains {"rule": "sysctls", "message": msg} if {
	some name, _ in spec.sysctls
	not _name(name) in _allowed
	msg := concat("", [
		"--sysctl ", name, " (", spec.sysctls_field, ") is not allowed; allowed sysctls: ",
		util.list_text(sort([s | some s in _allowed])),
	])
}
