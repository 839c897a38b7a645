# Small helpers shared by the rules: type-safe field access and number formatting that behaves
# the same in OPA and in the wasm runtime.
package dockgate.core.util

# x if it is an object/array/string, else the empty value. Canonical bodies are typed, but a
# null (JSON null = "unset" for dockerd) must read as empty, not make a rule undefined.
obj(x) := x if {
	is_object(x)
} else := {}

arr(x) := x if {
	is_array(x)
} else := []

str(x) := x if {
	is_string(x)
} else := ""

# Array of strings from a field that may be null/missing; non-strings are dropped.
strings(x) := [s | some s in arr(x); is_string(s)]

# Decimal text of a non-negative integer. format_int aborts in the wasm runtime above 2^31-1
# (memory limits in bytes are larger), so big numbers are printed in two halves.
int_text(n) := format_int(n, 10) if n < 1000000000

int_text(n) := concat("", [format_int(hi, 10), _pad9(format_int(lo, 10))]) if {
	n >= 1000000000
	hi := floor(n / 1000000000)
	lo := n - (hi * 1000000000)
}

_pad9(s) := concat("", [substring("000000000", 0, 9 - count(s)), s])

# "a, b, c" for messages; "(none)" for an empty list.
list_text(xs) := "(none)" if count(xs) == 0

list_text(xs) := concat(", ", [x | some x in xs; is_string(x)]) if count(xs) > 0

# Text checks without regex.match: the wasm runtime compiles a regex on every evaluation (its
# cache does not outlive one decision), which cost more than the rest of a create's decision.

# One or more ASCII digits.
digits(s) if {
	s != ""
	trim(s, "0123456789") == ""
}

# One or more zeros.
zeros(s) if {
	s != ""
	trim(s, "0") == ""
}

# A JSON pointer token (RFC 6901) for an object key.
pointer_token(key) := replace(replace(key, "~", "~0"), "/", "~1")

# Go's strconv.ParseBool, which dockerd uses for security options.
truthy(s) if s in {"1", "t", "T", "TRUE", "true", "True"}

falsy(s) if s in {"0", "f", "F", "FALSE", "false", "False"}
