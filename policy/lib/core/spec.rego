# One view of the container settings a request carries, whatever the route:
#   container create  body = ContainerConfig + HostConfig + NetworkingConfig
#   container update  body = Resources + RestartPolicy (HostConfig fields at the top level)
#   exec create       body = ExecConfig (Privileged, User)
#   service create/update  body = ServiceSpec; the container is TaskTemplate.ContainerSpec
# Rules read these helpers instead of each route's field names. `*_field` names the field for
# messages; `*_path` is the JSON pointer a mutation writes.
package dockgate.core.spec

import data.dockgate.core.config
import data.dockgate.core.request
import data.dockgate.core.util

# HostConfig of a create; the body itself for an update (its Resources are HostConfig fields).
host_config := util.obj(object.get(request.object, "HostConfig", {})) if request.container_create

host_config := request.object if request.container_update

# true when a mutation must create HostConfig before writing into it.
host_config_missing if {
	request.container_create
	not is_object(object.get(request.object, "HostConfig", null))
}

container_spec := util.obj(object.get(request.object, ["TaskTemplate", "ContainerSpec"], {})) if request.service_write

# A service whose TaskTemplate has a ContainerSpec object that mutations can write into.
service_has_container_spec if {
	request.service_write
	is_object(request.object.TaskTemplate.ContainerSpec)
}

# --- capabilities -------------------------------------------------------------------------------

cap_add := util.strings(object.get(host_config, "CapAdd", null)) if request.container_create

cap_add := util.strings(object.get(container_spec, "CapabilityAdd", null)) if request.service_write

cap_add_field := "HostConfig.CapAdd" if request.container_create

cap_add_field := "TaskTemplate.ContainerSpec.CapabilityAdd" if request.service_write

cap_drop := util.strings(object.get(host_config, "CapDrop", null)) if request.container_create

cap_drop := util.strings(object.get(container_spec, "CapabilityDrop", null)) if request.service_write

cap_drop_path := "/HostConfig/CapDrop" if request.container_create

cap_drop_path := "/TaskTemplate/ContainerSpec/CapabilityDrop" if service_has_container_spec

# dockerd upper-cases capability names and adds the CAP_ prefix; compare without it.
cap_name(c) := trim_prefix(upper(trim_space(c)), "CAP_")

# --- security options ---------------------------------------------------------------------------

# Parsed like dockerd: bare "no-new-privileges" and bare "disable" (label=disable) are special;
# otherwise split at the first '=' if there is one, else at the first legacy ':'. Keys are
# compared lower-cased (stricter than dockerd, which rejects other spellings anyway).
parse_security_opt(raw) := {"key": "no-new-privileges", "value": "true", "raw": raw} if {
	trim_space(raw) == "no-new-privileges"
} else := {"key": "label", "value": "disable", "raw": raw} if {
	trim_space(raw) == "disable"
} else := _split_opt(raw, "=") if {
	contains(raw, "=")
} else := _split_opt(raw, ":") if {
	contains(raw, ":")
} else := {"key": lower(trim_space(raw)), "value": "", "raw": raw}

_split_opt(raw, sep) := {
	"key": lower(trim_space(substring(raw, 0, i))),
	"value": substring(raw, i + 1, -1),
	"raw": raw,
} if {
	i := indexof(raw, sep)
}

security_opts := [parse_security_opt(o) | some o in util.strings(object.get(host_config, "SecurityOpt", null))] if request.container_create

# A service's Privileges, expressed as the security options they amount to, so that the same
# rules judge both.
security_opts := [parse_security_opt(o) | some o in _service_security_opts] if request.service_write

security_opt_field := "HostConfig.SecurityOpt" if request.container_create

security_opt_field := "TaskTemplate.ContainerSpec.Privileges" if request.service_write

_privileges := util.obj(object.get(container_spec, "Privileges", {}))

_selinux := util.obj(object.get(_privileges, "SELinuxContext", {}))

_service_security_opts contains "label=disable" if _selinux.Disable == true

_service_security_opts contains concat("", ["label=", part, ":", value]) if {
	some field, part in {"User": "user", "Role": "role", "Type": "type", "Level": "level"}
	value := util.str(object.get(_selinux, field, ""))
	value != ""
}

_service_security_opts contains "apparmor=unconfined" if {
	lower(util.str(object.get(_privileges, ["AppArmor", "Mode"], null))) == "disabled"
}

_service_security_opts contains "seccomp=unconfined" if {
	lower(util.str(object.get(_privileges, ["Seccomp", "Mode"], null))) == "unconfined"
}

_service_security_opts contains concat("", ["seccomp=", _service_seccomp_profile]) if {
	lower(util.str(object.get(_privileges, ["Seccomp", "Mode"], null))) == "custom"
}

_service_security_opts contains "no-new-privileges=true" if _privileges.NoNewPrivileges == true

# Swarm's Seccomp.Profile is []byte in Go, i.e. base64 in JSON.
default _service_seccomp_profile := ""

_service_seccomp_profile := base64.decode(p) if {
	p := util.str(object.get(_privileges, ["Seccomp", "Profile"], null))
	base64.is_valid(p)
} else := util.str(object.get(_privileges, ["Seccomp", "Profile"], null))

# --- user, image, sysctls -----------------------------------------------------------------------

user := util.str(object.get(request.object, "User", "")) if request.container_create

user := util.str(object.get(request.object, "User", "")) if request.exec_create

user := util.str(object.get(container_spec, "User", "")) if request.service_write

user_field := "User" if not request.service_write

user_field := "TaskTemplate.ContainerSpec.User" if request.service_write

image := util.str(object.get(request.object, "Image", "")) if request.container_create

image := util.str(object.get(container_spec, "Image", "")) if request.service_write

image_field := "Image" if request.container_create

image_field := "TaskTemplate.ContainerSpec.Image" if request.service_write

sysctls := util.obj(object.get(host_config, "Sysctls", null)) if request.container_create

sysctls := util.obj(object.get(container_spec, "Sysctls", null)) if request.service_write

sysctls_field := "HostConfig.Sysctls" if request.container_create

sysctls_field := "TaskTemplate.ContainerSpec.Sysctls" if request.service_write

# --- labels (owner label mutation) --------------------------------------------------------------

# Objects whose top-level Labels record the owner, and services' task containers: JSON pointer
# of the labels -> their current value (null if missing). Keyed by pointer rather than a set of
# records, which would hash every label of the request on each decision.
labels_targets["/Labels"] := object.get(request.object, "Labels", null) if {
	request.operation == "create"
	_labelled_kinds[request.kind]
	is_object(input.object)
}

labels_targets["/Labels"] := object.get(request.object, "Labels", null) if {
	request.kind == "service"
	request.operation == "update"
	is_object(input.object)
}

labels_targets["/TaskTemplate/ContainerSpec/Labels"] := object.get(container_spec, "Labels", null) if {
	service_has_container_spec
}

_labelled_kinds := {"container", "volume", "network", "service", "secret", "config"}

# --- ownership ----------------------------------------------------------------------------------

# The referenced container carries the caller's owner label. Known only when the lookup stage
# passed its inspect result in input.containers[<name or id as written in the request>].
owned_container(ref) if {
	request.username != ""
	labels := util.obj(object.get(input, ["containers", ref, "Config", "Labels"], {}))
	labels[config.owner_label] == request.username
}
