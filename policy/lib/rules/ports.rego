# Published host ports: host IPs from parameters.allowedHostIPs ("*" = any; "" and "0.0.0.0"
# mean all interfaces), host ports within parameters.allowedHostPortRanges ([[from, to], ...]),
# ephemeral host ports (empty or 0) when parameters.allowEphemeralHostPorts is true.
package dockgate.rules.ports

import data.dockgate.core.config
import data.dockgate.core.request
import data.dockgate.core.spec
import data.dockgate.core.util

_allowed_ips := {_ip(a) | some a in config.list_param("allowedHostIPs")}

# "" binds every interface, like 0.0.0.0; IPv6 may come bracketed.
_ip(a) := "0.0.0.0" if trim_space(a) == ""

_ip(a) := lower(trim_suffix(trim_prefix(trim_space(a), "["), "]")) if trim_space(a) != ""

_ip_allowed(_) if "*" in _allowed_ips

_ip_allowed(ip) if _ip(ip) in _allowed_ips

_ranges := [r | some r in util.arr(config.param("allowedHostPortRanges", [])); count(util.arr(r)) == 2]

_in_ranges(n) if {
	some r in _ranges
	n >= r[0]
	n <= r[1]
}

_ephemeral_ok if config.param("allowEphemeralHostPorts", true) == true

_ranges_text := util.list_text([concat("-", [util.int_text(r[0]), util.int_text(r[1])]) | some r in _ranges])

# Why a HostPort string ("8080", "8000-8010", "" or "0") is not allowed, else undefined.
port_problem(p) := "ephemeral host ports are not allowed; publish a fixed port" if {
	trim_space(p) in {"", "0"}
	not _ephemeral_ok
} else := concat("", ["host port ", p, " is not a port or port range"]) if {
	not trim_space(p) in {"", "0"}
	not _port_or_range(trim_space(p))
} else := concat("", ["host port ", p, " is outside the allowed ranges (", _ranges_text, ")"]) if {
	not trim_space(p) in {"", "0"}
	some end in split(trim_space(p), "-")
	not _in_ranges(_number(end))
}

_number(digits) := 0 if util.zeros(digits)

_number(digits) := to_number(trim_left(digits, "0")) if not util.zeros(digits)

# [0-9]{1,5}(-[0-9]{1,5})?
_port_or_range(p) if {
	parts := split(p, "-")
	count(parts) <= 2
	every part in parts {
		util.digits(part)
		count(part) <= 5
	}
}

_ip_text := util.list_text(sort([x | some x in _allowed_ips]))

violation contains {"rule": "host-ports", "message": msg} if {
	request.container_create
	some port, bindings in util.obj(object.get(spec.host_config, "PortBindings", null))
	some b in util.arr(bindings)
	ip := util.str(object.get(b, "HostIp", ""))
	not _ip_allowed(ip)
	msg := concat("", [
		"publishing ", port, " on host IP '", _ip(ip), "' is not allowed; allowed host IPs: ", _ip_text,
		" (e.g. -p 127.0.0.1:8080:80)",
	])
}

violation contains {"rule": "host-ports", "message": msg} if {
	request.container_create
	some port, bindings in util.obj(object.get(spec.host_config, "PortBindings", null))
	some b in util.arr(bindings)
	problem := port_problem(util.str(object.get(b, "HostPort", "")))
	msg := concat("", ["publishing ", port, ": ", problem])
}

# -P publishes every exposed port on an ephemeral port of every interface.
violation contains {"rule": "host-ports", "message": msg} if {
	request.container_create
	spec.host_config.PublishAllPorts == true
	some problem in _publish_all_problems
	msg := concat("", ["--publish-all (-P) is not allowed: ", problem, "; publish ports with -p"])
}

_publish_all_problems contains "it binds every interface" if not _ip_allowed("0.0.0.0")

_publish_all_problems contains "it uses ephemeral ports" if not _ephemeral_ok

# Swarm publishes on every node's interfaces (ingress or host mode).
violation contains {"rule": "host-ports", "message": msg} if {
	some published in _service_published_ports
	not _ip_allowed("0.0.0.0")
	msg := concat("", ["service port ", util.int_text(published), ": publishing on every interface is not allowed"])
}

violation contains {"rule": "host-ports", "message": msg} if {
	some published in _service_published_ports
	problem := port_problem(util.int_text(published))
	msg := concat("", ["service port ", util.int_text(published), ": ", problem])
}

_service_published_ports contains published if {
	request.service_write
	some p in util.arr(object.get(request.object, ["EndpointSpec", "Ports"], []))
	published := object.get(p, "PublishedPort", 0)
	is_number(published)
	published >= 0
}
