// Policy decisions within bounds: a budget of steps on the event loop, then a small pool of worker
// threads, each evaluation under a deadline. A policy that takes too long (or never finishes)
// costs its own request a denial and its worker a restart; other requests keep being judged by the
// other workers, and the proxy's event loop (every other connection) is held for a few
// milliseconds at most.
//
// A decision first runs on the event loop within a budget of `inlineSteps` steps (function calls
// and loop iterations of the policy module, counted by the module itself: policy/wasm-steps.ts).
// A typical create takes ~20 000 and is decided there, without the worker's round trip (two
// thread wake-ups: ~0.4 ms of a create on a busy host). A decision that runs out of steps is
// stopped after at most a few milliseconds and made again in a worker, under the deadline.
//
// Workers start when evaluations need them and stop after `idleMs` without work: each costs about
// 15 MB of memory, which an idle dockgate does not hold.
import { Worker } from 'node:worker_threads';
import type { Logger } from '../log/logger.js';
import type { PolicyInput } from '../policy/contract.js';
import { StepsExhausted, type PolicyEngine } from '../policy/engine.js';
import { PolicyError } from '../policy/policy-error.js';
import { decide, replayDecisions, type Admission } from './decide.js';
import type { FromWorker, ToWorker } from './decision-protocol.js';

export interface DecisionPoolOptions {
  /** Most worker threads at once (>= 1). */
  workers: number;
  /** How long one evaluation may run before it is stopped and the request denied. */
  deadlineMs: number;
  /** Steps a decision may take on the event loop before it goes to a worker; 0 (the default): none. */
  inlineSteps?: number;
  /** A worker without work for this long is stopped. */
  idleMs?: number;
  log: Logger;
  /** The worker's entry point; tests substitute a misbehaving one. */
  workerUrl?: URL;
  /** Counts stopped and handed-over evaluations (the metrics module implements it). */
  stats?: { evaluationStopped(reason: 'deadline' | 'crash'): void; evaluationHandedOver(): void };
}

/** Counters for /metrics and tests. */
export interface DecisionPoolStats {
  workers: number;
  busy: number;
  queued: number;
  deadlineExceeded: number;
  crashed: number;
  /** Decisions made on the event loop, and those that ran out of steps there and went to a worker. */
  inline: number;
  handedOver: number;
}

interface Task {
  id: number;
  generation: number;
  engine: PolicyEngine;
  input: PolicyInput;
  text: string;
  resolve: (a: Admission) => void;
  reject: (e: PolicyError) => void;
}

interface Slot {
  worker: Worker;
  /** The worker has loaded its code (said 'ready'); only then does it take evaluations. */
  ready: boolean;
  /** Generation of the policy this worker holds (0: none yet). */
  generation: number;
  task: Task | undefined;
  deadline: NodeJS.Timeout | undefined;
  idle: NodeJS.Timeout | undefined;
}

const DEFAULT_WORKER = new URL('./decision-worker.js', import.meta.url);

/** How long a worker without work is kept (DecisionPoolOptions.idleMs), by default. */
export const WORKER_IDLE_MS = 30_000;

export class DecisionPool {
  private readonly slots = new Set<Slot>();
  private readonly queue: Task[] = [];
  private readonly generations = new WeakMap<PolicyEngine, number>();
  private nextGeneration = 1;
  private nextId = 1;
  private closed = false;
  private deadlineExceeded = 0;
  private inline = 0;
  private handedOver = 0;
  private readonly stepless = new WeakSet<PolicyEngine>();
  private crashed = 0;
  private readonly idleMs: number;

  constructor(private readonly opts: DecisionPoolOptions) {
    if (!Number.isInteger(opts.workers) || opts.workers < 1) throw new Error(`policyWorkers must be a positive integer, got ${opts.workers}`);
    this.idleMs = opts.idleMs ?? WORKER_IDLE_MS;
  }

  get stats(): DecisionPoolStats {
    let busy = 0;
    for (const s of this.slots) if (s.task) busy++;
    return { workers: this.slots.size, busy, queued: this.queue.length, deadlineExceeded: this.deadlineExceeded, crashed: this.crashed, inline: this.inline, handedOver: this.handedOver };
  }

  /**
   * Decides `input` with `engine`'s policy in a worker, every mutation round under one deadline.
   * Rejects with PolicyError (deny) on any failure.
   */
  decide(engine: PolicyEngine, input: PolicyInput): Promise<Admission> {
    if (this.closed) return Promise.reject(new PolicyError('evaluate', 'dockgate is shutting down'));
    const text = JSON.stringify(input);
    const inline = this.decideInline(engine, input, text);
    if (inline) return inline;
    let generation = this.generations.get(engine);
    if (generation === undefined) {
      generation = this.nextGeneration++;
      this.generations.set(engine, generation);
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, generation: generation!, engine, input, text, resolve, reject });
      this.pump();
    });
  }

  /** The decision made on the event loop within the step budget, or undefined to make it in a worker. */
  private decideInline(engine: PolicyEngine, input: PolicyInput, text: string): Promise<Admission> | undefined {
    const steps = this.opts.inlineSteps ?? 0;
    // Reading the input alone takes the policy module more than a step per character of its JSON
    // text (1.4–2 for inputs of 10 KB and more, 5 for a typical create: the lexer's loop, then
    // strings and keys built): a longer text would run out of steps, and the attempt (the input
    // written and parsed, then the instance rebuilt) be wasted.
    if (steps === 0 || text.length > steps) return undefined;
    if (engine.stepless !== undefined) {
      if (!this.stepless.has(engine)) {
        this.stepless.add(engine);
        this.opts.log.warn({ revision: engine.revision, reason: engine.stepless }, 'the policy module could not be given a step counter; every decision is made in a worker');
      }
      return undefined;
    }
    try {
      // The first round judges the text already made; only a patch's round needs another.
      const first = { evaluate: (round: PolicyInput) => (round === input ? engine.evaluateSerialized(text) : engine.evaluate(round)) };
      const admission = engine.withinSteps(steps, () => decide(first, input));
      this.inline++;
      return Promise.resolve(admission);
    } catch (err) {
      if (!(err instanceof StepsExhausted)) return Promise.reject(err);
      this.handedOver++;
      this.opts.stats?.evaluationHandedOver();
      this.opts.log.debug({ steps, revision: engine.revision }, 'decision ran out of its steps on the event loop; made again in a worker');
      return undefined;
    }
  }

  /** Stops every worker; queued and running evaluations are denied. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.queue.splice(0)) t.reject(new PolicyError('evaluate', 'dockgate is shutting down'));
    await Promise.all([...this.slots].map((s) => this.retire(s, new PolicyError('evaluate', 'dockgate is shutting down'))));
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let slot: Slot | undefined;
      let starting = 0;
      for (const s of this.slots) {
        if (!s.ready) starting++;
        else if (!s.task && !slot) slot = s;
      }
      if (!slot) {
        // Start another worker unless enough are already starting for what waits.
        if (this.slots.size < this.opts.workers && starting < this.queue.length) this.spawn();
        return;
      }
      this.dispatch(slot, this.queue.shift()!);
    }
  }

  private dispatch(slot: Slot, task: Task): void {
    clearTimeout(slot.idle);
    slot.task = task;
    if (slot.generation !== task.generation) {
      this.post(slot, { type: 'policy', generation: task.generation, policy: task.engine.toPortable() });
      slot.generation = task.generation;
    }
    this.post(slot, { type: 'decide', id: task.id, generation: task.generation, input: task.text });
    slot.deadline = setTimeout(() => {
      this.deadlineExceeded++;
      this.opts.stats?.evaluationStopped('deadline');
      this.opts.log.error({ deadlineMs: this.opts.deadlineMs, revision: task.engine.revision }, 'policy evaluation overran its deadline; request denied, decision worker replaced');
      void this.retire(slot, new PolicyError('evaluate', `the policy did not decide within ${this.opts.deadlineMs} ms (policyDeadlineMs); the evaluation was stopped`));
      this.pump();
    }, this.opts.deadlineMs);
  }

  private post(slot: Slot, msg: ToWorker): void {
    slot.worker.postMessage(msg);
  }

  private spawn(): Slot {
    const worker = new Worker(this.opts.workerUrl ?? DEFAULT_WORKER);
    // Workers never keep dockgate alive on their own (shutdown closes the pool).
    worker.unref();
    const slot: Slot = { worker, ready: false, generation: 0, task: undefined, deadline: undefined, idle: undefined };
    this.slots.add(slot);
    worker.on('message', (msg: FromWorker) => this.onMessage(slot, msg));
    const crash = (why: string) => {
      if (!this.slots.has(slot)) return; // retired on purpose
      this.crashed++;
      this.opts.stats?.evaluationStopped('crash');
      this.opts.log.error({ err: why }, 'decision worker crashed; its request denied, worker replaced');
      void this.retire(slot, new PolicyError('evaluate', `the decision worker crashed (${why})`));
      if (!slot.ready) {
        // It died loading: starting another would die the same way. Deny what waits instead.
        for (const t of this.queue.splice(0)) t.reject(new PolicyError('evaluate', `the decision worker could not start (${why})`));
        return;
      }
      this.pump();
    };
    worker.on('error', (err) => crash(err.message));
    worker.on('exit', (code) => crash(`exit code ${code}`));
    return slot;
  }

  private onMessage(slot: Slot, msg: FromWorker): void {
    if (msg.type === 'ready') {
      slot.ready = true;
      this.pump();
      return;
    }
    const task = slot.task;
    if (!task || task.id !== msg.id) return;
    clearTimeout(slot.deadline);
    slot.task = undefined;
    if (msg.type === 'decided') {
      try {
        task.resolve(replayDecisions(task.input, msg.decisions));
      } catch (err) {
        task.reject(err instanceof PolicyError ? err : new PolicyError('result', (err as Error).message));
      }
    } else {
      task.reject(new PolicyError(msg.stage ?? 'evaluate', msg.message));
    }
    slot.idle = setTimeout(() => void this.retire(slot), this.idleMs);
    slot.idle.unref();
    this.pump();
  }

  /** Removes a worker from the pool and stops it; its evaluation in flight fails with `why`. */
  private async retire(slot: Slot, why?: PolicyError): Promise<void> {
    if (!this.slots.delete(slot)) return;
    clearTimeout(slot.deadline);
    clearTimeout(slot.idle);
    if (slot.task) slot.task.reject(why ?? new PolicyError('evaluate', 'the decision worker stopped'));
    slot.task = undefined;
    await slot.worker.terminate();
  }
}
