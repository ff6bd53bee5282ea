/**
 * Link legality from the Eiffel protocol's `_links` tables (embedded by `eiffel-links.generated.ts`).
 * An illegal link is never dropped: the parser keeps it and says why in `EventLink.illegal`.
 */
import { EIFFEL_LINK_RULES } from './eiffel-links.generated.js';

export interface EiffelLinkRule {
  readonly required: boolean;
  readonly multiple: boolean;
  /** Event types the link may point at; `null` means any type. */
  readonly targets: readonly string[] | null;
}

export interface EiffelTypeRules {
  readonly version: string;
  readonly abbrev: string;
  readonly links: Readonly<Record<string, EiffelLinkRule>>;
}

export function eiffelTypeRules(type: string): EiffelTypeRules | undefined {
  return Object.prototype.hasOwnProperty.call(EIFFEL_LINK_RULES, type) ? EIFFEL_LINK_RULES[type] : undefined;
}

/** Event types this version of the library knows the rules of. */
export function knownEiffelTypes(): string[] {
  return Object.keys(EIFFEL_LINK_RULES);
}

/**
 * Why a link from an event of `sourceType` is illegal, or undefined when it is legal (or when the
 * source type is unknown, so nothing can be said). `count` is how many links of this type the event has.
 */
export function eiffelLinkProblem(sourceType: string, linkType: string, count = 1): string | undefined {
  const rules = eiffelTypeRules(sourceType);
  if (!rules) return undefined;
  const rule = Object.prototype.hasOwnProperty.call(rules.links, linkType) ? rules.links[linkType] : undefined;
  if (!rule) return `${sourceType} may not have a ${linkType} link (allowed: ${Object.keys(rules.links).join(', ')})`;
  if (!rule.multiple && count > 1) return `${sourceType} may have at most one ${linkType} link, has ${count}`;
  return undefined;
}

/**
 * Whether a link may point at an event of `targetType`; the correlator calls this once the target
 * has arrived. Returns the reason when it may not.
 */
export function eiffelLinkTargetProblem(sourceType: string, linkType: string, targetType: string): string | undefined {
  const rule = eiffelTypeRules(sourceType)?.links[linkType];
  if (!rule || rule.targets === null) return undefined;
  if (!targetType.startsWith('Eiffel') || eiffelTypeRules(targetType) === undefined) return undefined;
  if (rule.targets.includes(targetType)) return undefined;
  return `${sourceType} ${linkType} must point at ${rule.targets.join(' or ')}, not ${targetType}`;
}

/** Required link types missing from an event of `sourceType`. */
export function missingRequiredEiffelLinks(sourceType: string, present: ReadonlySet<string>): string[] {
  const rules = eiffelTypeRules(sourceType);
  if (!rules) return [];
  return Object.entries(rules.links)
    .filter(([t, r]) => r.required && !present.has(t))
    .map(([t]) => t);
}
