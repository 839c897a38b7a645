import { existsSync, promises as fs, realpathSync } from 'node:fs';
import path from 'node:path';
import { describeResult, dockerBinary, runCommand, runDocker } from './docker-cli.js';
import { importRootfs, writeBusyboxRootfs } from './dockerd.js';
import { REPO_ROOT } from './repo.js';

// Images for the deployment tests, made without a registry. The Dockerfile names public bases
// (node:24-bookworm-slim); no registry is reachable here, so a stand-in is assembled from this
// machine's files and imported under that name — on the private test daemon only, where it
// cannot shadow anyone's real image. The Dockerfile itself is the one users build.

/** The runtime and build base the Dockerfile names. */
export const NODE_BASE = 'node:24-bookworm-slim';

/** The base of the Dockerfile's `bundles` stage (Go, to build the pinned opa). */
export const GO_BASE = 'golang:1.26-bookworm';

/** The image the tests build from the repository's Dockerfile. */
export const DOCKGATE_IMAGE = 'dockgate-test/dockgate:latest';

/** busybox plus the static docker CLI: a CI runner that talks to whatever DOCKER_HOST names. */
export const RUNNER_IMAGE = 'dockgate-test/runner:latest';

const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** This machine's Node 24 (the `node` dev dependency), the binary itself rather than the link. */
function nodeBinaryFile(): string {
  const file = path.join(REPO_ROOT, 'node_modules', '.bin', 'node');
  if (!existsSync(file)) throw new Error(`${file} is missing: run npm ci`);
  return realpathSync(file);
}

/** The npm package directory of the `npm` on PATH (npm is plain JavaScript: any Node runs it). */
function npmPackageDir(): string {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const candidate = path.join(dir, 'npm');
    if (!dir || !existsSync(candidate)) continue;
    const pkg = path.resolve(path.dirname(realpathSync(candidate)), '..');
    if (existsSync(path.join(pkg, 'bin', 'npm-cli.js'))) return pkg;
  }
  throw new Error('no npm package found on PATH (looked for <dir>/npm -> …/npm/bin/npm-cli.js)');
}

/** The shared libraries `ldd` lists for `binary`, and its ELF interpreter, as absolute paths. */
async function sharedLibraries(binary: string): Promise<string[]> {
  const r = await runCommand('ldd', [binary], { timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`ldd ${binary}: ${describeResult(r)}`);
  const libs: string[] = [];
  for (const line of r.stdout.split('\n')) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.push(m[1]!);
  }
  if (!libs.some((l) => l.includes('ld-linux'))) throw new Error(`ldd ${binary} names no ELF interpreter:\n${r.stdout}`);
  return libs;
}

async function imageExists(host: string, tag: string): Promise<boolean> {
  return (await runDocker(host, ['image', 'inspect', '--format', '{{.Id}}', tag])).code === 0;
}

/** A temporary directory with a rootfs/ in it, removed after `fill` and the import. */
async function importFromScratch(host: string, tag: string, changes: string[], fill: (root: string) => Promise<void>): Promise<void> {
  const work = await fs.mkdtemp('/tmp/dgt-base-');
  try {
    const root = path.join(work, 'rootfs');
    await fs.mkdir(root);
    await fill(root);
    await importRootfs(host, root, tag, changes);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

/**
 * NODE_BASE stand-in: a merged-/usr layout like Debian's, busybox for the shell and tools,
 * /usr/local/bin/node (this machine's Node 24) with the shared libraries it loads, and npm in
 * /usr/local/lib/node_modules — where the official image keeps them.
 */
export async function importNodeBase(host: string): Promise<void> {
  if (await imageExists(host, NODE_BASE)) return;
  const node = nodeBinaryFile();
  const npm = npmPackageDir();
  const libs = await sharedLibraries(node);
  // This machine reaches the npm registry through a TLS proxy its CA bundle trusts; the stand-in
  // trusts the same bundle, as a base image built on this network would.
  const changes = ['ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'CMD ["node"]'];
  if (existsSync(CA_BUNDLE)) changes.push(`ENV NODE_EXTRA_CA_CERTS=${CA_BUNDLE}`);
  await importFromScratch(host, NODE_BASE, changes, async (root) => {
    for (const d of ['bin', 'sbin', 'lib', 'lib64']) {
      await fs.mkdir(path.join(root, 'usr', d), { recursive: true });
      await fs.symlink(`usr/${d}`, path.join(root, d));
    }
    await writeBusyboxRootfs(root, 'usr/bin');
    if (existsSync(CA_BUNDLE)) {
      await fs.mkdir(path.join(root, path.dirname(CA_BUNDLE)), { recursive: true });
      await fs.copyFile(CA_BUNDLE, path.join(root, CA_BUNDLE));
    }
    await fs.writeFile(path.join(root, 'etc', 'nsswitch.conf'), 'passwd: files\ngroup: files\nhosts: files dns\n');
    for (const lib of libs) {
      // Written at the path the binary asks for; /lib and /lib64 lead into /usr as on Debian.
      const dest = path.join(root, lib);
      await fs.mkdir(path.dirname(dest), { recursive: true });
      await fs.copyFile(realpathSync(lib), dest);
    }
    const local = path.join(root, 'usr', 'local');
    await fs.mkdir(path.join(local, 'bin'), { recursive: true });
    await fs.copyFile(node, path.join(local, 'bin', 'node'));
    await fs.chmod(path.join(local, 'bin', 'node'), 0o755);
    await fs.cp(npm, path.join(local, 'lib', 'node_modules', 'npm'), { recursive: true, verbatimSymlinks: true });
    await fs.symlink('../lib/node_modules/npm/bin/npm-cli.js', path.join(local, 'bin', 'npm'));
    await fs.symlink('../lib/node_modules/npm/bin/npx-cli.js', path.join(local, 'bin', 'npx'));
  });
}

/** Copies host binaries (with the shared libraries they load) into `root` at the same paths. */
async function copyBinaries(root: string, binaries: string[]): Promise<void> {
  const files = new Set<string>();
  for (const b of binaries) {
    files.add(b);
    for (const lib of await sharedLibraries(b)) files.add(lib);
  }
  for (const f of files) {
    const dest = path.join(root, f);
    await fs.mkdir(path.dirname(dest), { recursive: true });
    await fs.copyFile(realpathSync(f), dest);
    await fs.chmod(dest, 0o755);
  }
}

/**
 * GO_BASE stand-in: busybox, this machine's Go toolchain in /usr/local/go, bash (the policy
 * scripts are bash), and the CA bundle for the Go module proxy. Go fetches opa's modules itself.
 */
export async function importGoBase(host: string): Promise<void> {
  if (await imageExists(host, GO_BASE)) return;
  const goroot = (await runCommand('go', ['env', 'GOROOT'], { timeoutMs: 30_000 })).stdout.trim();
  if (!goroot || !existsSync(path.join(goroot, 'bin', 'go'))) throw new Error('no Go toolchain found (go env GOROOT)');
  const changes = ['ENV GOPATH=/go', 'ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'WORKDIR /go'];
  await importFromScratch(host, GO_BASE, changes, async (root) => {
    for (const d of ['bin', 'sbin', 'lib', 'lib64']) {
      await fs.mkdir(path.join(root, 'usr', d), { recursive: true });
      await fs.symlink(`usr/${d}`, path.join(root, d));
    }
    await writeBusyboxRootfs(root, 'usr/bin');
    await fs.rm(path.join(root, 'usr', 'bin', 'bash'), { force: true });
    await copyBinaries(root, ['/usr/bin/bash']);
    if (existsSync(CA_BUNDLE)) {
      await fs.mkdir(path.join(root, path.dirname(CA_BUNDLE)), { recursive: true });
      await fs.copyFile(CA_BUNDLE, path.join(root, CA_BUNDLE));
    }
    await fs.cp(goroot, path.join(root, 'usr', 'local', 'go'), { recursive: true, verbatimSymlinks: true });
    await fs.mkdir(path.join(root, 'go'));
  });
}

/** RUNNER_IMAGE: busybox and the static docker CLI in /usr/local/bin. */
export async function importRunnerImage(host: string): Promise<void> {
  if (await imageExists(host, RUNNER_IMAGE)) return;
  const cli = dockerBinary();
  await importFromScratch(host, RUNNER_IMAGE, ['ENV PATH=/usr/local/bin:/bin', 'CMD ["/bin/sh"]'], async (root) => {
    await writeBusyboxRootfs(root);
    await fs.mkdir(path.join(root, 'usr', 'local', 'bin'), { recursive: true });
    await fs.copyFile(cli, path.join(root, 'usr', 'local', 'bin', 'docker'));
    await fs.chmod(path.join(root, 'usr', 'local', 'bin', 'docker'), 0o755);
  });
}

/**
 * Builds the repository's Dockerfile with the classic builder (what dockerd 20.10 has without
 * buildx). Default target prebuilt-policy: the committed bundle, which CI checks rebuilds byte for
 * byte, instead of building opa from source in the image (minutes); `runtime` (the Dockerfile's
 * default) compiles it. Host networking lets `npm ci` and Go reach their registries from a daemon
 * that has no bridge. Layers are cached by the daemon.
 */
export async function buildDockgateImage(host: string, { target = 'prebuilt-policy', tag = DOCKGATE_IMAGE } = {}): Promise<void> {
  await importNodeBase(host);
  if (target === 'runtime') await importGoBase(host);
  const r = await runDocker(host, ['build', '--network', 'host', '--target', target, '-t', tag, REPO_ROOT], {
    env: { DOCKER_BUILDKIT: '0' },
    timeoutMs: target === 'runtime' ? 1_200_000 : 300_000,
  });
  if (r.code !== 0) throw new Error(`docker build of ${REPO_ROOT}/Dockerfile failed: ${describeResult(r)}`);
}
