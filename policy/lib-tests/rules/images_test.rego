package dockgate.rules.images_test

import data.dockgate.rules.images
import data.dockgate.testing as t

test_repository_normalization if {
	images.repository("alpine") == "docker.io/library/alpine"
	images.repository("alpine:3.20") == "docker.io/library/alpine"
	images.repository("library/alpine@sha256:abc") == "docker.io/library/alpine"
	images.repository("myorg/app:1") == "docker.io/myorg/app"
	images.repository("index.docker.io/myorg/app") == "docker.io/myorg/app"
	images.repository("GHCR.io/Org/App:v1") == "ghcr.io/org/app"
	images.repository("localhost:5000/app:1") == "localhost:5000/app"
	images.repository("localhost/app") == "localhost/app"
	images.repository("registry.example.com:443/a/b/c:tag") == "registry.example.com:443/a/b/c"
}

test_ci_registry_allowlist if {
	t.clean(t.decide(t.container(t.cli_run({})), "ci"))
	every img in ["evil.example.com/x", "localhost:5000/app", "ghcr.io.evil.com/x"] {
		d := t.decide(t.container(object.union(t.cli_run_body, {"Image": img})), "ci")
		t.denied_by(d, "image-registry")
	}
	t.clean(t.decide(t.container(object.union(t.cli_run_body, {"Image": "ghcr.io/org/tool:1"})), "ci"))
}

test_registry_repository_prefix if {
	cfg := {"parameters": {"allowedRegistries": ["ghcr.io/my-org/"]}}
	t.clean(t.decide(t.container({"Image": "ghcr.io/my-org/app", "HostConfig": {}}), "ci")) with data.dockgate.config as cfg
	t.denied_by(t.decide(t.container({"Image": "ghcr.io/my-org-evil/app", "HostConfig": {}}), "ci"), "image-registry") with data.dockgate.config as cfg
}

test_local_image_ids_pass if {
	id := "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	t.clean(t.decide(t.container({"Image": id, "HostConfig": {}}), "ci"))
}

test_baseline_allows_any_registry if {
	inp := t.container(object.union(t.cli_run_body, {"Image": "evil.example.com/x"}))
	t.clean(t.decide(inp, "baseline"))

	# Also with the rule switched on: baseline's allowedRegistries is ["*"].
	t.clean(t.decide(inp, "baseline")) with data.dockgate.config as {"rules": {"image-registry": "deny"}}
}

_pull(q) := t.with_query(t.request("image", "pull", null), q)

test_pulls_checked if {
	t.denied_by(t.decide(_pull({"fromImage": ["evil.example.com/x"], "tag": ["latest"]}), "ci"), "image-registry")
	t.clean(t.decide(_pull({"fromImage": ["alpine"], "tag": ["3.20"]}), "ci"))
	d := t.decide(_pull({"fromImage": ["alpine"], "tag": ["sha256:abc"]}), "ci") with data.dockgate.config as {"rules": {"image-digest": "deny"}}
	t.clean(d)
}

test_services_checked if {
	t.denied_by(t.decide(t.service({"Image": "evil.example.com/x"}), "ci"), "image-registry")
}

test_digest_pinning_when_enabled if {
	cfg := {"rules": {"image-digest": "deny"}}
	t.denied_by(t.decide(t.container({"Image": "alpine:3.20", "HostConfig": {}}), "baseline"), "image-digest") with data.dockgate.config as cfg
	t.clean(t.decide(t.container({"Image": "alpine@sha256:0123", "HostConfig": {}}), "baseline")) with data.dockgate.config as cfg
}

_imp(src) := t.with_query(t.request("image", "create", null), {"fromSrc": [src], "repo": ["x"]})

test_import_from_url_denied if {
	t.denied_by(t.decide(_imp("http://169.254.169.254/latest"), "baseline"), "image-import-url")
	t.clean(t.decide(_imp("-"), "baseline"))
}
