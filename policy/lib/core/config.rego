# The active profile, its parameters and each rule's enforcement action, all from data.
#
# data.dockgate.profiles.<name>   profiles shipped in policy/profiles/*.json (or added by config):
#     {"description", "extends"?, "rules": {"<rule id>": "deny"|"warn"|"audit"|"off"},
#      "parameters": {...}}
# data.dockgate.config            dockgate's config file (optional):
#     {"defaultProfile", "rules": {...}, "parameters": {...},
#      "identities": {"<username>": {"profile", "rules", "parameters"}},
#      "listeners":  {"<listener>": {"profile", "rules", "parameters"}}}
#
# Profile selection, first match wins:
#   1. input.userInfo.profile        (dockgate sets it from the listener/identity, never the client)
#   2. config.identities[<username>].profile
#   3. config.listeners[<listener>].profile
#   4. config.defaultProfile
#   5. "baseline"
# An unknown profile name denies every request (rule profile-invalid).
package dockgate.core.config

import data.dockgate.core.request
import data.dockgate.core.util

default _cfg := {}

_cfg := data.dockgate.config if is_object(data.dockgate.config)

default _profiles := {}

_profiles := data.dockgate.profiles if is_object(data.dockgate.profiles)

_identity := x if {
	x := _cfg.identities[request.username]
	is_object(x)
} else := {}

_listener := x if {
	x := _cfg.listeners[request.listener]
	is_object(x)
} else := {}

profile_name := n if {
	n := input.userInfo.profile
	_given(n)
} else := n if {
	n := _identity.profile
	_given(n)
} else := n if {
	n := _listener.profile
	_given(n)
} else := n if {
	n := _cfg.defaultProfile
	_given(n)
} else := "baseline"

_given(name) if {
	is_string(name)
	name != ""
}

# A profile may extend another (restricted and ci extend baseline). Two levels of parents are
# resolved (Rego has no recursion); deeper chains are a profile error.
default _own := {}

_own := _profiles[profile_name] if is_object(_profiles[profile_name])

default _parent := {}

_parent := _profiles[_own.extends] if is_object(_profiles[_own.extends])

default _grandparent := {}

_grandparent := _profiles[_parent.extends] if is_object(_profiles[_parent.extends])

# A profile that extends nothing is used as is: object.union_n copies and hashes the whole
# profile, on every decision (the wasm runtime keeps nothing between evaluations).
profile := _own if {
	not _own.extends
} else := object.union_n([_grandparent, _parent, _own])

profile_errors contains msg if {
	not is_object(object.get(_profiles, profile_name, null))
	msg := concat("", ["profile '", profile_name, "' is not defined; ask an administrator for a valid profile"])
}

profile_errors contains msg if {
	some p in [_own, _parent]
	is_string(p.extends)
	not is_object(object.get(_profiles, p.extends, null))
	msg := concat("", ["profile '", profile_name, "' extends '", p.extends, "', which is not defined"])
}

profile_errors contains msg if {
	is_string(_grandparent.extends)
	msg := concat("", ["profile '", profile_name, "' extends profiles more than two levels deep"])
}

profile_errors contains msg if {
	some part in [_own, _parent, _grandparent]
	some field in ["rules", "parameters"]
	value := part[field]
	not is_object(value)
	msg := concat("", ["profile '", profile_name, "': ", field, " must be an object"])
}

# Parameters: the profile's, overridden by the config file's global, listener and identity
# parameters (objects merge key by key, arrays are replaced).
# Without overrides (the usual case) the profile's own parameters, not a merged copy.
params := _profile_params if {
	not _cfg.parameters
	not _listener.parameters
	not _identity.parameters
} else := object.union_n([
	_profile_params,
	util.obj(object.get(_cfg, "parameters", {})),
	util.obj(object.get(_listener, "parameters", {})),
	util.obj(object.get(_identity, "parameters", {})),
])

_profile_params := util.obj(object.get(profile, "parameters", {}))

param(name, fallback) := object.get(params, name, fallback)

# String-list parameter; non-strings are dropped.
list_param(name) := util.strings(param(name, []))

# Enforcement action of a rule: identity override, listener override, global override, profile.
# A rule the profile does not name is off. An action that is not understood denies (fail closed).
# Without overrides (the usual case) only the profile is read: rules ask for their action before
# doing any work (enabled, fixes, reports_fixable below), so this runs many times per decision.
action(rule) := _profile_action(rule) if {
	not _overridden
} else := _normalize(a) if {
	a := [x |
		some x in [
			object.get(_identity, ["rules", rule], null),
			object.get(_listener, ["rules", rule], null),
			object.get(_cfg, ["rules", rule], null),
			object.get(profile, ["rules", rule], null),
		]
		x != null
	][0]
} else := "off"

_overridden if is_object(_cfg.rules)

_overridden if is_object(_listener.rules)

_overridden if is_object(_identity.rules)

_profile_rules := util.obj(object.get(profile, "rules", {}))

_profile_action(rule) := _normalize(a) if {
	a := _profile_rules[rule]
	a != null
} else := "off"

_normalize(a) := n if {
	n := _aliases[a]
} else := n if {
	is_string(a)
	n := _aliases[lower(a)]
} else := "deny"

# Gatekeeper spells audit-only as "dryrun".
_aliases := {"deny": "deny", "warn": "warn", "audit": "audit", "dryrun": "audit", "off": "off"}

# Whether anything would come of a rule's results (admission.rego): an off rule reports nothing,
# a mutation only applies when its rule enforces (deny), and a fixable violation only shows when
# its rule does not enforce (its patch stands in otherwise). Rules check these before their work.
enabled(rule) if action(rule) != "off"

fixes(rule) if action(rule) == "deny"

reports_fixable(rule) if {
	a := action(rule)
	a != "off"
	a != "deny"
}

# The label that records which identity created an object: dockgate's config (`ownerLabel`,
# passed as input.ownerLabel, so the proxy filters on the label the policy stamps), else the
# parameter.
owner_label := input.ownerLabel if {
	is_string(input.ownerLabel)
	input.ownerLabel != ""
} else := param("ownerLabel", "dockgate.owner")
