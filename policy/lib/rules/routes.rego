# Routes dockgate's route table does not know: dockerd might do anything with them.
package dockgate.rules.routes

import data.dockgate.core.request

violation contains {"rule": "unknown-route", "message": msg} if {
	request.kind == "unknown"
	msg := concat("", [
		"the Docker API route ", _route, " is not known to dockgate and is not allowed; ",
		"use a documented Engine API endpoint",
	])
}

default _route := "(unknown)"

_route := concat(" ", [input.request.method, input.request.path]) if {
	is_string(input.request.method)
	is_string(input.request.path)
}
