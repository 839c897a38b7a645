# container-ownership (off in the shipped profiles until tenancy lands): operations on an
# existing container (start, exec, attach, logs, archive get/put, export, commit, update, kill,
# rename, delete, ...) only on containers whose owner label names the caller. The container's
# inspect result comes from the lookup stage (input.oldObject); without it the operation is
# denied: "not found" must never mean "allowed".
package dockgate.rules.ownership

import data.dockgate.core.config
import data.dockgate.core.request
import data.dockgate.core.util

_on_existing_container if {
	request.kind == "container"
	not _not_on_existing[request.operation]
}

_on_existing_container if request.exec_create

_not_on_existing := {"create", "list", "prune"}

_on_existing_container if request.operation == "commit"

_owner := util.str(object.get(request.old_object, ["Config", "Labels", config.owner_label], ""))

violation contains {"rule": "container-ownership", "message": msg} if {
	_on_existing_container
	config.enabled("container-ownership")
	count(request.old_object) == 0
	msg := concat("", [
		"container ", request.target, " could not be looked up, so its owner is unknown; ",
		request.operation, " is not allowed",
	])
}

violation contains {"rule": "container-ownership", "message": msg} if {
	_on_existing_container
	config.enabled("container-ownership")
	count(request.old_object) > 0
	_owner != request.username
	msg := concat("", [
		"container ", request.target, " belongs to ", _owner_text, "; ", request.operation,
		" is only allowed on your own containers",
	])
}

_owner_text := "no dockgate identity" if _owner == ""

_owner_text := concat("", ["'", _owner, "'"]) if _owner != ""
