import type { IncomingMessage } from 'node:http';
import type { GateVerdict, RequestGate } from './gate.js';

// Interim gate of the transparent proxy: forwards every request unjudged. Replaced by the
// admission gate (classify → canonicalize → policy) once that lands.
const HIJACK_PATH = /^(?:\/v[0-9.]+)?\/(?:containers\/[^/]+\/attach(?:\/ws)?|exec\/[^/]+\/start|session|grpc)$/;

function originForm(url: string): string {
  if (url.startsWith('/')) return url;
  const parsed = new URL(url);
  return parsed.pathname + parsed.search;
}

export class PassthroughGate implements RequestGate {
  readonly maxUpgradeBody = 1024 * 1024;

  async admit(req: IncomingMessage): Promise<GateVerdict> {
    return { action: 'forward', target: originForm(req.url ?? '/'), body: null };
  }

  async admitUpgrade(req: IncomingMessage): Promise<GateVerdict> {
    const target = originForm(req.url ?? '/');
    if (!HIJACK_PATH.test(target.split('?')[0]!)) {
      return { action: 'refuse', status: 400, message: 'dockgate: Connection: Upgrade is only accepted on attach, exec start and session routes' };
    }
    return { action: 'forward', target, body: null };
  }
}
