import { readFileSync } from 'node:fs';

/** dockgate's version, from the package.json it was installed with. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
