import { hash } from 'node:crypto';

import { copyJsonData } from '@infrastructure/core';

import type { VerifiedToken } from './token-checks.js';

interface Entry {
  /** The cache's own copy: every hit gets a fresh copy of it (callers may mutate theirs). */
  readonly token: VerifiedToken;
  /** Milliseconds; never after the token's `exp`. */
  readonly expiresAt: number;
}

/**
 * Verified tokens by a SHA-256 of the token (and the checks it passed), so a bearer token sent
 * again within `ttlMs` skips the signature and claim checks. Bounded: at most `maxEntries`, the
 * least recently used dropped first; an entry never outlives `ttlMs` nor the token's `exp`. What
 * must be asked on every request (revocation) is not cached here.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    readonly maxEntries: number,
    readonly ttlMs: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * The cache key of `token` verified under `context` (typ, audiences): SHA-256 of
   * `context \0 token`, base64url. One-shot `crypto.hash` (no Hash object per request).
   */
  static key(context: string, token: string): string {
    return hash('sha256', `${context}\0${token}`, 'base64url');
  }

  /** A fresh copy of the token verified under `key`, unless it is unknown or its time is up. */
  get(key: string, nowMs: number): VerifiedToken | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (nowMs >= entry.expiresAt) return undefined;
    this.entries.set(key, entry); // most recently used last
    return copyJsonData(entry.token);
  }

  /** Keeps a copy of `token` (verified) until the earlier of its `exp` and `ttlMs`. */
  set(key: string, token: VerifiedToken, nowMs: number): void {
    const expiresAt = Math.min(nowMs + this.ttlMs, token.exp * 1000);
    if (!(expiresAt > nowMs) || this.maxEntries === 0) return;
    this.entries.delete(key);
    this.entries.set(key, { token: copyJsonData(token), expiresAt });
    if (this.entries.size > this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value!);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}
