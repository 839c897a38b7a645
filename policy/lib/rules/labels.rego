# owner-label: objects created through dockgate carry the creating identity in the label named
# by parameters.ownerLabel (default "dockgate.owner"). The label is set by mutation, overwriting
# any value the client sent: clients must not be able to claim someone else's objects.
package dockgate.rules.labels

import data.dockgate.core.config
import data.dockgate.core.request
import data.dockgate.core.spec
import data.dockgate.core.util

_key := config.owner_label

_user := request.username

_applies if {
	is_string(_key)
	_key != ""
	_user != ""
}

# Labels missing or null: write the whole object.
_op(t) := {"op": "add", "path": t.path, "value": {_key: _user}} if not is_object(t.labels)

_op(t) := {"op": "add", "path": concat("/", [t.path, util.pointer_token(_key)]), "value": _user} if is_object(t.labels)

_wrong(t) if not is_object(t.labels)

_wrong(t) if object.get(t.labels, _key, null) != _user

mutation contains {"rule": "owner-label", "ops": ops, "warnings": warnings} if {
	_applies
	config.fixes("owner-label")
	targets := [t | some t in spec.labels_targets; _wrong(t)]
	count(targets) > 0
	ops := [_op(t) | some t in targets]
	warnings := sort([w |
		some t in targets
		is_object(t.labels)
		claimed := t.labels[_key]
		w := concat("", [
			"dockgate: label ", _key, "=", util.str(claimed), " was replaced by ", _key, "=", _user,
			" (rule owner-label); the owner label always names the creating identity",
		])
	])
}

violation contains {"rule": "owner-label", "message": msg, "fixable": true} if {
	_applies
	config.reports_fixable("owner-label")
	some t in spec.labels_targets
	_wrong(t)
	msg := concat("", ["the label ", _key, " must name the creating identity (", _user, ")"])
}
