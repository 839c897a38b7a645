import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { canonicalizeBody, serializeJson } from '../docker/canonicalize.js';
import type { InspectedBodyKind } from '../docker/body-kinds.js';
import { canonicalTarget, classify, type ClassifiedRoute } from '../http/classify.js';
import { logDecision, type DecisionLine } from '../audit/decision-log.js';
import type { RolloutMode } from '../config/config.js';
import { parseQuery } from '../http/query.js';
import type { DecisionRecord } from '../decision-log/decision-logger.js';
import type { Logger } from '../log/logger.js';
import type { JsonValue, PolicyInput, PolicyUserInfo } from '../policy/contract.js';
import { PolicyError } from '../policy/policy-error.js';
import type { GateVerdict, RequestGate } from '../proxy/gate.js';
import { hasBody } from '../proxy/headers.js';
import { BodyError, readBody } from './body-reader.js';
import { decideMemoized } from './decision-memo.js';
import { denialMessage, type Admission, type AsyncDecide, type Evaluator } from './decide.js';
import { canLookUp, LookupError, lookUp, type InspectClient } from './lookup.js';
import { isObject, referencedVolumes } from './related.js';
import { FilterError } from './filters.js';
import { Ownership } from './ownership.js';
import { framingProblem, isEmptyBody } from './request-framing.js';
import { appendWarnings } from './warnings.js';

export interface AdmissionGateOptions {
  /** Where lookups ask (the daemon). */
  upstream: InspectClient;
  /** The policy in force; a function so a reload swaps it between requests. */
  evaluator: () => Evaluator;
  /** Who the caller is: fixed for the listener (unix), or per connection (the TLS client certificate). */
  identity: PolicyUserInfo | ConnectionIdentity;
  /** The listener's name, for decision lines of requests refused before an identity is known. */
  listenerName?: string;
  log: Logger;
  /** audit: a policy denial is logged and counted but the request is forwarded (rollout). */
  mode?: RolloutMode;
  /** Sees every decision line after it is logged (the metrics). */
  onDecision?: (line: DecisionLine) => void;
  /** The owner label's key, handed to the policy as input.ownerLabel (it stamps creates with it). */
  ownerLabel?: string;
  /**
   * Keep objects per owner (a tenant socket): the caller sees and acts on only objects carrying
   * its username in the owner label (`ownerLabel`, default dockgate.owner).
   */
  ownership?: boolean;
  /** Largest judged JSON body (the daemon's bodies are a few KiB). */
  bodyLimit?: number;
  bodyDeadlineMs?: number;
  /** Sees every evaluated decision (decision-log shipping); called synchronously. */
  decisionLog?: (record: DecisionRecord) => void;
  /**
   * Where an evaluator's decisions are made under a step budget and a deadline (the decision
   * pool), or undefined to evaluate in-process, unbounded (no policy loaded yet, `dockgate eval`,
   * policyWorkers: 0).
   */
  offload?: (evaluator: Evaluator) => AsyncDecide | undefined;
}

/** The identity of a connection (its TLS client certificate), or why it has none (refused). */
export type ConnectionIdentity = (socket: Socket) => { ok: true; userInfo: PolicyUserInfo } | { ok: false; message: string };

/** A request whose body is already complete, judged without a socket (`dockgate eval`). */
export interface SentRequest {
  method: string;
  /** Origin-form target as sent: `/v1.41/containers/create?name=x`. */
  url: string;
  headers: IncomingHttpHeaders;
  /** The whole body (null: none); not read on routes whose body is streamed, as in the proxy. */
  body: Buffer | null;
}

/** Sees the policy input and the admission of a judged request (eval prints them). */
export type AdmissionReport = (input: PolicyInput, admission: Admission) => void;

type RequestHead = Pick<IncomingMessage, 'method' | 'url' | 'headers'> & { socket?: Socket };
type BodySource = () => Buffer | null | Promise<Buffer | BodyError>;

function lineIdentity(u: PolicyUserInfo): DecisionLine['identity'] {
  return { listener: u.listener, username: u.username, groups: u.groups, ...(u.profile !== undefined ? { profile: u.profile } : {}) };
}
export const DEFAULT_OWNER_LABEL = 'dockgate.owner';

const refuse = (status: number, message: string): GateVerdict => ({ action: 'refuse', status, message });

// Operations whose target does not exist yet, or is not the kind's own object.
const NO_LOOKUP = new Set(['create', 'list', 'prune', 'pull', 'import', 'build', 'load', 'search']);

// Routes whose daemon answer carries a `Warnings` array the docker CLI prints.
const WARNING_RESPONSES = new Set(['container:create', 'service:create', 'service:update']);

/**
 * The admission pipeline of DESIGN.md: classify → canonicalize → lookup → admit. Every failure on
 * the way refuses the request (fail closed) with a message naming the cause.
 */
export class AdmissionGate implements RequestGate {
  readonly maxUpgradeBody: number;
  private readonly bodyLimit: number;
  private readonly bodyDeadlineMs: number;

  constructor(private readonly opts: AdmissionGateOptions) {
    this.bodyLimit = opts.bodyLimit ?? 1024 * 1024;
    this.bodyDeadlineMs = opts.bodyDeadlineMs ?? 30_000;
    this.maxUpgradeBody = this.bodyLimit;
  }

  admit(req: IncomingMessage): Promise<GateVerdict> {
    return this.judge(req, false, () => (hasBody(req) ? this.read(req) : null));
  }

  admitUpgrade(req: IncomingMessage, body: Buffer): Promise<GateVerdict> {
    return this.judge(req, true, () => body);
  }

  /** The same judgement as admit(), for a request given whole instead of read from a socket. */
  judgeSent(sent: SentRequest, report?: AdmissionReport): Promise<GateVerdict> {
    return this.judge(sent, false, () => sent.body, report);
  }

  /** `upgrade`: an upgrade request, whose body (`body()`) was read with its head. */
  private async judge(req: RequestHead, upgrade: boolean, body: BodySource, report?: AdmissionReport): Promise<GateVerdict> {
    const { identity } = this.opts;
    const record: DecisionLine = {
      decisionId: randomUUID(),
      identity:
        typeof identity === 'function'
          ? { listener: this.opts.listenerName ?? 'unknown', username: '', groups: [] }
          : lineIdentity(identity),
      method: req.method ?? 'GET',
      route: (req.url ?? '/').split('?')[0]!.slice(0, 256),
      kind: 'unknown',
      operation: 'unknown',
      allowed: false,
      result: 'refused',
      mode: this.opts.mode ?? 'enforce',
      violations: [],
      patch: [],
      warnings: [],
      latencyMs: 0,
    };
    const started = { at: performance.now() };
    const verdict = await this.judgeInto(record, started, req, upgrade, body, report);
    record.latencyMs = performance.now() - started.at;
    if (verdict.action === 'refuse') {
      record.allowed = false;
      if (record.result !== 'denied') {
        record.result = 'refused';
        record.status = verdict.status;
        record.reason = verdict.message;
      }
    } else {
      record.allowed = true;
    }
    logDecision(this.opts.log, record);
    this.opts.onDecision?.(record);
    return verdict;
  }

  /** The pipeline proper; fills in `record` as it learns (route, verdict, violations, patch). */
  private async judgeInto(
    record: DecisionLine,
    started: { at: number },
    req: RequestHead,
    upgrade: boolean,
    body: BodySource,
    report?: AdmissionReport,
  ): Promise<GateVerdict> {
    const method = record.method;
    const classified = classify(method, req.url ?? '/');
    if (!classified.ok) return refuse(classified.status, `dockgate: ${classified.message}`);
    let route = classified.route;
    record.route = route.path;
    record.kind = route.kind;
    record.operation = route.operation;
    if (route.target !== undefined) record.target = route.target;
    if (upgrade && !route.hijack) {
      return refuse(400, 'dockgate: Connection: Upgrade is only accepted on attach, exec start and BuildKit session routes');
    }
    // The identity is the connection's, never anything in the request.
    const who = this.identityOf(req);
    if (!who.ok) return refuse(403, who.message);
    const userInfo = who.userInfo;
    record.identity = lineIdentity(userInfo);
    const problem = framingProblem(req);
    if (problem) return refuse(problem.startsWith('Content-Encoding') ? 415 : 400, `dockgate: ${problem}`);

    // The body: judged and replaced, dropped when it says nothing, or streamed untouched.
    let object: JsonValue | undefined;
    let forwardBody: Buffer | null = null;
    const pending = upgrade || route.body !== 'stream' ? body() : null;
    // Only a body still to be read costs an await (the hot path has none on GETs).
    let sent;
    if (pending instanceof Promise) {
      sent = await pending;
      started.at = performance.now(); // the client's sending time is not decision latency
    } else {
      sent = pending;
    }
    if (sent instanceof Error) return refuse((sent as BodyError).status, `dockgate: ${sent.message}`);
    if (route.body === 'none') {
      if (sent && sent.length > 0 && !isEmptyBody(sent)) {
        return refuse(400, `dockgate: ${method} ${route.path} takes no request body`);
      }
      forwardBody = upgrade || sent ? Buffer.alloc(0) : null;
    } else if (route.body !== 'stream') {
      const result = canonicalizeBody(route.body as InspectedBodyKind, sent ?? Buffer.alloc(0), req.headers['content-type']);
      if (!result.ok) return refuse(result.status, `dockgate: ${result.message}`);
      object = result.value;
    }

    // On a tenant listener, the caller's objects are those carrying its username (per connection
    // on TLS listeners); a caller without a username could only own unlabelled objects: refused.
    let ownership: Ownership | undefined;
    if (this.opts.ownership) {
      if (userInfo.username === '') return refuse(403, 'dockgate: request refused: this listener keeps objects per owner and the caller has no username');
      ownership = new Ownership({ upstream: this.opts.upstream, label: this.opts.ownerLabel ?? DEFAULT_OWNER_LABEL, owner: userInfo.username });
      // Lists, prunes and events are scoped by the daemon itself: the owner label filter.
      let rawQuery: string | undefined;
      try {
        rawQuery = ownership.scopedQuery(route);
      } catch (err) {
        if (!(err instanceof FilterError)) throw err;
        return refuse(400, `dockgate: ${err.message}`);
      }
      if (rawQuery !== undefined) {
        const reparsed = parseQuery(rawQuery);
        if (!reparsed.ok) return refuse(500, `dockgate: request refused: the scoped query does not parse (${reparsed.message})`);
        route = { ...route, rawQuery, query: reparsed.query };
      }
    }

    const input: PolicyInput = {
      uid: record.decisionId,
      kind: route.kind,
      operation: route.operation,
      ...(route.target !== undefined ? { target: route.target } : {}),
      request: {
        method,
        path: route.path,
        ...(route.apiVersion !== null ? { apiVersion: route.apiVersion } : {}),
        query: route.query,
      },
      ...(object !== undefined ? { object } : {}),
      userInfo,
      ...(this.opts.ownerLabel !== undefined ? { ownerLabel: this.opts.ownerLabel } : {}),
      dryRun: false,
    };

    try {
      await this.addLookups(input, route, object);
      const refusal = ownership ? await ownership.check(route, input, object) : null;
      if (refusal) {
        // The decision line records the refusal; this says that ownership (not the daemon) answered.
        this.opts.log.debug({ decision: input.uid, status: refusal.status }, 'refused by ownership');
        return refuse(refusal.status, refusal.message);
      }
    } catch (err) {
      if (!(err instanceof LookupError)) throw err;
      this.opts.log.warn({ decision: input.uid, err: err.message }, 'lookup failed; request denied');
      return refuse(502, `dockgate: request refused: ${err.message}`);
    }

    // Forward to the object that was judged: the caller's reference (a name or an ID prefix) could
    // come to mean another object between the lookup and the daemon's own resolution.
    route = pinTarget(route, input.oldObject);

    let admission;
    // One evaluator for the whole decision: a policy reload in between does not mix policies.
    const evaluator = this.opts.evaluator();
    const path = evaluator.entrypoint;
    try {
      const decided = decideMemoized(evaluator, input, this.opts.offload?.(evaluator));
      admission = decided instanceof Promise ? await decided : decided;
    } catch (err) {
      const message = err instanceof PolicyError ? err.message : `unexpected error: ${(err as Error).message}`;
      this.opts.log.error({ decision: input.uid, kind: route.kind, operation: route.operation, err: message }, 'policy evaluation failed; request denied');
      this.opts.decisionLog?.({ input, error: message, path, revision: evaluator.revision });
      return refuse(500, `dockgate: request refused: the policy could not be evaluated (${message})`);
    }
    record.violations = admission.violations;
    record.patch = admission.patches;
    record.warnings = admission.warnings;
    if (admission.revision !== undefined) record.revision = admission.revision;
    this.opts.decisionLog?.({ input, admission, path, revision: admission.revision });
    report?.(input, admission);
    if (!admission.allowed) {
      // Audit mode (rollout): the would-be denial is logged and counted, the request goes on.
      record.result = record.mode === 'audit' ? 'audited' : 'denied';
      if (record.mode !== 'audit') return refuse(403, denialMessage(admission.violations));
    } else {
      record.result = 'allowed';
    }

    const unstamped = ownership?.stampProblem(route, admission.object);
    if (unstamped) {
      this.opts.log.error({ decision: input.uid, kind: route.kind }, 'owner label missing after policy; request denied');
      return refuse(500, unstamped);
    }

    if (object !== undefined) forwardBody = Buffer.from(serializeJson(admission.object as JsonValue));
    const verdict: GateVerdict = { action: 'forward', target: canonicalTarget(route), body: forwardBody };
    const filter = ownership?.responseFilter(route);
    if (filter) verdict.rewrite = filter;
    const streamFilter = ownership?.streamFilter(route);
    if (streamFilter) verdict.streamFilter = streamFilter;
    // The client hears what audit mode let through, where it can (the create Warnings the CLI prints).
    const clientWarnings = record.result === 'audited' ? [...admission.warnings, `audit mode, would be denied: ${denialMessage(admission.violations).replace(/^dockgate: /, '')}`] : admission.warnings;
    if (clientWarnings.length > 0 && WARNING_RESPONSES.has(`${route.kind}:${route.operation}`)) {
      const warnings = clientWarnings.map((w) => (w.startsWith('dockgate:') ? w : `dockgate: ${w}`));
      verdict.rewrite = (status, body) => (status >= 200 && status < 300 ? appendWarnings(body, warnings) : body);
    }
    return verdict;
  }

  private identityOf(req: RequestHead): ReturnType<ConnectionIdentity> {
    const { identity } = this.opts;
    if (typeof identity !== 'function') return { ok: true, userInfo: identity };
    return req.socket ? identity(req.socket) : { ok: false, message: 'dockgate: request refused: no connection to take an identity from' };
  }

  private async read(req: IncomingMessage): Promise<Buffer | BodyError> {
    try {
      return await readBody(req, this.bodyLimit, this.bodyDeadlineMs);
    } catch (err) {
      if (err instanceof BodyError) return err;
      throw err;
    }
  }

  /** oldObject for operations on an existing object; named volumes a create refers to. */
  private async addLookups(input: PolicyInput, route: ClassifiedRoute, object: JsonValue | undefined): Promise<void> {
    const { upstream } = this.opts;
    if (route.target !== undefined && !NO_LOOKUP.has(route.operation) && canLookUp(route.kind)) {
      const old = await lookUp(upstream, route.kind, route.target, route.apiVersion);
      if (old !== null) input.oldObject = old as JsonValue;
    }
    if (route.kind === 'container' && route.operation === 'create') {
      const names = referencedVolumes(object);
      if (names.length > 0) {
        const volumes: Record<string, JsonValue> = {};
        await Promise.all(
          names.map(async (name) => {
            volumes[name] = (await lookUp(upstream, 'volume', name, route.apiVersion)) as JsonValue;
          }),
        );
        input.volumes = volumes;
      }
    }
  }
}

// Where a kind's path holds the object's reference, and the inspect field with its full ID.
const PINNED_KINDS: Record<string, { section: string; idField: string }> = {
  container: { section: 'containers', idField: 'Id' },
  network: { section: 'networks', idField: 'Id' },
  exec: { section: 'exec', idField: 'ID' },
};

/** The route with its target reference replaced by the looked-up object's full ID. */
export function pinTarget(route: ClassifiedRoute, old: JsonValue | undefined): ClassifiedRoute {
  const pin = PINNED_KINDS[route.kind];
  if (!pin || route.target === undefined || !isObject(old)) return route;
  const id = old[pin.idField];
  if (typeof id !== 'string' || !/^[0-9a-f]{64}$/.test(id) || id === route.target) return route;
  const parts = route.path.split('/');
  if (parts[1] !== pin.section || parts[2] !== route.target) return route;
  parts[2] = id;
  return { ...route, path: parts.join('/') };
}
