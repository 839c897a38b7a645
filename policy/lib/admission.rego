# dockgate's admission policy. Entrypoint: dockgate/admission/decision.
#
# Input and result follow DESIGN.md "The policy contract"; policy/README.md documents the data
# layout, the rules and the decisions behind them. In short:
#
#   decision := {"allowed", "violations", "patch", "warnings", "profile"}
#
# - Each rule package (dockgate.rules.*) reports `violation` records {rule, message} and, for
#   mutating rules, `mutation` records {rule, ops, warnings}.
# - The rule's enforcement action (deny, warn, audit, off) comes from data per profile, globally,
#   per listener and per identity (config.rego). `allowed` is false iff a violation denies.
# - A mutating rule whose action is deny fixes the object instead of denying: its ops go into
#   `patch` and its warnings say what was changed. With warn/audit it only reports.
# - The patch is RFC 6902 and only uses `add` of whole field values, so it applies whether or not
#   a field exists; HostConfig is created first when a mutation needs it. Applying the patch and
#   evaluating again yields an empty patch (idempotence): the runtime loops until the patch is
#   empty and must deny if it is still not empty after its round limit.
package dockgate.admission

import data.dockgate.core.catalog
import data.dockgate.core.config
import data.dockgate.core.spec
import data.dockgate.rules

decision := {
	"allowed": allowed,
	"violations": violations,
	"patch": patch,
	"warnings": warnings,
	"profile": config.profile_name,
}

default allowed := false

allowed if {
	not _denied
}

_denied if {
	some v in _effective
	v.action == "deny"
}

# Results of every rule package, listed explicitly (no iteration over data.rules, so the wasm
# planner sees exactly which rules exist). Lists of the packages' sets rather than one union set:
# inserting every record into a further set hashes it again, a large part of a decision's time
# in the wasm runtime.
_reported := [
	rules.routes.violation,
	rules.privileged.violation,
	rules.namespaces.violation,
	rules.capabilities.violation,
	rules.hostpaths.violation,
	rules.devices.violation,
	rules.ports.violation,
	rules.security_opts.violation,
	rules.sysctls.violation,
	rules.user.violation,
	rules.runtime.violation,
	rules.resources.violation,
	rules.labels.violation,
	rules.images.violation,
	rules.volumes.violation,
	rules.networks.violation,
	rules.build.violation,
	rules.daemon.violation,
	rules.ownership.violation,
]

_mutations := [
	rules.capabilities.mutation,
	rules.hostpaths.mutation,
	rules.security_opts.mutation,
	rules.resources.mutation,
	rules.labels.mutation,
]

# A broken profile denies everything; its action cannot be configured away.
_effective contains v if {
	some msg in config.profile_errors
	v := {"rule": "profile-invalid", "title": catalog.title("profile-invalid"), "message": msg, "action": "deny"}
}

_effective contains v if {
	some reported in _reported
	some r in reported
	act := config.action(r.rule)
	act != "off"
	not _fixed(r, act)
	v := {"rule": r.rule, "title": catalog.title(r.rule), "message": r.message, "action": act}
}

# A `fixable` violation is what a mutation of the same rule repairs; when that rule enforces
# (deny), the patch stands in for the violation.
_fixed(r, "deny") if r.fixable == true

_active_mutations := [m |
	some mutations in _mutations
	some m in mutations
	config.action(m.rule) == "deny"
]

# Sets iterate in a different order in wasm than in OPA; sort for a stable result.
violations := sort([v | some v in _effective])

_ops contains op if {
	some m in _active_mutations
	some op in m.ops
}

_init_ops := [{"op": "add", "path": "/HostConfig", "value": {}}] if {
	spec.host_config_missing
	some op in _ops
	startswith(op.path, "/HostConfig/")
} else := []

patch := array.concat(_init_ops, sort([op | some op in _ops]))

_warning_texts contains w if {
	some m in _active_mutations
	some w in m.warnings
}

_warning_texts contains w if {
	some v in _effective
	v.action == "warn"
	w := concat("", ["dockgate: ", v.message, " (rule ", v.rule, ")"])
}

warnings := sort([w | some w in _warning_texts])
