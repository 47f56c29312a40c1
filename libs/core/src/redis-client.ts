/**
 * An ioredis client as the packages' public signatures name it. ioredis is an optional peer, so
 * their declarations must type-check in an app that does not install it: any ioredis `Redis` is
 * one of these, and the implementations narrow it to the full ioredis type inside.
 */
export interface RedisClient {
  /** ioredis connection status (`'ready'`, `'connecting'`, `'end'`…). */
  readonly status: string;
  quit(): Promise<unknown>;
  disconnect(): void;
}
