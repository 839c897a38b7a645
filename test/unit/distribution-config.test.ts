import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/config.js';

function load(yaml: string, files: Record<string, string> = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dgcfg-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  writeFileSync(path.join(dir, 'c.yaml'), yaml);
  return () => loadConfigFile(path.join(dir, 'c.yaml'), {});
}

describe('bundleService, bundleSigning and decisionLogs settings', () => {
  it('reads them with defaults; key files relative to the config', () => {
    const config = load(
      'bundleService: {url: "https://b.example/x.tar.gz"}\nbundleSigning: {keys: {k: {algorithm: ES256, keyFile: k.pem}}}\ndecisionLogs: {file: logs/d.jsonl, mask: [/input/object/Env]}\n',
      { 'k.pem': 'PEM TEXT' },
    )();
    expect(config.bundleService).toEqual({ url: 'https://b.example/x.tar.gz', headers: {}, pollingMinDelaySeconds: 60, pollingMaxDelaySeconds: 120, longPollingTimeoutSeconds: 0 });
    expect(config.bundleSigning).toEqual({ keys: { k: { algorithm: 'ES256', key: 'PEM TEXT' } } });
    expect(config.decisionLogs?.file).toMatch(/^\/.*\/logs\/d\.jsonl$/);
    expect(config.decisionLogs?.mask).toEqual(['/input/object/Env']);
  });

  it.each([
    ['bundleService: {url: "ftp://x/y"}', /\$\.bundleService\.url: must match \/\^https\?/],
    ['bundleService: {url: "http://x/y", pollingMinDelaySeconds: 10, pollingMaxDelaySeconds: 5}', /pollingMaxDelaySeconds must not be below/],
    ['bundleService: {url: "http://x/y", pollingDelay: 5}', /\$\.bundleService\.pollingDelay: unknown setting/],
    ['policy: ./p.tar.gz\nbundleService: {url: "http://x/y"}', /policy and bundleService are exclusive/],
    ['bundleSigning: {keys: {k: {algorithm: none, key: x}}}', /bundleSigning\.keys\.k\.algorithm: must be one of/],
    ['bundleSigning: {keys: {k: {algorithm: RS256}}}', /needs exactly one of key/],
    ['bundleSigning: {keys: {}}', /\$\.bundleSigning\.keys: must have at least 1 entry/],
    ['bundleSigning: {keys: {k: {algorithm: RS256, key: x}}, keyId: j}', /keyId: must name one of the keys/],
    ['decisionLogs: {mask: [/input/x]}', /needs url, file or both/],
    ['decisionLogs: {file: d.log, mask: [/object/Env]}', /\$\.decisionLogs\.mask\[0\]: must match .*"\/input\/object\/Env"/],
    ['decisionLogs: {file: d.log, maxBufferBytes: 10}', /\$\.decisionLogs\.maxBufferBytes: must be >= 1024/],
  ])('refuses %s', (yaml, message) => {
    expect(load(yaml)).toThrow(message);
  });
});
