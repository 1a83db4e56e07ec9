/**
 * SMART v2 system scopes (`system/Task.rus`, `system/*.cu`): what a token lets its partner do.
 * @see https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html
 */
export type ScopeAction = 'c' | 'r' | 'u' | 'd' | 's';

/** What a route needs: an action on a resource type (`*`: any type, so only a `*` scope grants it). */
export interface ScopeNeed {
  readonly resourceType: string;
  readonly action: ScopeAction;
}

/** Whether one of `scopes` grants `need`. */
export function grants(scopes: readonly string[], need: ScopeNeed): boolean {
  return scopes.some((scope) => {
    const match = /^system\/(\*|[A-Z][A-Za-z]+)\.([cruds]+)$/.exec(scope);
    return (
      match !== null &&
      (match[1] === '*' || match[1] === need.resourceType) &&
      match[2]!.includes(need.action)
    );
  });
}

/** The requested scopes the partner may have; an empty request asks for all of them. */
export function grantable(requested: readonly string[], allowed: readonly string[]): string[] {
  return requested.length === 0 ? [...allowed] : requested.filter((s) => allowed.includes(s));
}

export function describeNeed(need: ScopeNeed): string {
  return `system/${need.resourceType}.${need.action}`;
}
