// The policy contract (DESIGN.md "The policy contract"): what dockgate hands the compiled Rego
// entrypoint, and what it must answer. These types are the boundary between the proxy and any
// policy bundle; src/policy/result.ts checks every answer against them before it is used.

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** The HTTP request as classified (path decoded once, version prefix split off). */
export interface PolicyRequestInfo {
  method: string;
  path: string;
  /** From the `/vX.Y` prefix; absent when the client sent none (dockerd then uses its own). */
  apiVersion?: string;
  query: Record<string, string[]>;
}

/** Who is calling, from the listener (never from a header the client can set). */
export interface PolicyUserInfo {
  username: string;
  groups: string[];
  listener: string;
  authenticatedBy: string;
  /** The listener's profile (baseline, restricted, ci, …); absent = the policy's default. */
  profile?: string;
}

export interface PolicyInput {
  /** Decision id, also written to the audit log. */
  uid: string;
  /** container, exec, image, volume, network, build, service, plugin, swarm, system, session, unknown, … */
  kind: string;
  /** create, start, exec, attach, update, delete, archive.put, list, inspect, pull, … */
  operation: string;
  /** Id or name from the path, if any. */
  target?: string;
  request: PolicyRequestInfo;
  /** The canonical body (Engine API field names), if the route has one. */
  object?: JsonValue;
  /** Upstream state of the target, for operations on existing objects. */
  oldObject?: JsonValue;
  userInfo: PolicyUserInfo;
  dryRun: boolean;
  /**
   * dockgate extension (not in DESIGN.md's example): the named volumes a container create
   * mounts, as the daemon has them (null = not found), keyed by name.
   */
  volumes?: Record<string, JsonValue>;
  /**
   * dockgate extension: the containers a create shares volumes or namespaces with
   * (`VolumesFrom`, `container:<ref>`), as the daemon has them, keyed by the reference as written.
   * Filled on ownership listeners, where only the caller's own containers get this far.
   */
  containers?: Record<string, JsonValue>;
  /** dockgate extension: the owner label's key (config `ownerLabel`); the policy stamps it. */
  ownerLabel?: string;
}

export const ENFORCEMENT_ACTIONS = ['deny', 'warn', 'audit'] as const;
export type EnforcementAction = (typeof ENFORCEMENT_ACTIONS)[number];

export interface PolicyViolation {
  /** Rule id, e.g. "no-privileged"; named in the denial message and the audit log. */
  rule: string;
  /** What is wrong and what to change, for the person running `docker ...`. */
  message: string;
  action: EnforcementAction;
}

/** One RFC 6902 operation; paths are RFC 6901 JSON Pointers into `input.object`. */
export type JsonPatchOperation =
  | { op: 'add'; path: string; value: JsonValue }
  | { op: 'remove'; path: string }
  | { op: 'replace'; path: string; value: JsonValue }
  | { op: 'move'; from: string; path: string }
  | { op: 'copy'; from: string; path: string }
  | { op: 'test'; path: string; value: JsonValue };

export type JsonPatch = JsonPatchOperation[];

/** The entrypoint's value. `violations`, `patch` and `warnings` may be omitted (= empty). */
export interface PolicyResult {
  allowed: boolean;
  violations: PolicyViolation[];
  patch: JsonPatch;
  warnings: string[];
}

/** A checked PolicyResult plus the bundle revision that produced it (for the audit log). */
export interface PolicyDecision extends PolicyResult {
  revision: string | undefined;
}
