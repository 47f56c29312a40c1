/** Injection token of the parsed DATABASE_URL of a connection (`default` unless named). */
export function persistenceTargetToken(name = 'default'): string {
  return `PERSISTENCE:TARGET:${name}`;
}

/** Injection token of the resolved options of a connection. */
export function persistenceOptionsToken(name = 'default'): string {
  return `PERSISTENCE:OPTIONS:${name}`;
}

/** Token of the default connection's parsed URL. */
export const PERSISTENCE_TARGET = persistenceTargetToken();
