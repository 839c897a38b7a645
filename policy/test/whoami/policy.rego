# Says who dockgate thinks the caller is: every request except the version handshake (ping,
# version) is denied with a message naming input.userInfo, so the listener tests can prove which
# identity a connection was given, through any client's error output.
#
# Entrypoint: dockgate/test/whoami/decision
package dockgate.test.whoami

decision := {
	"allowed": _handshake,
	"violations": [v | not _handshake; v := {"rule": "whoami", "message": _message, "action": "deny"}],
	"patch": [],
	"warnings": [],
}

default _handshake := false

_handshake if {
	input.kind == "system"
	input.operation in {"ping", "version"}
}

_message := sprintf("whoami: username=%s groups=%s listener=%s authenticatedBy=%s profile=%s", [
	input.userInfo.username,
	concat(",", input.userInfo.groups),
	input.userInfo.listener,
	input.userInfo.authenticatedBy,
	object.get(input.userInfo, "profile", "none"),
])
