# Every rule id dockgate's library knows, with its title. Ids are stable: profiles, config
# overrides, audit logs and clients' scripts refer to them.
package dockgate.core.catalog

titles := {
	# request routing and configuration
	"unknown-route": "Unknown API routes",
	"profile-invalid": "Profile configuration",
	# PSS baseline
	"privileged": "Privileged containers",
	"host-namespaces": "Host namespaces",
	"capabilities": "Added capabilities",
	"host-path-denied": "Protected host paths",
	"host-path-traversal": "Host paths with '..'",
	"host-path-allowlist": "Allowed host paths",
	"host-path-options": "Host mount options",
	"host-path-readonly": "Read-only host mounts",
	"volumes-from": "Volumes from other containers",
	"devices": "Host devices",
	"host-ports": "Published host ports",
	"apparmor": "AppArmor",
	"selinux": "SELinux",
	"proc-mount": "/proc and /sys masking",
	"seccomp": "Seccomp",
	"sysctls": "Sysctls",
	# PSS restricted
	"host-binds": "No host paths",
	"no-new-privileges": "No new privileges",
	"capabilities-drop-all": "Drop all capabilities",
	"run-as-non-root": "Non-root user",
	"volume-driver": "Volume drivers",
	# Docker-only
	"runtime": "Container runtimes",
	"cgroup-parent": "Cgroup parent",
	"oom-kill-disable": "OOM killer protections",
	"readonly-rootfs": "Read-only root filesystem",
	"resource-defaults": "Default resource limits",
	"owner-label": "Owner label",
	"image-registry": "Image registries",
	"image-digest": "Image digests",
	"image-import-url": "Image imports from URLs",
	"volume-options": "Local volume options",
	"network-driver": "Network drivers",
	"network-options": "Network options",
	"build-remote": "Remote build contexts",
	"build-extrahosts": "Build extra hosts",
	"buildkit-session": "BuildKit sessions",
	"plugins": "Plugins",
	"swarm": "Swarm membership",
	"container-ownership": "Container ownership",
}

title(rule) := titles[rule] if titles[rule]

title(rule) := rule if not titles[rule]
