# Networks (POST /networks/create):
#   network-driver   Driver only from parameters.allowedNetworkDrivers: macvlan/ipvlan put
#                    containers on the host's own network segment, past its firewall
#   network-options  no Options from parameters.deniedNetworkOptions (e.g. taking over an
#                    existing host bridge with com.docker.network.bridge.name), no swarm ingress
package dockgate.rules.networks

import data.dockgate.core.config
import data.dockgate.core.request
import data.dockgate.core.util

violation contains {"rule": "network-driver", "message": msg} if {
	request.network_create
	driver := util.str(object.get(request.object, "Driver", ""))
	not lower(driver) in {lower(d) | some d in config.list_param("allowedNetworkDrivers")}
	msg := concat("", [
		"network driver '", driver, "' is not allowed; allowed drivers: ",
		util.list_text([d | some d in config.list_param("allowedNetworkDrivers"); d != ""]),
	])
}

violation contains {"rule": "network-options", "message": msg} if {
	request.network_create
	some key, _ in util.obj(object.get(request.object, "Options", null))
	lower(key) in {lower(d) | some d in config.list_param("deniedNetworkOptions")}
	msg := concat("", ["network option ", key, " is not allowed; remove it"])
}

violation contains {"rule": "network-options", "message": msg} if {
	request.network_create
	request.object.Ingress == true
	msg := "creating a swarm ingress network is not allowed"
}
