package dockgate.rules.labels_test

import data.dockgate.testing as t

test_owner_label_added if {
	inp := t.container({"Image": "alpine"})
	d := t.decide(inp, "baseline")
	d.patch == [{"op": "add", "path": "/Labels", "value": {"dockgate.owner": "alice"}}]
	d.warnings == []
	t.settles(inp, "baseline")
}

test_owner_label_added_to_existing_labels if {
	inp := t.container({"Image": "alpine", "Labels": {"app": "web"}})
	d := t.decide(inp, "baseline")
	d.patch == [{"op": "add", "path": "/Labels/dockgate.owner", "value": "alice"}]
	t.settles(inp, "baseline")
}

test_spoofed_owner_label_replaced if {
	inp := t.container({"Image": "alpine", "Labels": {"dockgate.owner": "bob"}})
	d := t.decide(inp, "baseline")
	d.allowed
	d.patch == [{"op": "add", "path": "/Labels/dockgate.owner", "value": "alice"}]
	d.warnings == ["dockgate: label dockgate.owner=bob was replaced by dockgate.owner=alice (rule owner-label); the owner label always names the creating identity"]
	t.settles(inp, "baseline")
}

# warn/audit report the missing label instead of setting it.
test_owner_label_warn_reports_without_patch if {
	d := t.decide(t.container({"Image": "alpine"}), "baseline") with data.dockgate.config as {"rules": {"owner-label": "warn"}}
	d.allowed
	d.patch == []
	t.rules(d) == {"owner-label"}
	d.warnings == ["dockgate: the label dockgate.owner must name the creating identity (alice) (rule owner-label)"]
}

test_correct_owner_label_kept if {
	d := t.decide(t.container({"Image": "alpine", "Labels": {"dockgate.owner": "alice"}}), "baseline")
	d.patch == []
}

test_owner_label_on_volumes_networks_secrets if {
	every kind in ["volume", "network", "secret", "config"] {
		d := t.decide(t.request(kind, "create", {"Name": "x"}), "baseline")
		d.patch == [{"op": "add", "path": "/Labels", "value": {"dockgate.owner": "alice"}}]
	}
}

test_owner_label_on_services_and_their_containers if {
	inp := t.service({"Image": "nginx"})
	d := t.decide(inp, "baseline")
	{op.path | some op in d.patch} == {"/Labels", "/TaskTemplate/ContainerSpec/Labels"}
	t.settles(inp, "baseline")
	upd := t.request("service", "update", {"Name": "web", "Labels": {"dockgate.owner": "alice"}, "TaskTemplate": {"ContainerSpec": {"Image": "nginx", "Labels": {"dockgate.owner": "alice"}}}})
	t.decide(upd, "baseline").patch == []
}

test_label_key_is_escaped_in_the_pointer if {
	cfg := {"parameters": {"ownerLabel": "example.com/owner~x"}}
	d := t.decide(t.container({"Image": "alpine", "Labels": {}}), "baseline") with data.dockgate.config as cfg
	d.patch == [{"op": "add", "path": "/Labels/example.com~1owner~0x", "value": "alice"}]
}

test_no_identity_no_label if {
	inp := object.union(t.container({"Image": "alpine"}), {"userInfo": {"username": ""}})
	t.decide(inp, "baseline").patch == []
}

test_json_null_body_gets_no_patch if {
	d := t.decide(t.container(null), "baseline")
	d.patch == []
	d.allowed
}

test_owner_label_from_input_wins_over_the_parameter if {
	cfg := {"parameters": {"ownerLabel": "from.param"}}
	inp := object.union(t.container({"Image": "alpine", "Labels": {}}), {"ownerLabel": "team.owner"})
	d := t.decide(inp, "baseline") with data.dockgate.config as cfg
	d.patch == [{"op": "add", "path": "/Labels/team.owner", "value": "alice"}]
	empty := object.union(t.container({"Image": "alpine", "Labels": {}}), {"ownerLabel": ""})
	t.decide(empty, "baseline").patch == [{"op": "add", "path": "/Labels/dockgate.owner", "value": "alice"}]
}
