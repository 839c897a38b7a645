package dockgate.test.allowall_test

import data.dockgate.test.allowall

test_allows_anything if {
	allowall.decision.allowed with input as {"kind": "container", "operation": "create", "object": {"HostConfig": {"Privileged": true}}}
}
