# What the request is: kind, operation, body, identity and API version, read defensively.
#
# The route table (DESIGN.md "classify") fills input.kind/operation; the canonicalizer fills
# input.object with canonical Engine API field names. Anything missing or of the wrong type reads
# as empty here, and a missing kind reads as "unknown" so that the unknown-route rule denies it.
package dockgate.core.request

import data.dockgate.core.util

default kind := "unknown"

kind := input.kind if {
	is_string(input.kind)
	input.kind != ""
}

default operation := ""

operation := input.operation if is_string(input.operation)

default target := ""

target := input.target if is_string(input.target)

# The canonical request body; {} when the route has none (or it is JSON null).
default object := {}

object := input.object if is_object(input.object)

# The upstream state of the target (container inspect for exec/update/archive, network inspect
# for connect, ...), when the lookup stage provided it.
default old_object := {}

old_object := input.oldObject if is_object(input.oldObject)

default username := ""

username := input.userInfo.username if is_string(input.userInfo.username)

default listener := ""

listener := input.userInfo.listener if is_string(input.userInfo.listener)

# Every value of a query parameter. dockerd reads the first one; judging all of them is stricter
# and cannot be bypassed by repeating a parameter.
query_values(name) := [v | some v in input.request.query[name]; is_string(v)] if {
	is_array(input.request.query[name])
} else := [input.request.query[name]] if {
	is_string(input.request.query[name])
} else := []

# The effective Engine API version as [major, minor]. dockgate passes the daemon's version for an
# unversioned path; when it is missing we assume an old API, which only selects the plain `:ro`
# form of the read-only mutation (never a weaker check).
default api_version := [1, 0]

api_version := [_int(parts[0]), _int(parts[1])] if {
	parts := split(trim_prefix(input.request.apiVersion, "v"), ".")
	count(parts) >= 2
	_int(parts[0])
	_int(parts[1])
}

api_at_least(major, _) if api_version[0] > major

api_at_least(major, minor) if {
	api_version[0] == major
	api_version[1] >= minor
}

# to_number rejects leading zeros ("044"), which dockerd's version router accepts.
_int(s) := 0 if util.zeros(s)

_int(s) := to_number(n) if {
	util.digits(s)
	n := trim_left(s, "0")
	n != ""
	count(n) <= 6
}

container_create if {
	kind == "container"
	operation == "create"
}

container_update if {
	kind == "container"
	operation == "update"
}

# POST /containers/{id}/exec is kind "exec", operation "create"; kind "container" with operation
# "exec" is accepted as a synonym.
exec_create if {
	kind == "exec"
	operation == "create"
}

exec_create if {
	kind == "container"
	operation == "exec"
}

service_write if {
	kind == "service"
	operation in {"create", "update"}
}

volume_create if {
	kind == "volume"
	operation == "create"
}

network_create if {
	kind == "network"
	operation == "create"
}

network_connect if {
	kind == "network"
	operation == "connect"
}

# POST /build (classic builder, and BuildKit's version=2 build request).
build if kind == "build"

build if operation == "build"

# POST /images/create (pull or import).
image_create if {
	kind == "image"
	operation in {"pull", "create", "import"}
}
