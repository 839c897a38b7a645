package dockgate.rules.sysctls_test

import data.dockgate.testing as t

test_safe_sysctls_allowed if {
	hc := {"Sysctls": {"net.ipv4.ip_unprivileged_port_start": "0", "kernel.shm_rmid_forced": "1", "net/ipv4/tcp_syncookies": "1"}}
	t.clean(t.decide(t.container(t.cli_run(hc)), "baseline"))
}

test_unsafe_sysctls_denied if {
	every name in ["kernel.core_pattern", "net.ipv4.ip_forward", "kernel/core_pattern", "KERNEL.SHMMAX", "fs.mqueue.msg_max"] {
		t.denied_by(t.decide(t.container_hc({"Sysctls": {name: "1"}}), "baseline"), "sysctls")
	}
}

test_allowlist_from_config if {
	cfg := {"parameters": {"allowedSysctls": ["net.ipv4.ip_forward"]}}
	d := t.decide(t.container_hc({"Sysctls": {"net.ipv4.ip_forward": "1"}}), "baseline") with data.dockgate.config as cfg
	t.clean(d)
}

test_service_sysctls if {
	t.denied_by(t.decide(t.service({"Image": "x", "Sysctls": {"kernel.core_pattern": "|/x"}}), "baseline"), "sysctls")
	t.clean(t.decide(t.service({"Image": "x", "Sysctls": {"net.ipv4.tcp_fin_timeout": "10"}}), "baseline"))
}
