// Request bodies and policy inputs the benchmark sends.
import type { PolicyInput } from '../src/policy/contract.js';

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/**
 * A typical container create: the body the docker CLI (28.x, API 1.41) sends for
 * `docker run -d -e MODE=bench -l app=bench --memory 256m --restart on-failure:3 IMAGE sleep 3600`,
 * every field as the CLI spells it (about 1.8 KB). Nothing in it is denied by the shipped profiles.
 */
export function typicalCreateBody(image: string): Record<string, Json> {
  return {
    Hostname: '',
    Domainname: '',
    User: '',
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: ['MODE=bench', 'PATH=/bin'],
    Cmd: ['sleep', '3600'],
    Image: image,
    Volumes: {},
    WorkingDir: '',
    Entrypoint: null,
    OnBuild: null,
    Labels: { app: 'bench', 'com.example.team': 'platform' },
    HostConfig: {
      Binds: null,
      ContainerIDFile: '',
      LogConfig: { Type: '', Config: {} },
      NetworkMode: 'default',
      PortBindings: {},
      RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 },
      AutoRemove: false,
      VolumeDriver: '',
      VolumesFrom: null,
      ConsoleSize: [0, 0],
      CapAdd: null,
      CapDrop: null,
      CgroupnsMode: '',
      Dns: [],
      DnsOptions: [],
      DnsSearch: [],
      ExtraHosts: null,
      GroupAdd: null,
      IpcMode: '',
      Cgroup: '',
      Links: null,
      OomScoreAdj: 0,
      PidMode: '',
      Privileged: false,
      PublishAllPorts: false,
      ReadonlyRootfs: false,
      SecurityOpt: null,
      UTSMode: '',
      UsernsMode: '',
      ShmSize: 0,
      Isolation: '',
      CpuShares: 0,
      Memory: 268435456,
      NanoCpus: 0,
      CgroupParent: '',
      BlkioWeight: 0,
      BlkioWeightDevice: [],
      BlkioDeviceReadBps: [],
      BlkioDeviceWriteBps: [],
      BlkioDeviceReadIOps: [],
      BlkioDeviceWriteIOps: [],
      CpuPeriod: 0,
      CpuQuota: 0,
      CpuRealtimePeriod: 0,
      CpuRealtimeRuntime: 0,
      CpusetCpus: '',
      CpusetMems: '',
      Devices: [],
      DeviceCgroupRules: null,
      DeviceRequests: null,
      MemoryReservation: 0,
      MemorySwap: 536870912,
      MemorySwappiness: null,
      OomKillDisable: false,
      PidsLimit: null,
      Ulimits: [],
      CpuCount: 0,
      CpuPercent: 0,
      IOMaximumIOps: 0,
      IOMaximumBandwidth: 0,
      MaskedPaths: null,
      ReadonlyPaths: null,
    },
    NetworkingConfig: { EndpointsConfig: {} },
  };
}

/** The same create with --privileged: the policy must deny it (checked before measuring). */
export function privilegedCreateBody(image: string): Record<string, Json> {
  const body = typicalCreateBody(image);
  (body.HostConfig as Record<string, Json>).Privileged = true;
  return body;
}

/**
 * A create body of about `bytes` bytes (within a few bytes): a short create padded with labels,
 * the way large compose/CI label sets grow a body.
 */
export function paddedCreateBody(image: string, bytes: number): string {
  const base = { Image: image, Cmd: ['sleep', '3600'], HostConfig: { Memory: 268435456 }, Labels: {} as Record<string, string> };
  const baseLength = JSON.stringify(base).length;
  const value = 'v'.repeat(100);
  // `"bench.pad.000000":"<value>",` is 8 + 10 + 6 + 100 + 2 = 126 bytes (the first has no comma).
  const entry = 126;
  const count = Math.max(0, Math.floor((bytes - baseLength) / entry) - 1);
  for (let i = 0; i < count; i++) base.Labels[`bench.pad.${String(i).padStart(6, '0')}`] = value;
  const short = bytes - JSON.stringify(base).length - 26; // room for the last `,"bench.pad.last":""`
  if (short > 0) base.Labels['bench.pad.last'] = 'v'.repeat(short);
  return JSON.stringify(base);
}

/** The admission input dockgate builds for a container create (shape of src/admission/gate.ts). */
export function createInput(object: unknown): PolicyInput {
  return {
    uid: '6f1c1f0e-4a52-4c43-9d0b-7d2b43c2a001',
    kind: 'container',
    operation: 'create',
    request: { method: 'POST', path: '/containers/create', apiVersion: '1.41', query: {} },
    object: object as PolicyInput['object'],
    userInfo: { username: 'bench', groups: ['bench'], listener: 'default', authenticatedBy: 'unix' },
    dryRun: false,
  };
}
