// Policy inputs as dockgate builds them (DESIGN.md "The policy contract"), for engine tests.
import type { JsonObject, PolicyInput } from '../../../src/policy/contract.js';

const userInfo = { username: 'ci', groups: ['ci', 'deploy'], listener: 'ci', authenticatedBy: 'unix' };

/**
 * A typical `docker run -d --name web -p 8080:80 -v data:/data -e ... nginx:1.25` create body as the
 * docker CLI sends it (every HostConfig field present): about 2 KB of input.
 */
export function containerCreateBody(overrides: { HostConfig?: JsonObject } & JsonObject = {}): JsonObject {
  const { HostConfig: hostConfig = {}, ...top } = overrides;
  return {
    Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false,
    ExposedPorts: { '80/tcp': {} }, Tty: false, OpenStdin: false, StdinOnce: false,
    Env: ['FOO=bar', 'LOG_LEVEL=info', 'TZ=UTC'], Cmd: null, Image: 'nginx:1.25', Volumes: null,
    WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: { 'com.example.team': 'web' },
    HostConfig: {
      Binds: ['data:/data'], ContainerIDFile: '', LogConfig: { Type: '', Config: {} }, NetworkMode: 'bridge',
      PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }] }, RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
      AutoRemove: false, VolumeDriver: '', VolumesFrom: null, ConsoleSize: [50, 200], CapAdd: null, CapDrop: null,
      CgroupnsMode: '', Dns: [], DnsOptions: [], DnsSearch: [], ExtraHosts: null, GroupAdd: null, IpcMode: '',
      Cgroup: '', Links: null, OomScoreAdj: 0, PidMode: '', Privileged: false, PublishAllPorts: false,
      ReadonlyRootfs: false, SecurityOpt: null, UTSMode: '', UsernsMode: '', ShmSize: 0, Isolation: '',
      CpuShares: 0, Memory: 0, NanoCpus: 0, CgroupParent: '', BlkioWeight: 0, BlkioWeightDevice: [],
      BlkioDeviceReadBps: [], BlkioDeviceWriteBps: [], BlkioDeviceReadIOps: [], BlkioDeviceWriteIOps: [],
      CpuPeriod: 0, CpuQuota: 0, CpuRealtimePeriod: 0, CpuRealtimeRuntime: 0, CpusetCpus: '', CpusetMems: '',
      Devices: [], DeviceCgroupRules: null, DeviceRequests: null, MemoryReservation: 0, MemorySwap: 0,
      MemorySwappiness: null, OomKillDisable: false, PidsLimit: null, Ulimits: [], CpuCount: 0, CpuPercent: 0,
      IOMaximumIOps: 0, IOMaximumBandwidth: 0, MaskedPaths: null, ReadonlyPaths: null, Mounts: null,
      ...hostConfig,
    },
    NetworkingConfig: { EndpointsConfig: { bridge: { Aliases: null, NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', MacAddress: '' } } },
    ...top,
  };
}

export function policyInput(kind: string, operation: string, object?: JsonObject, target?: string): PolicyInput {
  const path = operation === 'exec' ? `/containers/${target ?? 'web'}/exec` : `/${kind}s/create`;
  return {
    uid: '0193a7c2-5b1e-7000-8000-000000000001',
    kind,
    operation,
    ...(target === undefined ? {} : { target }),
    request: { method: 'POST', path, apiVersion: '1.41', query: kind === 'container' && operation === 'create' ? { name: ['web'] } : {} },
    ...(object === undefined ? {} : { object }),
    userInfo,
    dryRun: false,
  };
}

export function containerCreate(overrides: { HostConfig?: JsonObject } & JsonObject = {}): PolicyInput {
  return policyInput('container', 'create', containerCreateBody(overrides));
}
