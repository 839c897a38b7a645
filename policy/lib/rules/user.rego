# PSS restricted "non-root": containers, exec sessions and services run as a non-root numeric UID.
#
# User is "user[:group]". Root is "root" or a UID that parses to 0 ("0", "00", "+0", "0000:5").
# A name other than root is denied unless parameters.allowNamedUsers is true: the image's
# /etc/passwd could map it to UID 0 (Kubernetes refuses non-numeric users for runAsNonRoot too).
# An empty User means the image's user: allowed only if the lookup stage passed the image's
# inspect result in input.image and its Config.User passes the same test. For exec, an empty User
# means the container's user (input.oldObject.Config.User, which includes the image's).
package dockgate.rules.user

import data.dockgate.core.config
import data.dockgate.core.request
import data.dockgate.core.spec
import data.dockgate.core.util

# Why a User value is not an acceptable non-root user, else undefined.
problem(u) := "it is empty, so the image's user would be used and that user is unknown or root" if {
	trim_space(u) == ""
} else := "root is not allowed" if {
	_root(_user_part(u))
} else := "it is not a valid UID" if {
	_numeric(_user_part(u))
	not _valid_uid(_user_part(u))
} else := "user names are not allowed (the image could map them to UID 0)" if {
	not _numeric(_user_part(u))
	config.param("allowNamedUsers", false) != true
}

_user_part(u) := trim_space(split(u, ":")[0])

_root(name) if lower(name) == "root"

_root(name) if util.zeros(_unsigned(name))

# [+-]?[0-9]+
_numeric(s) if util.digits(_unsigned(s))

_unsigned(s) := substring(s, 1, -1) if {
	some sign in ["+", "-"]
	startswith(s, sign)
} else := s

# Positive and below 2^31 (runc rejects larger UIDs).
_valid_uid(s) if {
	u := trim_prefix(s, "+")
	util.digits(u)
	n := trim_left(u, "0")
	n != ""
	count(n) <= 10
	to_number(n) <= 2147483647
}

_message(u, why) := concat("", [
	spec.user_field, " '", u, "' is not allowed: ", why, "; set --user to a non-root numeric UID (e.g. --user 1000)",
])

# Container create and services: an empty User falls back to the image's user.
violation contains {"rule": "run-as-non-root", "message": _message(spec.user, why)} if {
	not request.exec_create
	config.enabled("run-as-non-root")
	trim_space(spec.user) != ""
	why := problem(spec.user)
}

violation contains {"rule": "run-as-non-root", "message": _message(spec.user, why)} if {
	not request.exec_create
	config.enabled("run-as-non-root")
	trim_space(spec.user) == ""
	why := problem(_image_user)
}

default _image_user := ""

_image_user := util.str(object.get(input.image, ["Config", "User"], null))

# Exec: an empty User runs as the container's user.
violation contains {"rule": "run-as-non-root", "message": _message(request.object.User, why)} if {
	request.exec_create
	config.enabled("run-as-non-root")
	u := util.str(object.get(request.object, "User", null))
	trim_space(u) != ""
	why := problem(u)
}

violation contains {"rule": "run-as-non-root", "message": msg} if {
	request.exec_create
	config.enabled("run-as-non-root")
	trim_space(util.str(object.get(request.object, "User", null))) == ""
	container_user := util.str(object.get(request.old_object, ["Config", "User"], ""))
	why := problem(container_user)
	msg := concat("", [
		"exec without --user runs as the container's user '", container_user, "', which is not allowed: ",
		why, "; pass --user with a non-root numeric UID",
	])
}
