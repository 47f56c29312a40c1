export { MessagingModule } from './messaging.module.js';
export { messagingConfig, messagingOptionsFrom } from './messaging.config.js';
export {
  CreateMessagingTables1764200000000,
  INBOX_TABLE,
  OUTBOX_TABLE,
  messagingMigrations,
} from './outbox/messaging-tables.migration.js';
export type { OutboxRelay } from './outbox/outbox.relay.js';
export { MESSAGING_MODULE_OPTIONS } from './messaging.module-definition.js';
export {
  OUTBOX_LEASE_MS,
  TRANSPORTS,
  resolveMessagingOptions,
  type InboxOptions,
  type MessagingOptions,
  type OutboxOptions,
  type ResolvedMessagingOptions,
  type TransportName,
} from './messaging.options.js';
export {
  DomainEvent,
  uuidv7,
  type DomainEventClass,
  type DomainEventInit,
} from './domain-event.js';
export {
  DomainEventType,
  eventTypeOf,
  fromEnvelope,
  toEnvelope,
  validateEvents,
  type DomainEventTypeOptions,
  type EventEnvelope,
  type EventSchema,
  type EventSchemaIssue,
  type EventSchemaResult,
  type Upcaster,
} from './event-registry.js';
export { EventBus, type PublishOptions } from './event-bus.js';
export {
  EventHandler,
  type EventHandlerOptions,
  type RetryPolicy,
} from './event-handler.decorator.js';
export { DeadLetters, type DeadLetter } from './dead-letters.js';
export {
  EventValidationError,
  MessagingConfigError,
  PoisonMessageError,
  type EventValidationIssue,
  type DeadLetterReason,
  type PoisonMessageErrorOptions,
} from './errors.js';
export { MemoryTransport } from './transports/memory/memory.transport.js';
export { createTransport } from './transports/create-transport.js';
export {
  RedisTransport,
  createRedisTransport,
  type RedisTransportOptions,
} from './transports/redis/redis.transport.js';
export {
  RabbitMqTransport,
  createRabbitMqTransport,
  type RabbitMqTransportOptions,
} from './transports/rabbitmq/rabbitmq.transport.js';
export {
  NatsTransport,
  createNatsTransport,
  type NatsTransportOptions,
} from './transports/nats/nats.transport.js';
export {
  MqttTransport,
  createMqttTransport,
  type MqttTransportOptions,
} from './transports/mqtt/mqtt.transport.js';
export {
  KafkaTransport,
  createKafkaTransport,
  type KafkaTransportSettings,
} from './transports/kafka/kafka.transport.js';
export type {
  DeadLetterRecord,
  DeliveryHandler,
  HandlingOutcome,
  OutgoingMessage,
  SubscribeOptions,
  Transport,
  TransportMessage,
  TransportOptions,
} from './transports/transport.js';
export {
  MESSAGING_TRANSPORT,
  MessagingRuntime,
  type MessagingObservation,
} from './messaging.runtime.js';
export {
  MessagingContext,
  MessagingServer,
  type EventPatternExtras,
} from './nest/messaging.server.js';
export { MessagingClient } from './nest/messaging.client.js';
