# A deliberately broken policy for dockgate's fault tests: it allows every request except those
# whose body carries the label "dockgate.test/misbehave", which pick how it misbehaves:
#   "spin"     evaluates for minutes (a regular expression over 1 MB, 100000 times)
#   "throw"    fails at runtime (two values for one complete rule)
#   "flip"     never converges (each round patches the label "round" to a new value)
#   "memory"   needs more memory than the wasm memory cap allows
package dockgate.test.misbehaving

_mode := object.get(input, ["object", "Labels", "dockgate.test/misbehave"], "")

decision := {"allowed": _allowed, "violations": [], "patch": _patch, "warnings": []}

default _allowed := true

_allowed := _spin == 0 if _mode == "spin"

_allowed := _boom if _mode == "throw"

_allowed := count(_hog) > 0 if _mode == "memory"

# Each step scans a 1 MB string with a regular expression: much work per byte allocated, so the
# evaluation runs for minutes instead of hitting the memory cap.
_big := concat("", [x | some _ in numbers.range(1, 20000); x := "abcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdab"])

_spin := count([1 |
	some n in numbers.range(1, 100000)
	regex.match("^(a|b|c|d)*e$", _big)
	n > 0
])

_boom if _mode == "throw"

_allowed := count(_hog) > 0 if _mode == "memory"

# A set: iterating it yields its own elements, so the loop below allocates nothing per step.
_r := {n | some n in numbers.range(1, 3000)}

_spin := count([1 |
	some i in _r
	some j in _r
	some k in _r
	i == -1
	j == k
])

_boom if _mode == "throw"

_boom := false if _mode == "throw"

_hog := [concat("", [x, x, x, x]) | some n in numbers.range(1, 1000000); x := sprintf("%d-padding-padding-padding", [n])]

default _patch := []

_round := to_number(object.get(input, ["object", "Labels", "round"], "0"))

_patch := [{"op": "add", "path": "/Labels/round", "value": sprintf("%d", [_round + 1])}] if _mode == "flip"
