# PSS baseline "privileged": no --privileged containers, no privileged exec sessions.
package dockgate.rules.privileged

import data.dockgate.core.request
import data.dockgate.core.spec

violation contains {"rule": "privileged", "message": msg} if {
	request.container_create
	spec.host_config.Privileged == true
	msg := "--privileged is not allowed; drop it or ask for the 'privileged' profile"
}

violation contains {"rule": "privileged", "message": msg} if {
	request.exec_create
	request.object.Privileged == true
	msg := "docker exec --privileged is not allowed; drop --privileged or ask for the 'privileged' profile"
}
