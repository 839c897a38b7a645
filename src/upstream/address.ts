// Where dockgate forwards to: dockerd's unix socket (the usual case) or a plain-TCP daemon.
export type UpstreamAddress =
  | { kind: 'unix'; socketPath: string; url: string }
  | { kind: 'tcp'; host: string; port: number; url: string };

export class AddressError extends Error {}

export function parseUpstream(url: string): UpstreamAddress {
  if (url.startsWith('unix://')) {
    const socketPath = url.slice('unix://'.length);
    if (!socketPath.startsWith('/')) throw new AddressError(`upstream ${url}: the socket path must be absolute`);
    return { kind: 'unix', socketPath, url };
  }
  if (url.startsWith('tcp://') || url.startsWith('http://')) {
    const parsed = new URL(url.replace(/^tcp:/, 'http:'));
    const port = parsed.port === '' ? 2375 : Number(parsed.port);
    return { kind: 'tcp', host: parsed.hostname, port, url };
  }
  throw new AddressError(`upstream ${url}: expected unix:///path/to/docker.sock or tcp://host:port`);
}

// A listen address: for now unix sockets (TLS listeners come with the tenancy config).
export function parseUnixListen(url: string): string {
  if (!url.startsWith('unix://')) throw new AddressError(`listen ${url}: expected unix:///path/to/dockgate.sock`);
  const path = url.slice('unix://'.length);
  if (!path.startsWith('/')) throw new AddressError(`listen ${url}: the socket path must be absolute`);
  return path;
}
