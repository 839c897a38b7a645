import { ANY_METHOD, ROUTE_TABLE, type RouteDefinition } from './route-table.js';

// Matches (method, decoded path without version prefix) against the route table the way
// gorilla mux does in dockerd: routes in registration order, first one whose method and
// anchored path pattern both match wins. Everything is compiled once at module load; a lookup
// is a Map hit on the method and first path segment, then a few string comparisons per
// candidate (a RegExp only for the one two-variable pattern).

export interface RouteMatch {
  readonly route: RouteDefinition;
  // The decoded value of the route's targetParam, when it has one.
  readonly target: string | undefined;
}

// Returns the value of the target variable (or '' when the route has none), or null.
type PathMatcher = (path: string) => string | null;

interface CompiledRoute {
  readonly route: RouteDefinition;
  // The pattern's literal first segment; null when the pattern starts with a variable.
  readonly firstSegment: string | null;
  readonly match: PathMatcher;
}

interface MethodRoutes {
  readonly bySegment: ReadonlyMap<string, readonly CompiledRoute[]>;
  // For first segments no literal-first-segment route has.
  readonly other: readonly CompiledRoute[];
}

type VarConstraint = 'any' | 'nonEmpty' | 'segment';

interface PatternVar {
  readonly name: string;
  readonly constraint: VarConstraint;
}

const VAR_RE = /\{([A-Za-z]+)(?::([^}]*))?\}/g;

function constraintOf(regex: string | undefined, pattern: string): VarConstraint {
  if (regex === undefined || regex === '[^/]+') return 'segment';
  if (regex === '.*') return 'any';
  if (regex === '.+') return 'nonEmpty';
  throw new Error(`route pattern ${pattern}: unsupported variable pattern ${regex}`);
}

function constraintRegex(constraint: VarConstraint): string {
  // `s` flag on the compiled RegExp: `.` matches any character, like Go's `.` on the control-
  // character-free paths the classifier lets through.
  return constraint === 'segment' ? '[^/]+' : constraint === 'any' ? '.*' : '.+';
}

function escapeRegex(literal: string): string {
  return literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function satisfies(value: string, constraint: VarConstraint): boolean {
  if (constraint === 'any') return true;
  if (value.length === 0) return false;
  return constraint === 'nonEmpty' || !value.includes('/');
}

function compilePattern(route: RouteDefinition): CompiledRoute {
  const { pattern } = route;
  if (!pattern.startsWith('/')) throw new Error(`route pattern ${pattern}: must start with /`);
  const literals: string[] = [];
  const vars: PatternVar[] = [];
  let last = 0;
  for (const m of pattern.matchAll(VAR_RE)) {
    literals.push(pattern.slice(last, m.index));
    vars.push({ name: m[1]!, constraint: constraintOf(m[2], pattern) });
    last = m.index + m[0].length;
  }
  literals.push(pattern.slice(last));
  for (const literal of literals) {
    // Lower-case literals let the classifier detect wrong-case paths by matching lowercased.
    if (literal !== literal.toLowerCase() || /[{}]/.test(literal)) {
      throw new Error(`route pattern ${pattern}: literal parts must be lower case, no braces`);
    }
  }
  const targetIndex =
    route.targetParam === undefined ? -1 : vars.findIndex((v) => v.name === route.targetParam);
  if (route.targetParam !== undefined && targetIndex < 0) {
    throw new Error(`route pattern ${pattern}: no variable ${route.targetParam}`);
  }

  const secondSlash = pattern.indexOf('/', 1);
  const head = pattern.slice(1, secondSlash < 0 ? undefined : secondSlash);
  const firstSegment = head.includes('{') ? null : head;

  let match: PathMatcher;
  if (vars.length === 0) {
    match = (path) => (path === pattern ? '' : null);
  } else if (vars.length === 1) {
    const prefix = literals[0]!;
    const suffix = literals[1]!;
    const { constraint } = vars[0]!;
    const minLength = prefix.length + suffix.length;
    const capture = targetIndex === 0;
    match = (path) => {
      if (path.length < minLength || !path.startsWith(prefix) || !path.endsWith(suffix)) {
        return null;
      }
      const value = path.slice(prefix.length, path.length - suffix.length);
      if (!satisfies(value, constraint)) return null;
      return capture ? value : '';
    };
  } else {
    let source = '^';
    vars.forEach((v, i) => {
      source += `${escapeRegex(literals[i]!)}(${constraintRegex(v.constraint)})`;
    });
    source += `${escapeRegex(literals[vars.length]!)}$`;
    const regex = new RegExp(source, 's');
    match = (path) => {
      const m = regex.exec(path);
      if (m === null) return null;
      return targetIndex < 0 ? '' : m[targetIndex + 1]!;
    };
  }
  return { route, firstSegment, match };
}

function buildMethodRoutes(compiled: readonly CompiledRoute[]): MethodRoutes {
  const segments = new Set<string>();
  for (const c of compiled) if (c.firstSegment !== null) segments.add(c.firstSegment);
  const bySegment = new Map<string, CompiledRoute[]>();
  for (const segment of segments) {
    // Keep table order across literal and variable-first routes: order decides the winner.
    bySegment.set(
      segment,
      compiled.filter((c) => c.firstSegment === segment || c.firstSegment === null),
    );
  }
  return { bySegment, other: compiled.filter((c) => c.firstSegment === null) };
}

function buildIndex(table: readonly RouteDefinition[]): {
  byMethod: ReadonlyMap<string, MethodRoutes>;
  anyMethod: MethodRoutes;
} {
  const compiled = table.map(compilePattern);
  const methods = new Set(table.map((r) => r.method).filter((m) => m !== ANY_METHOD));
  const byMethod = new Map<string, MethodRoutes>();
  for (const method of methods) {
    byMethod.set(
      method,
      buildMethodRoutes(
        compiled.filter((c) => c.route.method === method || c.route.method === ANY_METHOD),
      ),
    );
  }
  const anyMethod = buildMethodRoutes(compiled.filter((c) => c.route.method === ANY_METHOD));
  return { byMethod, anyMethod };
}

const INDEX = buildIndex(ROUTE_TABLE);

function firstSegmentOf(path: string): string {
  const end = path.indexOf('/', 1);
  return end < 0 ? path.slice(1) : path.slice(1, end);
}

// `path` is the decoded path without the version prefix; the method is compared exactly (Go
// and gorilla mux are case-sensitive about methods too).
export function matchRoute(method: string, path: string): RouteMatch | null {
  const methodRoutes = INDEX.byMethod.get(method) ?? INDEX.anyMethod;
  const candidates = methodRoutes.bySegment.get(firstSegmentOf(path)) ?? methodRoutes.other;
  for (const candidate of candidates) {
    const value = candidate.match(path);
    if (value !== null) {
      return {
        route: candidate.route,
        target: candidate.route.targetParam === undefined ? undefined : value,
      };
    }
  }
  return null;
}
