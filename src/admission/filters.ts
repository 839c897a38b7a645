// Docker's `filters` query parameter (api/types/filters): a JSON object of filter name to either
// {"value": true} (current form) or ["value"] (the legacy form dockerd still accepts). Values of
// one name are OR'ed by most filters, but `label` values are AND'ed: every one must match. That
// is what makes scoping a list by owner a matter of adding one label filter.

export type FilterArgs = Record<string, Record<string, boolean>>;

export class FilterError extends Error {}

/**
 * A query parameter that holds a JSON object (`filters`, a build's `labels`): empty or absent is
 * an empty object; anything but an object is a FilterError naming the parameter.
 */
export function parseJsonObjectParam(text: string | undefined, what: string): Record<string, unknown> {
  if (text === undefined || text === '') return {};
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new FilterError(`invalid ${what} JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new FilterError(`invalid ${what}: not a JSON object`);
  return raw as Record<string, unknown>;
}

/** Parses a `filters` value the way dockerd's filters.FromJSON does (empty = no filters). */
export function parseFilters(text: string | undefined): FilterArgs {
  // No prototype: a filter named "__proto__" is just a name.
  const args = Object.create(null) as FilterArgs;
  for (const [name, values] of Object.entries(parseJsonObjectParam(text, 'filters'))) {
    const set = Object.create(null) as Record<string, boolean>;
    if (Array.isArray(values)) {
      for (const v of values) {
        if (typeof v !== 'string') throw new FilterError(`invalid filters: "${name}" must list strings`);
        set[v] = true;
      }
    } else if (typeof values === 'object' && values !== null) {
      for (const [v, on] of Object.entries(values)) {
        if (typeof on !== 'boolean') throw new FilterError(`invalid filters: "${name}" values must map to true`);
        set[v] = on;
      }
    } else {
      throw new FilterError(`invalid filters: "${name}" must be an object or a list`);
    }
    args[name] = set;
  }
  return args;
}

/** The caller's filters plus `label=<key>=<value>`, serialized in the current form. */
export function withLabelFilter(text: string | undefined, key: string, value: string): string {
  const args = parseFilters(text);
  args.label = { ...(args.label ?? {}), [`${key}=${value}`]: true };
  return JSON.stringify(args);
}
