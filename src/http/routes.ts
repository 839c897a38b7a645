// Public entry point of the Engine API route table and request classifier. See classify.ts for
// the rules, route-table.ts for the routes and the kind/operation vocabulary.
export {
  canonicalTarget,
  classify,
  type ClassifiedRoute,
  type ClassifyResult,
} from './classify.js';
export {
  ANY_METHOD,
  ROUTE_KINDS,
  ROUTE_OPERATIONS,
  ROUTE_TABLE,
  type RouteDefinition,
  type RouteKind,
  type RouteOperation,
} from './route-table.js';
export { matchRoute, type RouteMatch } from './route-matcher.js';
export { MIN_API_VERSION, parseApiVersion, type ApiVersionResult } from './api-version.js';
export { firstValue, parseQuery, queryBool, type Query, type QueryParseResult } from './query.js';
export { parseRequestTarget, type RequestTargetResult } from './request-target.js';
