import type { IncomingMessage } from 'node:http';
import type { Transform } from 'node:stream';
import type { ResponseRewrite } from './forward.js';

// What the proxy does with one request, as decided before anything is forwarded.
export type GateVerdict =
  | {
      action: 'forward';
      /** Origin-form target sent upstream (path and query as classified). */
      target: string;
      /** A replacement body (canonical, possibly mutated); null streams the client's body as is. */
      body: Buffer | null;
      rewrite?: ResponseRewrite;
      /** Filters a successful streamed response (the events of one owner). */
      streamFilter?: () => Transform;
    }
  | { action: 'refuse'; status: number; message: string };

// The admission step between the listener and the forwarder. `upgrade` requests (attach, exec
// start, sessions) arrive with their body already read, since Node hands them over unparsed.
export interface RequestGate {
  /** Body bytes an upgrade request may carry before it is refused (exec start's small JSON). */
  readonly maxUpgradeBody: number;
  admit(req: IncomingMessage): Promise<GateVerdict>;
  admitUpgrade(req: IncomingMessage, body: Buffer): Promise<GateVerdict>;
}
