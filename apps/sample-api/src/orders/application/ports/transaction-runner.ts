/**
 * Runs work in one transaction: the events, the read model and the outbox rows (what the
 * `EventBus` publishes) of one use case commit together or not at all. A call inside a running
 * transaction joins it.
 */
export abstract class TransactionRunner {
  abstract run<T>(work: () => Promise<T>): Promise<T>;
}
