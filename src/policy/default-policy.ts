import { fileURLToPath } from 'node:url';
import { loadBundleFile, type PolicyBundle } from './bundle.js';
import { verifyBundle, type BundleVerification } from './bundle-signature.js';
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
  /** Keys that must have signed the bundle; undefined: only unsigned bundles are accepted. */
  verification?: BundleVerification;
}

/** The entrypoint named, else the bundle's only one, else the library's. */
export function chooseEntrypoint(bundle: PolicyBundle, named: string | undefined): string {
  const listed = bundle.manifest?.wasm?.map((w) => w.entrypoint) ?? [];
  return named ?? (listed.length === 1 ? listed[0]! : DEFAULT_ENTRYPOINT);
}

/**
 * The engine for a parsed bundle: its signature checked (bundle-signature.ts), the entrypoint
 * chosen, the wasm compiled. Throws PolicyError('load') naming `where` (a path or URL).
 */
export async function engineFromBundle(bundle: PolicyBundle, sel: PolicySelection, where: string): Promise<PolicyEngine> {
  try {
    verifyBundle(bundle, sel.verification);
    const entrypoint = chooseEntrypoint(bundle, sel.entrypoint);
    return await PolicyEngine.fromBundle(bundle, { entrypoint, ...(sel.data ? { data: sel.data } : {}) });
  } catch (err) {
    if (err instanceof PolicyError) throw new PolicyError('load', `${where}: ${err.message}`, { cause: err.cause });
    throw err;
  }
}

/**
 * Loads the policy to enforce. The entrypoint is the one named, else the bundle's only one, else
 * the library's. A missing or corrupt bundle throws: dockgate does not start without a policy.
 */
export async function loadPolicy(sel: PolicySelection): Promise<PolicyEngine> {
  const path = sel.bundle ?? EMBEDDED_BUNDLE;
  return engineFromBundle(await loadBundleFile(path), sel, path);
}
