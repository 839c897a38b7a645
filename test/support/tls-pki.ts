import { promises as fs } from 'node:fs';
import path from 'node:path';
import { runCommand } from './docker-cli.js';

// A throwaway PKI made with the openssl CLI for the mutual-TLS tests: a CA, a server
// certificate for 127.0.0.1/localhost, and client certificates with chosen subjects and SANs.
// Everything lives in a temp directory the caller removes; no key is ever committed.

export interface CertFiles {
  cert: string;
  key: string;
}

/** A client's files in the layout DOCKER_CERT_PATH expects (ca.pem, cert.pem, key.pem). */
export interface ClientCert extends CertFiles {
  /** The directory for DOCKER_CERT_PATH. */
  dir: string;
  ca: string;
}

export interface Pki {
  dir: string;
  ca: CertFiles;
  /** A certificate for the server at 127.0.0.1 / localhost, signed by this CA. */
  server(): Promise<CertFiles>;
  /**
   * A client certificate signed by this CA. `subject` like "/CN=alice/OU=team-a"; `san` like
   * "DNS:a.example,email:a@b"; `serverCA`: the CA the client trusts for the server (default this one).
   */
  client(name: string, subject: string, opts?: { san?: string; serverCA?: string }): Promise<ClientCert>;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const r = await runCommand('openssl', args, { cwd, timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`openssl ${args.join(' ')} failed:\n${r.stderr}`);
}

// P-256 keys: fast to make, and every client (Go, Node, Python) speaks them.
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A new CA in a subdirectory of `root` (make two for "a certificate from another CA"). */
export async function createPki(root: string, caName: string): Promise<Pki> {
  const dir = path.join(root, caName);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const ca = { cert: path.join(dir, 'ca.pem'), key: path.join(dir, 'ca-key.pem') };
  await openssl(
    ['req', '-x509', ...EC_KEY, '-keyout', ca.key, '-out', ca.cert, '-days', '2', '-subj', `/CN=${caName}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
  let serial = 1;

  async function issue(name: string, subject: string, extensions: string[]): Promise<CertFiles> {
    const out = path.join(dir, name);
    await fs.mkdir(out, { recursive: true, mode: 0o700 });
    const files = { cert: path.join(out, 'cert.pem'), key: path.join(out, 'key.pem') };
    const csr = path.join(out, 'req.csr');
    const ext = path.join(out, 'ext.cnf');
    // Key identifiers: Python 3.13's strict verification (VERIFY_X509_STRICT) requires them.
    await fs.writeFile(ext, `${[...extensions, 'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid'].join('\n')}\n`);
    await openssl(['req', '-new', ...EC_KEY, '-keyout', files.key, '-out', csr, '-subj', subject], out);
    await openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', String(serial++), '-days', '2', '-extfile', ext, '-out', files.cert], out);
    return files;
  }

  return {
    dir,
    ca,
    server: () => issue('server', '/CN=dockgate-test-server', ['basicConstraints=CA:FALSE', 'extendedKeyUsage=serverAuth', 'subjectAltName=IP:127.0.0.1,DNS:localhost']),
    async client(name, subject, opts = {}) {
      const files = await issue(`client-${name}`, subject, ['basicConstraints=CA:FALSE', 'extendedKeyUsage=clientAuth', ...(opts.san ? [`subjectAltName=${opts.san}`] : [])]);
      const certDir = path.dirname(files.cert);
      await fs.copyFile(opts.serverCA ?? ca.cert, path.join(certDir, 'ca.pem'));
      return { ...files, dir: certDir, ca: path.join(certDir, 'ca.pem') };
    },
  };
}
