package dockgate.rules.build_test

import data.dockgate.testing as t

_build(query) := object.union(t.with_query(t.request("build", "build", null), query), {"request": {"path": "/build"}})

test_classic_build_allowed if {
	t.clean(t.decide(_build({"t": ["app:latest"], "dockerfile": ["Dockerfile"], "networkmode": ["default"], "rm": ["1"]}), "baseline"))
}

test_remote_contexts_denied if {
	every remote in ["https://github.com/docker/getting-started.git", "git@github.com:x/y.git", "http://169.254.169.254/ctx.tar"] {
		t.denied_by(t.decide(_build({"remote": [remote]}), "baseline"), "build-remote")
	}
	t.clean(t.decide(_build({"remote": ["client-session"], "version": ["2"]}), "baseline"))
	cfg := {"parameters": {"allowedBuildRemotes": ["https://git.example.com/"]}}
	t.clean(t.decide(_build({"remote": ["https://git.example.com/team/app.git"]}), "baseline")) with data.dockgate.config as cfg
}

test_extrahosts_to_the_host_denied if {
	t.denied_by(t.decide(_build({"extrahosts": ["host.docker.internal:host-gateway"]}), "baseline"), "build-extrahosts")
	t.denied_by(t.decide(_build({"extrahosts": ["db:10.0.0.2,h=HOST-GATEWAY"]}), "baseline"), "build-extrahosts")
	t.clean(t.decide(_build({"extrahosts": ["db:10.0.0.2", "v6:::1"]}), "baseline"))
}

test_buildkit_tunnels_denied if {
	every op in ["session", "grpc"] {
		inp := object.union(t.request("session", op, null), {"request": {"path": concat("", ["/", op])}})
		d := t.decide(inp, "baseline")
		t.denied_by(d, "buildkit-session")
		contains(t.message(d, "buildkit-session"), concat("", ["(/", op, ")"]))
	}
}

test_buildkit_can_be_allowed if {
	cfg := {"rules": {"buildkit-session": "off"}}
	t.clean(t.decide(t.request("session", "session", null), "baseline")) with data.dockgate.config as cfg
}
