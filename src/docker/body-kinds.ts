// The JSON request bodies dockgate reads, judges and re-serializes (DESIGN.md "canonicalize").
// Each names one Engine API schema; the route table says which one a route carries, and the
// canonicalizer decodes it with dockerd's (Go encoding/json) semantics onto that schema.
export const INSPECTED_BODY_KINDS = [
  'containerCreate', // POST /containers/create: ContainerConfig + HostConfig + NetworkingConfig
  'containerUpdate', // POST /containers/{id}/update: Resources + RestartPolicy
  'containerCommit', // POST /commit: ContainerConfig
  'execCreate', // POST /containers/{id}/exec: ExecConfig
  'execStart', // POST /exec/{id}/start: ExecStartConfig
  'volumeCreate', // POST /volumes/create: VolumeCreateOptions
  'volumeUpdate', // PUT /volumes/{name}: ClusterVolumeSpec wrapper
  'networkCreate', // POST /networks/create: NetworkCreateRequest
  'networkConnect', // POST /networks/{id}/connect
  'networkDisconnect', // POST /networks/{id}/disconnect
  'serviceCreate', // POST /services/create: ServiceSpec
  'serviceUpdate', // POST /services/{id}/update: ServiceSpec
  'secretCreate', // POST /secrets/create: SecretSpec
  'secretUpdate', // POST /secrets/{id}/update: SecretSpec
  'configCreate', // POST /configs/create: ConfigSpec
  'configUpdate', // POST /configs/{id}/update: ConfigSpec
  'nodeUpdate', // POST /nodes/{id}/update: NodeSpec
  'swarmInit', // POST /swarm/init
  'swarmJoin', // POST /swarm/join
  'swarmUpdate', // POST /swarm/update: SwarmSpec
  'swarmUnlock', // POST /swarm/unlock
  'pluginPrivileges', // POST /plugins/pull, /plugins/{name}/upgrade: array of PluginPrivilege
  'pluginSet', // POST /plugins/{name}/set: array of "key=value" strings
] as const;

export type InspectedBodyKind = (typeof INSPECTED_BODY_KINDS)[number];

// What a route's request body is: nothing (a body there is refused), a stream forwarded untouched
// (tar contexts and archives, image loads, hijacked sessions, credentials for /auth), or one of the
// inspected JSON bodies above.
export type RouteBody = 'none' | 'stream' | InspectedBodyKind;
