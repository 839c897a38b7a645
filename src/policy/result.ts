// Strict checking of what a policy entrypoint returned. The proxy acts on the result (forwards,
// mutates, warns), so anything that is not exactly the contract is an error and the request is
// denied: a typo like "patches" or "action": "block" must not silently weaken a policy.
import {
  ENFORCEMENT_ACTIONS,
  type EnforcementAction,
  type JsonPatchOperation,
  type JsonValue,
  type PolicyResult,
  type PolicyViolation,
} from './contract.js';
import { PolicyError } from './policy-error.js';

// `profile` (which profile decided) is informational: logged, not acted on.
const RESULT_KEYS = new Set(['allowed', 'violations', 'patch', 'warnings', 'profile']);
const VIOLATION_KEYS = new Set(['rule', 'title', 'message', 'action']);
const ACTIONS: ReadonlySet<string> = new Set(ENFORCEMENT_ACTIONS);

// Keys each patch op must carry, besides "op" (RFC 6902 section 4). Nothing else is accepted.
const PATCH_OP_KEYS: Record<JsonPatchOperation['op'], readonly string[]> = {
  add: ['path', 'value'],
  remove: ['path'],
  replace: ['path', 'value'],
  move: ['from', 'path'],
  copy: ['from', 'path'],
  test: ['path', 'value'],
};

// RFC 6901: "" or a sequence of "/"-prefixed tokens in which "~" only appears as "~0" or "~1".
const JSON_POINTER = /^(?:\/(?:[^~/]|~[01])*)*$/;

function fail(message: string): never {
  throw new PolicyError('result', `policy result: ${message}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

function rejectUnknownKeys(obj: Record<string, unknown>, allowed: ReadonlySet<string>, where: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.has(key)) fail(`${where} has unknown field ${JSON.stringify(key)} (allowed: ${[...allowed].join(', ')})`);
  }
}

function nonEmptyString(value: unknown, where: string): string {
  if (typeof value !== 'string' || value.length === 0) fail(`${where} must be a non-empty string, got ${describe(value)}`);
  return value;
}

function optionalArray(value: unknown, where: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail(`${where} must be an array, got ${describe(value)}`);
  return value;
}

function checkViolation(value: unknown, i: number): PolicyViolation {
  const where = `violations[${i}]`;
  if (!isPlainObject(value)) fail(`${where} must be an object, got ${describe(value)}`);
  rejectUnknownKeys(value, VIOLATION_KEYS, where);
  const rule = nonEmptyString(value.rule, `${where}.rule`);
  const message = nonEmptyString(value.message, `${where}.message`);
  const action = value.action;
  if (typeof action !== 'string' || !ACTIONS.has(action)) {
    fail(`${where}.action must be one of ${ENFORCEMENT_ACTIONS.join(', ')}, got ${describe(action)}`);
  }
  return { rule, message, action: action as EnforcementAction };
}

function checkPointer(value: unknown, where: string): string {
  if (typeof value !== 'string' || !JSON_POINTER.test(value)) fail(`${where} must be a JSON Pointer ("" or "/a/b"), got ${describe(value)}`);
  return value;
}

/** Checks one RFC 6902 operation as the contract allows it (exact keys, valid pointers). */
export function checkPatchOperation(value: unknown, where: string): JsonPatchOperation {
  if (!isPlainObject(value)) fail(`${where} must be an object, got ${describe(value)}`);
  const op = value.op;
  if (typeof op !== 'string' || !Object.hasOwn(PATCH_OP_KEYS, op)) {
    fail(`${where}.op must be one of ${Object.keys(PATCH_OP_KEYS).join(', ')}, got ${describe(op)}`);
  }
  const required = PATCH_OP_KEYS[op as JsonPatchOperation['op']];
  for (const key of Object.keys(value)) {
    if (key !== 'op' && !required.includes(key)) fail(`${where} (${op}) has unknown field ${JSON.stringify(key)}`);
  }
  for (const key of required) {
    if (!Object.hasOwn(value, key)) fail(`${where} (${op}) is missing "${key}"`);
  }
  checkPointer(value.path, `${where}.path`);
  if (Object.hasOwn(value, 'from')) checkPointer(value.from, `${where}.from`);
  // Values came out of JSON.parse, so they are JSON already.
  return value as unknown as JsonPatchOperation;
}

/** Checks the value of the entrypoint against the contract; throws PolicyError('result'). */
export function checkPolicyResult(value: unknown): PolicyResult {
  if (!isPlainObject(value)) fail(`must be an object, got ${describe(value)}`);
  rejectUnknownKeys(value, RESULT_KEYS, 'result');
  if (typeof value.allowed !== 'boolean') fail(`"allowed" must be true or false, got ${describe(value.allowed)}`);

  const violations = optionalArray(value.violations, '"violations"').map(checkViolation);
  const patch = optionalArray(value.patch, '"patch"').map((op, i) => checkPatchOperation(op, `patch[${i}]`));
  const warnings = optionalArray(value.warnings, '"warnings"').map((w, i) => {
    if (typeof w !== 'string') fail(`warnings[${i}] must be a string, got ${describe(w)}`);
    return w;
  });

  if (value.allowed) {
    const deny = violations.find((v) => v.action === 'deny');
    // Contradictory: the policy is broken, and guessing which half is right could fail open.
    if (deny) fail(`"allowed" is true but violation ${JSON.stringify(deny.rule)} has action "deny"`);
  }
  return { allowed: value.allowed, violations, patch, warnings };
}

/**
 * Unwraps opa-wasm's result set (`[{"result": <value>}]`). Empty means the entrypoint was
 * undefined for this input, which the contract does not allow.
 */
export function unwrapResultSet(resultSet: unknown): JsonValue {
  if (!Array.isArray(resultSet)) fail(`result set must be an array, got ${describe(resultSet)}`);
  if (resultSet.length === 0) fail('the entrypoint is undefined for this input (empty result set)');
  if (resultSet.length > 1) fail(`expected one result, got ${resultSet.length}`);
  const entry: unknown = resultSet[0];
  if (!isPlainObject(entry) || !Object.hasOwn(entry, 'result')) fail('result set entry has no "result"');
  return entry.result as JsonValue;
}
