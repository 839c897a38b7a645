# Builds (POST /build query parameters; networkmode is judged by host-namespaces and
# cgroupparent by cgroup-parent):
#   build-remote      no remote contexts (remote=<git or http URL>) unless they start with one of
#                     parameters.allowedBuildRemotes: the daemon would fetch them itself
#   build-extrahosts  no --add-host entries pointing at parameters.deniedBuildExtraHostAddresses
#                     (by default host-gateway, i.e. the host itself)
#   buildkit-session  BuildKit's /session and /grpc tunnels: their traffic cannot be inspected
#                     (a BuildKit build can ask for the host network), so they are a single
#                     allow/deny switch; deny in the shipped profiles
package dockgate.rules.build

import data.dockgate.core.config
import data.dockgate.core.request

violation contains {"rule": "build-remote", "message": msg} if {
	request.build
	some remote in request.query_values("remote")
	not remote in {"", "client-session"}
	not _remote_allowed(remote)
	msg := concat("", [
		"remote build context ", remote, " is not allowed: the daemon would fetch it; ",
		"clone or download it yourself and build from the local directory",
	])
}

_remote_allowed(remote) if {
	some prefix in config.list_param("allowedBuildRemotes")
	prefix != ""
	startswith(remote, prefix)
}

# extrahosts values are "name:address" (or "name=address"), one or several per value.
_extra_hosts contains entry if {
	request.build
	some v in request.query_values("extrahosts")
	some entry in split(replace(v, " ", ","), ",")
	entry != ""
}

_address(entry) := substring(entry, i + 1, -1) if {
	i := indexof(replace(entry, "=", ":"), ":")
	i >= 0
}

violation contains {"rule": "build-extrahosts", "message": msg} if {
	some entry in _extra_hosts
	lower(trim_space(_address(entry))) in {lower(a) | some a in config.list_param("deniedBuildExtraHostAddresses")}
	msg := concat("", ["build --add-host ", entry, " is not allowed: builds may not reach the host; remove it"])
}

violation contains {"rule": "buildkit-session", "message": msg} if {
	_buildkit_tunnel
	msg := concat("", [
		"BuildKit sessions (", _path, ") are not allowed: dockgate cannot inspect them; ",
		"build with the classic builder (DOCKER_BUILDKIT=0) or ask for a profile that allows BuildKit",
	])
}

_buildkit_tunnel if request.kind == "session"

_buildkit_tunnel if request.operation == "session"

_buildkit_tunnel if request.operation == "grpc"

default _path := "/session, /grpc"

_path := input.request.path if is_string(input.request.path)
