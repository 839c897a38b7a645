// The docker CLI prints each entry of a create response's `Warnings` as "WARNING: …".
export function appendWarnings(body: unknown, warnings: readonly string[]): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const record = body as Record<string, unknown>;
  const existing = Array.isArray(record.Warnings) ? (record.Warnings as unknown[]) : [];
  return { ...record, Warnings: [...existing, ...warnings] };
}
