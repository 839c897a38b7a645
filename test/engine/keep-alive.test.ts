import http from 'node:http';
import { afterAll, describe, expect, test } from 'vitest';
import { engineRequest } from '../support/engine-api.js';
import { TEST_LABEL } from '../support/dockerd.js';
import { useDockgate } from '../support/fixtures.js';

// Answers without a body (204, 304, and any answer to HEAD) carry neither Content-Length nor
// Transfer-Encoding from the daemon. They must not be taken for bodies delimited by the
// connection's close: a client's keep-alive connection outlives them, as it does with the daemon.

const env = useDockgate();
const agents: http.Agent[] = [];
afterAll(() => agents.forEach((a) => a.destroy()));

interface Answer {
  method: string;
  status: number;
  /** The request went on a connection an earlier request had used. */
  reused: boolean;
}

/** Sends the requests one after another over one keep-alive connection pool of one socket. */
async function sendInTurn(socketPath: string, requests: [string, string][]): Promise<Answer[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  agents.push(agent);
  const answers: Answer[] = [];
  for (const [method, path] of requests) {
    answers.push(
      await new Promise<Answer>((resolve, reject) => {
        const req = http.request({ socketPath, agent, method, path }, (res) => {
          res.resume();
          // The next request waits a turn of the loop, so the agent has the socket back in its pool.
          res.on('end', () => setImmediate(() => resolve({ method, status: res.statusCode ?? 0, reused: req.reusedSocket })));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      }),
    );
  }
  return answers;
}

async function createStopped(dockerSocket: string, image: string): Promise<string> {
  const [key, value] = TEST_LABEL.split('=') as [string, string];
  const created = await engineRequest(dockerSocket, 'POST', '/v1.41/containers/create', {
    body: JSON.stringify({ Image: image, Cmd: ['true'], Labels: { [key]: value } }),
  });
  expect(created.status, created.text()).toBe(201);
  return created.json<{ Id: string }>().Id;
}

describe('keep-alive across answers without a body', () => {
  test('HEAD 200, 304 and 204 answers keep the client connection as the daemon does', async () => {
    const { dockgate, testImage, dockerSocket } = env();
    const sequence = (id: string): [string, string][] => [
      ['GET', `/v1.41/containers/${id}/json`],
      ['HEAD', `/v1.41/containers/${id}/archive?path=/etc`],
      ['POST', `/v1.41/containers/${id}/stop`], // never started: 304 Not Modified
      ['DELETE', `/v1.41/containers/${id}`], // 204 No Content
      ['GET', '/_ping'],
    ];
    const direct = await sendInTurn(dockerSocket, sequence(await createStopped(dockerSocket, testImage)));
    const proxied = await sendInTurn(dockgate.socketPath, sequence(await createStopped(dockerSocket, testImage)));
    expect(direct.map((a) => a.status)).toEqual([200, 200, 304, 204, 200]);
    expect(proxied).toEqual(direct);
    // The 304 and the 204 left their connections open (the request after each reused one).
    expect(proxied.slice(3).map((a) => a.reused)).toEqual([true, true]);
  });
});
