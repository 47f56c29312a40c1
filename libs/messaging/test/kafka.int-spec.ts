import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { KafkaTransport } from '../src/transports/kafka/kafka.transport.js';
import { encodeHeaders } from '../src/transports/kafka/kafka.topology.js';
import { describeTransportContract } from './contract/transport-contract.js';
import { FakeKafka } from './kafka-fake.js';

// No Kafka broker on the machines the tests run on: the shared contract suite runs against the
// transport backed by the in-memory broker that speaks @platformatic/kafka's API (kafka-fake.ts).
// Against a real broker: `transportOptions` without `client`, `url: 'kafka://localhost:29092'`
// (docker compose up kafka).
let fake = new FakeKafka();
describeTransportContract(
  'kafka (in-memory broker, @platformatic/kafka API)',
  () => ({
    transport: 'kafka',
    url: 'kafka://127.0.0.1:9092',
    transportOptions: { client: (fake = new FakeKafka()), partitions: 3 },
  }),
  {
    // A record on the type's topic from another producer, with its own headers only.
    publishForeign: async (transport, m) => {
      const producer = fake.producer({
        idempotent: false,
        acks: 1,
        partitioner: () => 0,
        autocreateTopics: false,
      });
      await producer.send({
        messages: [
          {
            topic: (transport as KafkaTransport).topicOf(m.type),
            value: Buffer.from(m.body),
            headers: encodeHeaders(m.headers),
          },
        ],
      });
      await producer.close();
    },
  },
);

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('kafka transport with the real @platformatic/kafka client', () => {
  it('connect() rejects within a bounded time with a clear error when nothing listens', async () => {
    const port = await closedPort();
    const t = new KafkaTransport({
      url: `kafka://u:s3cret@127.0.0.1:${port}`,
      namespace: 'x',
      serviceName: 'x',
    });
    const started = Date.now();
    const error = await t.connect().then(
      () => new Error('connected'),
      (e: unknown) => e as Error,
    );
    const took = Date.now() - started;
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toContain(`cannot connect to kafka://u:***@127.0.0.1:${port}`);
    expect(error.message).toContain('Cannot connect to any broker');
    expect(error.message).not.toContain('s3cret');
    expect(took).toBeLessThan(10_000); // ≈ 3.1 s: the client's 3 retries, 1 s apart
    const pingStarted = Date.now();
    await expect(t.ping()).rejects.toThrow(/connect|refused|broker/i);
    expect(Date.now() - pingStarted).toBeLessThan(2_500); // pingTimeoutMs (2 s) bounds it
    await t.close();
    await t.close();
    await expect(t.ping()).rejects.toThrow(/not connected/);
  });
});
