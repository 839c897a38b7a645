package dockgate.rules.daemon_test

import data.dockgate.testing as t

_plugin(op, target, query) := object.union(t.with_query(t.request("plugin", op, null), query), {"target": target})

test_plugin_installs_denied if {
	t.denied_by(t.decide(_plugin("pull", "", {"remote": ["vieux/sshfs"]}), "baseline"), "plugins")
	t.denied_by(t.decide(_plugin("upgrade", "sshfs", {"remote": ["vieux/sshfs:next"]}), "baseline"), "plugins")
	t.denied_by(t.decide(object.union(_plugin("set", "sshfs", {}), {"object": ["mnt.source=/etc"]}), "baseline"), "plugins")
	t.denied_by(t.decide(_plugin("enable", "sshfs", {}), "baseline"), "plugins")
	t.denied_by(t.decide(_plugin("create", "", {}), "baseline"), "plugins")
}

test_allowlisted_plugin if {
	cfg := {"parameters": {"allowedPlugins": ["vieux/sshfs"]}}
	t.clean(t.decide(_plugin("pull", "", {"remote": ["vieux/sshfs:latest"]}), "baseline")) with data.dockgate.config as cfg
	t.clean(t.decide(_plugin("enable", "vieux/sshfs:latest", {}), "baseline")) with data.dockgate.config as cfg
}

test_plugin_reads_allowed if {
	t.clean(t.decide(_plugin("list", "", {}), "baseline"))
	t.clean(t.decide(_plugin("inspect", "sshfs", {}), "baseline"))
}

test_plugin_services_denied if {
	inp := t.request("service", "create", {"Name": "p", "TaskTemplate": {"Runtime": "plugin", "PluginSpec": {"Name": "x", "Remote": "evil/plugin"}}})
	t.denied_by(t.decide(inp, "baseline"), "plugins")
}

test_swarm_membership_denied if {
	every op in ["init", "join", "update", "leave", "unlock", "unlockkey"] {
		t.denied_by(t.decide(t.request("swarm", op, {}), "baseline"), "swarm")
	}
	t.denied_by(t.decide(t.request("node", "update", {"Role": "manager"}), "baseline"), "swarm")
	t.clean(t.decide(t.request("swarm", "inspect", null), "baseline"))
	t.clean(t.decide(t.request("node", "list", null), "baseline"))
}
