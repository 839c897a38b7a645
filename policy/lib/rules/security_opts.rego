# Security options (HostConfig.SecurityOpt; a service's Privileges are read as the same options):
#   apparmor           no apparmor=unconfined
#   selinux            no label=disable, label=user:..., label=role:...; label=type:... only from
#                      parameters.allowedSELinuxTypes
#   seccomp            no seccomp=unconfined; custom profiles only if they equal one of
#                      parameters.allowedSeccompProfiles (compared as parsed JSON, see README)
#   proc-mount         no systempaths=unconfined, no writable-cgroups, and MaskedPaths/
#                      ReadonlyPaths (when set) must keep dockerd's defaults
#   no-new-privileges  restricted: required, added by mutation
package dockgate.rules.security_opts

import data.dockgate.core.config
import data.dockgate.core.request
import data.dockgate.core.spec
import data.dockgate.core.util

_value(o) := lower(trim_space(o.value))

violation contains {"rule": "apparmor", "message": msg} if {
	some o in spec.security_opts
	o.key == "apparmor"
	_value(o) == "unconfined"
	msg := concat("", ["--security-opt ", o.raw, " (", spec.security_opt_field, ") is not allowed; remove it to keep the default AppArmor profile"])
}

violation contains {"rule": "selinux", "message": msg} if {
	some o in spec.security_opts
	o.key == "label"
	_value(o) == "disable"
	msg := concat("", ["--security-opt ", o.raw, " (", spec.security_opt_field, ") is not allowed; remove it to keep SELinux separation"])
}

violation contains {"rule": "selinux", "message": msg} if {
	some o in spec.security_opts
	o.key == "label"
	some part in ["user:", "role:"]
	startswith(_value(o), part)
	msg := concat("", ["--security-opt ", o.raw, " (", spec.security_opt_field, ") is not allowed: setting the SELinux ", trim_suffix(part, ":"), " is not allowed; remove it"])
}

violation contains {"rule": "selinux", "message": msg} if {
	some o in spec.security_opts
	o.key == "label"
	startswith(_value(o), "type:")
	selinux_type := substring(_value(o), count("type:"), -1)
	not selinux_type in {lower(t) | some t in config.list_param("allowedSELinuxTypes")}
	msg := concat("", [
		"--security-opt ", o.raw, " (", spec.security_opt_field, ") is not allowed; allowed SELinux types: ",
		util.list_text(config.list_param("allowedSELinuxTypes")),
	])
}

violation contains {"rule": "seccomp", "message": msg} if {
	some o in spec.security_opts
	o.key == "seccomp"
	_value(o) == "unconfined"
	msg := concat("", ["--security-opt seccomp=unconfined (", spec.security_opt_field, ") is not allowed; remove it to keep the default seccomp profile"])
}

violation contains {"rule": "seccomp", "message": msg} if {
	some o in spec.security_opts
	o.key == "seccomp"
	not _value(o) in {"unconfined", "builtin", ""}
	not _allowed_profile(o.value)
	msg := concat("", [
		"the custom seccomp profile in ", spec.security_opt_field, " is not on the allowlist; ",
		"remove it to keep the default profile, or ask for the profile to be allowed",
	])
}

_allowed_profile(text) if {
	json.is_valid(text)
	profile := json.unmarshal(text)
	some allowed in util.arr(config.param("allowedSeccompProfiles", []))
	profile == allowed
}

violation contains {"rule": "proc-mount", "message": msg} if {
	some o in spec.security_opts
	o.key == "systempaths"
	_value(o) == "unconfined"
	msg := concat("", ["--security-opt ", o.raw, " (", spec.security_opt_field, ") is not allowed: it unmasks /proc and /sys; remove it"])
}

violation contains {"rule": "proc-mount", "message": msg} if {
	some o in spec.security_opts
	o.key == "writable-cgroups"
	not util.falsy(trim_space(o.value))
	msg := concat("", ["--security-opt ", o.raw, " (", spec.security_opt_field, ") is not allowed: it makes the cgroup filesystem writable; remove it"])
}

# MaskedPaths/ReadonlyPaths: null keeps dockerd's defaults, [] unmasks everything, and any list
# replaces the defaults, so a list must still contain every default.
violation contains {"rule": "proc-mount", "message": msg} if {
	request.container_create
	some field in ["MaskedPaths", "ReadonlyPaths"]
	is_array(spec.host_config[field])
	defaults_param := concat("", ["default", field]) # defaultMaskedPaths, defaultReadonlyPaths
	missing := {p | some p in config.list_param(defaults_param)} - {p | some p in util.strings(spec.host_config[field])}
	count(missing) > 0
	msg := concat("", [
		"HostConfig.", field, " may not drop dockerd's defaults (missing: ",
		util.list_text(sort([p | some p in missing])), "); leave it unset",
	])
}

# --- no-new-privileges (restricted) -------------------------------------------------------------

_nnp := [o | some o in spec.security_opts; o.key == "no-new-privileges"]

_nnp_set if {
	count(_nnp) > 0
	every o in _nnp {
		util.truthy(trim_space(o.value))
	}
}

violation contains {"rule": "no-new-privileges", "message": msg, "fixable": true} if {
	_nnp_path
	config.reports_fixable("no-new-privileges")
	not _nnp_set
	msg := "containers must run with no-new-privileges; add --security-opt no-new-privileges"
}

violation contains {"rule": "no-new-privileges", "message": msg} if {
	request.service_write
	not _nnp_path
	config.enabled("no-new-privileges")
	not _nnp_set
	msg := "services must run with no-new-privileges, which needs Engine API 1.44 or later and a container spec"
}

_nnp_path := "/HostConfig/SecurityOpt" if request.container_create

# Swarm has Privileges.NoNewPrivileges from API 1.44.
_nnp_path := "/TaskTemplate/ContainerSpec/Privileges" if {
	spec.service_has_container_spec
	request.api_at_least(1, 44)
}

_nnp_warning := "dockgate: added --security-opt no-new-privileges (rule no-new-privileges)"

# Every no-new-privileges entry is replaced by one that enables it (dockerd applies the last).
mutation contains {
	"rule": "no-new-privileges",
	"ops": [{"op": "add", "path": "/HostConfig/SecurityOpt", "value": value}],
	"warnings": [_nnp_warning],
} if {
	request.container_create
	config.fixes("no-new-privileges")
	not _nnp_set
	value := array.concat(
		[o.raw | some o in spec.security_opts; o.key != "no-new-privileges"],
		["no-new-privileges=true"],
	)
}

mutation contains {
	"rule": "no-new-privileges",
	"ops": [{"op": "add", "path": _nnp_path, "value": value}],
	"warnings": [_nnp_warning],
} if {
	request.service_write
	_nnp_path
	config.fixes("no-new-privileges")
	not _nnp_set
	value := object.union(util.obj(object.get(spec.container_spec, "Privileges", null)), {"NoNewPrivileges": true})
}
