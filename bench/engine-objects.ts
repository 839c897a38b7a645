// Engine objects the benchmark sets up directly at the daemon (never through a peer, so set-up
// costs stay out of the figures).
import type http from 'node:http';
import { sendExpect } from './http-client.js';

export const API = '/v1.41';

export async function createContainer(socketPath: string, agent: http.Agent | false, body: unknown): Promise<string> {
  const res = await sendExpect(socketPath, agent, 'POST', `${API}/containers/create`, [201], {
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'Content-Type': 'application/json' },
  });
  return (JSON.parse(res.body.toString('utf8')) as { Id: string }).Id;
}

export async function startContainer(socketPath: string, id: string): Promise<void> {
  await sendExpect(socketPath, false, 'POST', `${API}/containers/${id}/start`, [204, 304]);
}

export async function removeContainer(socketPath: string, agent: http.Agent | false, id: string): Promise<void> {
  await sendExpect(socketPath, agent, 'DELETE', `${API}/containers/${id}?force=1&v=1`, [204, 404]);
}

/** A container running `sh -c <script>` from the test image. */
export async function runContainer(socketPath: string, image: string, script: string, extra: Record<string, unknown> = {}): Promise<string> {
  const id = await createContainer(socketPath, false, {
    Image: image,
    Cmd: ['sh', '-c', script],
    AttachStdout: true,
    AttachStderr: true,
    Labels: { 'dockgate.test': '1' },
    ...extra,
  });
  await startContainer(socketPath, id);
  return id;
}
