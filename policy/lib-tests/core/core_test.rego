package dockgate.core.core_test

import data.dockgate.core.mounts
import data.dockgate.core.paths
import data.dockgate.core.request
import data.dockgate.core.spec
import data.dockgate.core.util

test_clean if {
	paths.clean("/") == "/"
	paths.clean("") == "/"
	paths.clean("/a/b/") == "/a/b"
	paths.clean("//a//b") == "/a/b"
	paths.clean("/a/./b/.") == "/a/b"
	paths.clean("/a/../b") == "/b"
	paths.clean("/../a") == "/a"
	paths.clean("/a/b/../../..") == "/"
	paths.clean("/../../a/b/..") == "/a"
	paths.clean("/a/../../b/../c") == "/c"
	paths.clean("/tmp/x/../../var/run/docker.sock") == "/var/run/docker.sock"
	paths.clean("etc") == "/etc"
	paths.clean("a/b/../c") == "/a/c"
}

test_clean_gives_up_on_absurd_depth if {
	deep := concat("", [concat("", ["/a" | some _ in numbers.range(1, 70)]), "/tmp"])
	paths.clean(deep) == "/"
}

test_under if {
	paths.under("/home/a", "/home")
	paths.under("/home", "/home")
	not paths.under("/homer", "/home")
	paths.under("/anything", "/")
	not paths.under("/home", "/home/a")
}

test_has_dotdot if {
	paths.has_dotdot("/a/../b")
	paths.has_dotdot("..")
	not paths.has_dotdot("/a/..b/c")
}

test_api_version if {
	request.api_version == [1, 0] with input as {}
	request.api_version == [1, 44] with input as {"request": {"apiVersion": "1.44"}}
	request.api_version == [1, 44] with input as {"request": {"apiVersion": "v001.044"}}
	request.api_version == [1, 41] with input as {"request": {"apiVersion": "1.41.0"}}
	request.api_version == [1, 0] with input as {"request": {"apiVersion": "latest"}}
	request.api_at_least(1, 44) with input as {"request": {"apiVersion": "1.50"}}
	request.api_at_least(1, 44) with input as {"request": {"apiVersion": "2.0"}}
	not request.api_at_least(1, 44) with input as {"request": {"apiVersion": "1.43"}}
}

test_query_values if {
	request.query_values("a") == ["x", "y"] with input as {"request": {"query": {"a": ["x", "y", 3]}}}
	request.query_values("a") == ["x"] with input as {"request": {"query": {"a": "x"}}}
	request.query_values("a") == [] with input as {"request": {}}
}

test_input_defaults if {
	request.kind == "unknown" with input as {"kind": 7}
	request.object == {} with input as {"object": null}
	request.old_object == {} with input as {"oldObject": []}
	request.username == "" with input as {"userInfo": {"username": 1}}
}

test_int_text if {
	util.int_text(0) == "0"
	util.int_text(999999999) == "999999999"
	util.int_text(1000000000) == "1000000000"
	util.int_text(4294967296) == "4294967296"
	util.int_text(8000000001) == "8000000001"
}

test_list_text if {
	util.list_text([]) == "(none)"
	util.list_text(["a", "b"]) == "a, b"
}

test_truthy_falsy if {
	util.truthy("True")
	util.falsy("0")
	not util.truthy("yes")
}

test_parse_security_opt if {
	spec.parse_security_opt("no-new-privileges") == {"key": "no-new-privileges", "value": "true", "raw": "no-new-privileges"}
	spec.parse_security_opt("disable").key == "label"
	spec.parse_security_opt("seccomp=unconfined") == {"key": "seccomp", "value": "unconfined", "raw": "seccomp=unconfined"}
	spec.parse_security_opt("label:type:spc_t") == {"key": "label", "value": "type:spc_t", "raw": "label:type:spc_t"}
	spec.parse_security_opt("seccomp:{\"a\":1}=x").key == "seccomp:{\"a\":1}"
	spec.parse_security_opt("weird") == {"key": "weird", "value": "", "raw": "weird"}
}

test_cap_name if {
	spec.cap_name(" cap_sys_admin ") == "SYS_ADMIN"
	spec.cap_name("all") == "ALL"
}

test_parse_bind if {
	mounts.parse_bind("/a:/b:ro,z") == {"source": "/a", "target": "/b", "options": ["ro", "z"]}
	not mounts.parse_bind("/anonymous")
	mounts.host_bind("/a:/b").source == "/a"
	not mounts.host_bind("vol:/b")
	mounts.named_volume_bind("vol:/b").source == "vol"
}

test_local_device if {
	mounts.local_device({"type": "none", "o": "bind", "device": "/srv"}) == "/srv"
	mounts.local_device({"o": "rbind", "device": "rel"}) == "rel"
	mounts.local_device({"type": "ext4", "device": "/dev/sdb"}) == "/dev/sdb"
	not mounts.local_device({"type": "tmpfs", "device": "/etc"})
	not mounts.local_device({"type": "nfs", "o": "addr=1.2.3.4", "device": ":/export"})
	not mounts.local_device({})
}
