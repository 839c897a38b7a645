# Host paths: lexical normalization and the protected / allowed / writable path sets.
#
# Paths are judged after lexical normalization (like Go's filepath.Clean: `//`, `.` and `..` are
# resolved, `..` never climbs above `/`). Symlinks cannot be seen from here: `/proc/1/root` is
# judged as a path under /proc (denied), and a symlink inside an allowed directory is only caught
# when dockgate passes the resolved path in input.hostPaths (see mounts.rego).
package dockgate.core.paths

import data.dockgate.core.config

# Denied under every profile; data can add paths (parameters.deniedHostPaths,
# parameters.dockerSocketPaths, parameters.deniedSocketNames) but not remove these.
protected_floor := ["/etc", "/proc", "/sys", "/dev", "/boot", "/root", "/var/lib/docker", "/run", "/var/run"]

socket_floor := ["/var/run/docker.sock", "/run/docker.sock"]

socket_name_floor := ["docker.sock"]

# Deeper paths are judged as `/` (denied) instead of spending time normalizing them.
max_segments := 64

_parts(p) := [s | some s in split(p, "/"); not s in {"", "."}]

# True if the path, as written, contains a `..` segment.
has_dotdot(p) if ".." in split(p, "/")

# Absolute, normalized form. A relative path is taken relative to `/` (dockerd's working
# directory), which is how the local volume driver resolves a relative `device`.
clean(p) := "/" if count(_parts(p)) > max_segments

clean(p) := concat("", ["/", concat("/", _resolve(_parts(p)))]) if count(_parts(p)) <= max_segments

_resolve(ps) := ps if not ".." in ps

# A segment survives unless a later `..` pops it: with d[k] the running sum of +1 (name) and -1
# (`..`), segment i is popped iff some later d[j] < d[i]. While segment i is on the stack the
# stack is never empty, so the "`..` at / stays at /" rule cannot interfere.
_resolve(ps) := [s | some i, s in ps; s != ".."; not _popped(depths, i)] if {
	".." in ps
	depths := [sum([_step(ps[k]) | some k in numbers.range(0, i)]) | some i, _ in ps]
}

_step(s) := -1 if s == ".."

_step(s) := 1 if s != ".."

_popped(depths, i) if {
	some j, d in depths
	j > i
	d < depths[i]
}

# p is `prefix` or below it (both normalized; segment-wise, so /homer is not under /home).
under(p, prefix) if p == prefix

under(_, "/") := true

under(p, prefix) if {
	prefix != "/"
	startswith(p, concat("", [prefix, "/"]))
}

_cleaned(name) := [clean(p) | some p in config.list_param(name); p != ""]

protected := array.concat(protected_floor, _cleaned("deniedHostPaths"))

sockets := array.concat(socket_floor, _cleaned("dockerSocketPaths"))

socket_names := array.concat(socket_name_floor, config.list_param("deniedSocketNames"))

allowed_prefixes := array.concat(_cleaned("allowedHostPaths"), writable_prefixes)

writable_prefixes := _cleaned("writableHostPaths")

_basename(p) := parts[count(parts) - 1] if {
	parts := split(p, "/")
	count(parts) > 0
}

# Why a normalized host path may never be mounted, or undefined if it may be.
denial(p) := reasons[0] if {
	reasons := array.concat(
		array.concat(
			[r | some s in sockets; under(s, p); r := concat("", ["it is or contains the Docker socket ", s])],
			[r | some s in sockets; p != s; under(p, s); r := concat("", ["it is inside the Docker socket path ", s])],
		),
		array.concat(
			array.concat(
				[r | some t in protected; under(p, t); r := concat("", ["it is under the protected host path ", t])],
				[r | some t in protected; p != t; under(t, p); r := concat("", ["it contains the protected host path ", t])],
			),
			[r | _basename(p) in socket_names; r := "it names a container engine socket"],
		),
	)
	count(reasons) > 0
}

allowed(p) if {
	some a in allowed_prefixes
	under(p, a)
}

writable(p) if {
	some w in writable_prefixes
	under(p, w)
}
