package dockgate.test.whoami_test

import data.dockgate.test.whoami

_user := {"username": "alice", "groups": ["dev", "ops"], "listener": "tls", "authenticatedBy": "tls"}

test_names_the_caller if {
	d := whoami.decision with input as {"kind": "container", "operation": "list", "userInfo": _user}
	not d.allowed
	d.violations[0].message == "whoami: username=alice groups=dev,ops listener=tls authenticatedBy=tls profile=none"
}

test_allows_the_handshake if {
	d := whoami.decision with input as {"kind": "system", "operation": "ping", "userInfo": _user}
	d.allowed
	count(d.violations) == 0
}
