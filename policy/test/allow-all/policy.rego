# Allows every request: the transparent-proxy tests run with this bundle, so what they measure
# is the proxying itself, with the admission pipeline (classify, canonicalize, evaluate) in place.
package dockgate.test.allowall

decision := {"allowed": true, "violations": [], "patch": [], "warnings": []}
