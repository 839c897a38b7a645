import { fileURLToPath } from 'node:url';
import { loadBundleFile, type PolicyBundle } from './bundle.js';
import { PolicyEngine } from './engine.js';
import { PolicyError } from './policy-error.js';

/** The bundle dockgate enforces when no --policy is given: the shipped profiles (baseline by default). */
export const EMBEDDED_BUNDLE = fileURLToPath(new URL('../../policy/dist/dockgate.tar.gz', import.meta.url));

/** The entrypoint of the shipped library, and of any bundle that follows its layout. */
export const DEFAULT_ENTRYPOINT = 'dockgate/admission/decision';

export interface PolicySelection {
  bundle?: string;
  entrypoint?: string;
  data?: object;
}

/** The entrypoint named, else the bundle's only one, else the library's. */
export function chooseEntrypoint(bundle: PolicyBundle, named: string | undefined): string {
  const listed = bundle.manifest?.wasm?.map((w) => w.entrypoint) ?? [];
  return named ?? (listed.length === 1 ? listed[0]! : DEFAULT_ENTRYPOINT);
}

/**
 * Loads the policy to enforce. The entrypoint is the one named, else the bundle's only one, else
 * the library's. A missing or corrupt bundle throws: dockgate does not start without a policy.
 */
export async function loadPolicy(sel: PolicySelection): Promise<PolicyEngine> {
  const path = sel.bundle ?? EMBEDDED_BUNDLE;
  let bundle;
  try {
    bundle = await loadBundleFile(path);
  } catch (err) {
    if (err instanceof PolicyError) throw err;
    throw new PolicyError('load', `cannot read policy bundle ${path}: ${(err as Error).message}`, { cause: err });
  }
  const entrypoint = chooseEntrypoint(bundle, sel.entrypoint);
  try {
    return await PolicyEngine.fromBundle(bundle, { entrypoint, ...(sel.data ? { data: sel.data } : {}) });
  } catch (err) {
    if (err instanceof PolicyError) throw new PolicyError('load', `${path}: ${err.message}`, { cause: err.cause });
    throw err;
  }
}
