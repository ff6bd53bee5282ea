/** Injection token for the explorer's validated configuration. */
export const EXPLORER_CONFIG = Symbol('EXPLORER_CONFIG');
