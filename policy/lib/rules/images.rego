# Images:
#   image-registry    (ci) images for containers, services and pulls only from
#                     parameters.allowedRegistries: "*", a registry ("docker.io",
#                     "localhost:5000") or a repository prefix ("ghcr.io/my-org")
#   image-digest      (available, off in the shipped profiles) references must be pinned by digest
#   image-import-url  no POST /images/create?fromSrc=<URL>: the daemon would fetch any URL
package dockgate.rules.images

import data.dockgate.core.config
import data.dockgate.core.request
import data.dockgate.core.spec
import data.dockgate.core.util

# Image references of this request, with where they came from.
_refs contains {"ref": spec.image, "field": spec.image_field} if spec.image != ""

_refs contains {"ref": _pull_ref(v), "field": "fromImage"} if {
	request.image_create
	some v in request.query_values("fromImage")
	v != ""
}

# A pull's tag parameter may carry a digest; repository and tag are joined like the CLI does.
_pull_ref(v) := concat(sep, [v, tag]) if {
	tag := request.query_values("tag")[0]
	tag != ""
	sep := _tag_sep(tag)
} else := v

_tag_sep(tag) := "@" if contains(tag, ":")

_tag_sep(tag) := ":" if not contains(tag, ":")

# Local image IDs name no registry.
_image_id(ref) if {
	id := lower(ref)
	startswith(id, "sha256:")
	count(id) == 71
	trim(substring(id, 7, -1), "0123456789abcdef") == ""
}

# "registry/path" of a reference, docker.io's normalization included
# ("alpine" -> "docker.io/library/alpine").
repository(ref) := concat("/", [_registry(first), rest]) if {
	name := split(lower(trim_space(ref)), "@")[0]
	parts := split(name, "/")
	count(parts) > 1
	first := parts[0]
	_is_registry(first)
	rest := _strip_tag(concat("/", array.slice(parts, 1, count(parts))))
} else := concat("/", ["docker.io", _library(_strip_tag(name))]) if {
	name := split(lower(trim_space(ref)), "@")[0]
}

_is_registry(first) if contains(first, ".")

_is_registry(first) if contains(first, ":")

_is_registry("localhost")

_registry(first) := "docker.io" if first in {"index.docker.io", "registry-1.docker.io"}

_registry(first) := first if not first in {"index.docker.io", "registry-1.docker.io"}

_library(name) := concat("/", ["library", name]) if not contains(name, "/")

_library(name) := name if contains(name, "/")

# The tag is after the last ':' of the last path component.
_strip_tag(path) := path if not contains(_last(path), ":")

_strip_tag(path) := substring(path, 0, (count(path) - count(_last(path))) + indexof(_last(path), ":")) if {
	contains(_last(path), ":")
}

_last(path) := parts[count(parts) - 1] if parts := split(path, "/")

registry_allowed(_) if "*" in config.list_param("allowedRegistries")

registry_allowed(ref) if {
	repo := repository(ref)
	some entry in config.list_param("allowedRegistries")
	e := trim_suffix(lower(trim_space(entry)), "/")
	e != ""
	_prefix(repo, e)
}

_prefix(repo, e) if repo == e

_prefix(repo, e) if startswith(repo, concat("", [e, "/"]))

violation contains {"rule": "image-registry", "message": msg} if {
	config.enabled("image-registry")
	some r in _refs
	not _image_id(r.ref)
	not registry_allowed(r.ref)
	msg := concat("", [
		"image ", r.ref, " (", r.field, ") is not from an allowed registry (",
		util.list_text(config.list_param("allowedRegistries")), "); use an image from one of them",
	])
}

violation contains {"rule": "image-digest", "message": msg} if {
	config.enabled("image-digest")
	some r in _refs
	not _image_id(r.ref)
	not contains(r.ref, "@sha256:")
	msg := concat("", ["image ", r.ref, " (", r.field, ") must be pinned by digest (name@sha256:...)"])
}

violation contains {"rule": "image-import-url", "message": msg} if {
	request.image_create
	some src in request.query_values("fromSrc")
	src != "-"
	src != ""
	msg := concat("", [
		"importing an image from ", src, " is not allowed: the daemon would fetch the URL; ",
		"download it yourself and import it from stdin (fromSrc=-)",
	])
}
