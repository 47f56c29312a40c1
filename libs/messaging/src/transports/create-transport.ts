import { MessagingConfigError } from '../errors.js';
import type { ResolvedMessagingOptions, TransportName } from '../messaging.options.js';
import { MemoryTransport } from './memory/memory.transport.js';
import type { Transport, TransportOptions } from './transport.js';

type Factory = (options: TransportOptions, settings: never) => Promise<Transport>;

/** Each broker transport is loaded on demand, so its driver is only needed when it is used. */
const FACTORIES: Record<TransportName, Factory | undefined> = {
  memory: async () => new MemoryTransport(),
  redis: (o, s) => import('./redis/redis.transport.js').then((m) => m.createRedisTransport(o, s)),
  rabbitmq: (o, s) =>
    import('./rabbitmq/rabbitmq.transport.js').then((m) => m.createRabbitMqTransport(o, s)),
  kafka: (o, s) => import('./kafka/kafka.transport.js').then((m) => m.createKafkaTransport(o, s)),
  nats: (o, s) => import('./nats/nats.transport.js').then((m) => m.createNatsTransport(o, s)),
  mqtt: (o, s) => import('./mqtt/mqtt.transport.js').then((m) => m.createMqttTransport(o, s)),
};

/** Builds the transport the options name (or returns the instance they carry). */
export async function createTransport(options: ResolvedMessagingOptions): Promise<Transport> {
  if (typeof options.transport !== 'string') return options.transport;
  const factory = FACTORIES[options.transport];
  if (!factory) {
    throw new MessagingConfigError(
      `MessagingModule: options.transport '${options.transport}' is not available in this build`,
    );
  }
  return factory(
    {
      ...(options.url ? { url: options.url } : {}),
      namespace: options.namespace,
      serviceName: options.serviceName,
    },
    options.transportOptions as never,
  );
}
