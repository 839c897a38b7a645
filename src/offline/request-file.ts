// The request file of `dockgate eval --request FILE`: an HTTP request as a client sends it, or a
// ready policy input (DESIGN.md "The policy contract"). Unknown fields are errors, not ignored:
// a misspelt "oldObjct" must not silently turn into a failed lookup.
import type { IncomingHttpHeaders } from 'node:http';
import type { SentRequest } from '../admission/gate.js';
import { inspectPath } from '../admission/lookup.js';
import { classify } from '../http/classify.js';
import type { JsonValue, PolicyInput } from '../policy/contract.js';

export class RequestFileError extends Error {}

export type RequestFile =
  | {
      form: 'http';
      sent: SentRequest;
      /** Daemon answers given in the file, by unversioned inspect path (null: does not exist). */
      answers: Map<string, JsonValue>;
    }
  | { form: 'input'; input: PolicyInput; hasUserInfo: boolean };

const HTTP_KEYS = new Set(['method', 'path', 'headers', 'body', 'oldObject', 'volumes', 'lookups']);
const INPUT_MARKERS = ['kind', 'operation', 'request'];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(file: string, message: string): never {
  throw new RequestFileError(`${file}: ${message}`);
}

export function parseRequestFile(text: string, file: string): RequestFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    fail(file, `not JSON: ${(err as Error).message}`);
  }
  if (!isRecord(doc)) fail(file, 'must be a JSON object');
  if (!Object.hasOwn(doc, 'method') && INPUT_MARKERS.some((k) => Object.hasOwn(doc, k))) return parseInput(doc, file);
  return parseHttp(doc, file);
}

function parseHttp(doc: Record<string, unknown>, file: string): RequestFile {
  for (const key of Object.keys(doc)) {
    if (!HTTP_KEYS.has(key)) fail(file, `unknown field "${key}" (an HTTP request has ${[...HTTP_KEYS].join(', ')}; a policy input has kind, operation, request, …)`);
  }
  if (typeof doc.method !== 'string' || !/^[A-Za-z]+$/.test(doc.method)) fail(file, '"method" must be an HTTP method like "POST"');
  if (typeof doc.path !== 'string' || !doc.path.startsWith('/')) fail(file, '"path" must be the request target, like "/v1.41/containers/create?name=web"');
  const headers: IncomingHttpHeaders = {};
  if (doc.headers !== undefined) {
    if (!isRecord(doc.headers)) fail(file, '"headers" must be an object of header names to strings');
    for (const [name, value] of Object.entries(doc.headers)) {
      if (typeof value !== 'string') fail(file, `header "${name}" must be a string`);
      headers[name.toLowerCase()] = value;
    }
  }
  // A string body is sent as is (to try malformed bodies); any other JSON value is serialized,
  // with the Content-Type every Docker client sends unless the file says otherwise.
  let body: Buffer | null = null;
  if (doc.body !== undefined && doc.body !== null) {
    body = Buffer.from(typeof doc.body === 'string' ? doc.body : JSON.stringify(doc.body));
    if (typeof doc.body !== 'string' && headers['content-type'] === undefined) headers['content-type'] = 'application/json';
  }
  if (body !== null) headers['content-length'] = String(body.length);
  const sent: SentRequest = { method: doc.method.toUpperCase(), url: doc.path, headers, body };
  return { form: 'http', sent, answers: lookupAnswers(doc, sent, file) };
}

function lookupAnswers(doc: Record<string, unknown>, sent: SentRequest, file: string): Map<string, JsonValue> {
  const answers = new Map<string, JsonValue>();
  if (doc.oldObject !== undefined) {
    const classified = classify(sent.method, sent.url);
    const route = classified.ok ? classified.route : undefined;
    const path = route?.target !== undefined ? inspectPath(route.kind, route.target) : undefined;
    if (path === undefined) fail(file, `"oldObject" is given, but ${sent.method} ${sent.url} has no target object to look up`);
    answers.set(path, doc.oldObject as JsonValue);
  }
  if (doc.volumes !== undefined) {
    if (!isRecord(doc.volumes)) fail(file, '"volumes" must map volume names to their inspect (or null: does not exist)');
    for (const [name, value] of Object.entries(doc.volumes)) answers.set(inspectPath('volume', name)!, value as JsonValue);
  }
  if (doc.lookups !== undefined) {
    if (!isRecord(doc.lookups)) fail(file, '"lookups" must map unversioned inspect paths ("/containers/web/json") to answers');
    for (const [path, value] of Object.entries(doc.lookups)) {
      if (!path.startsWith('/') || /^\/v[0-9.]+\//.test(path)) fail(file, `lookups: "${path}" must be an unversioned API path like "/containers/web/json"`);
      answers.set(path, value as JsonValue);
    }
  }
  return answers;
}

function parseInput(doc: Record<string, unknown>, file: string): RequestFile {
  if (typeof doc.kind !== 'string' || typeof doc.operation !== 'string') fail(file, 'a policy input needs "kind" and "operation" strings');
  const request = doc.request;
  if (!isRecord(request) || typeof request.method !== 'string' || typeof request.path !== 'string') {
    fail(file, 'a policy input needs "request": {"method", "path", "apiVersion"?, "query"?}');
  }
  if (request.query !== undefined && !isRecord(request.query)) fail(file, '"request.query" must map names to lists of values');
  const hasUserInfo = doc.userInfo !== undefined;
  if (hasUserInfo && !isRecord(doc.userInfo)) fail(file, '"userInfo" must be an object');
  const input = {
    ...doc,
    uid: typeof doc.uid === 'string' ? doc.uid : '',
    request: { ...request, query: request.query ?? {} },
    dryRun: doc.dryRun ?? false,
  } as unknown as PolicyInput;
  return { form: 'input', input, hasUserInfo };
}
