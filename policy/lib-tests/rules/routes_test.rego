package dockgate.rules.routes_test

import data.dockgate.testing as t

test_unknown_routes_denied if {
	inp := object.union(t.request("unknown", "", null), {"request": {"method": "POST", "path": "/v1.41/containers/x/frobnicate"}})
	d := t.decide(inp, "baseline")
	t.denied_by(d, "unknown-route")
	t.message(d, "unknown-route") == "the Docker API route POST /v1.41/containers/x/frobnicate is not known to dockgate and is not allowed; use a documented Engine API endpoint"
	t.denied_by(t.decide(inp, "privileged"), "unknown-route")
}

test_missing_kind_is_unknown if {
	inp := object.remove(t.request("x", "create", {}), ["kind"])
	t.denied_by(t.decide(inp, "baseline"), "unknown-route")
	t.denied_by(t.decide(object.union(inp, {"kind": ""}), "baseline"), "unknown-route")
}

test_known_read_routes_allowed if {
	every kind in ["container", "image", "system", "volume", "network", "distribution", "auth"] {
		t.clean(t.decide(t.request(kind, "list", null), "baseline"))
	}
}
