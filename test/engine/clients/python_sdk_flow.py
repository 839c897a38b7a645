"""The Python Docker SDK (docker-py) driving a container's life cycle through dockgate.

Reads DOCKER_HOST and TEST_IMAGE from the environment, performs the calls, and prints what it
observed as one JSON object on stdout; the engine test (python-sdk.test.ts) judges it. Any
exception ends the script with a traceback and a non-zero exit.
"""
import base64
import json
import os
import sys

import docker
import docker.errors


def b64(data):
    return base64.b64encode(data).decode("ascii")


def main():
    image = os.environ["TEST_IMAGE"]
    label = {"dockgate.test": "1"}
    client = docker.DockerClient(base_url=os.environ["DOCKER_HOST"], version="auto", timeout=60)
    seen = {"ping": client.ping(), "api_version": client.version()["ApiVersion"]}

    # Low-level life cycle: create, start, wait, logs, inspect, remove.
    container = client.containers.create(
        image,
        command=["sh", "-c", "echo py-out-$((6*7)); echo py-err-$((6*8)) >&2; exit 3"],
        network_disabled=True,
        labels=label,
    )
    container.start()
    seen["wait"] = container.wait(timeout=60)
    seen["stdout"] = b64(container.logs(stdout=True, stderr=False))
    seen["stderr"] = b64(container.logs(stdout=False, stderr=True))
    container.reload()
    seen["network_disabled"] = container.attrs["Config"].get("NetworkDisabled", False)
    seen["status"] = container.status
    container.remove()
    try:
        client.containers.get(container.id)
        seen["gone"] = False
    except docker.errors.NotFound:
        seen["gone"] = True

    # High-level run: create + start + wait + logs + remove in one call.
    seen["run_output"] = b64(
        client.containers.run(
            image,
            ["sh", "-c", "echo py-run-$((6*7))"],
            remove=True,
            network_disabled=True,
            labels=label,
        )
    )

    # An error from the daemon comes back as an APIError carrying the daemon's message.
    try:
        client.containers.get("dockgate-test-no-such-container")
        seen["not_found"] = None
    except docker.errors.NotFound as e:
        seen["not_found"] = {"status": e.status_code, "explanation": e.explanation}

    json.dump(seen, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
