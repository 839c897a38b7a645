/** Where a policy failure happened; all of them deny the request (fail closed). */
export type PolicyErrorStage = 'load' | 'evaluate' | 'result';

/**
 * Any failure to load a bundle, run the policy or accept its answer. The message says what went
 * wrong in words an operator can act on; the original throw (a wasm trap, an opa_abort string, a
 * JSON error) is kept as `cause`.
 */
export class PolicyError extends Error {
  override readonly name = 'PolicyError';

  constructor(
    readonly stage: PolicyErrorStage,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** opa-wasm throws bare strings (opa_abort) and objects; make any of them readable. */
export function describeThrown(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  if (typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string') {
    return (err as { message: string }).message;
  }
  return String(err);
}
