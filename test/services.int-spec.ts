import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';

/** Opens a TCP connection, optionally writes a greeting and resolves with the first bytes the server sends. */
function firstReply(port: number, greeting?: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(5_000, () =>
      socket.destroy(new Error(`no reply from 127.0.0.1:${port} within 5 s`)),
    );
    socket.once('error', (e) =>
      reject(
        new Error(
          `127.0.0.1:${port} does not answer (${(e as NodeJS.ErrnoException).code}): start it with scripts/services.sh`,
        ),
      ),
    );
    if (greeting) socket.once('connect', () => socket.write(greeting));
    socket.once('data', (data) => {
      resolve(data);
      socket.destroy();
    });
  });
}

// Under CI a missing service fails the run: these tests speak each protocol's first words.
describe('real services the integration tests use', () => {
  it('PostgreSQL answers an SSLRequest', async () => {
    const sslRequest = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
    expect(['N', 'S']).toContain((await firstReply(5432, sslRequest)).toString('latin1', 0, 1));
  });

  it('MariaDB sends its handshake', async () => {
    const reply = await firstReply(3306);
    expect(reply[4]).toBe(10); // protocol version 10
    expect(reply.toString('latin1')).toMatch(/MariaDB/i);
  });

  it('Redis answers PING', async () => {
    expect((await firstReply(6379, Buffer.from('PING\r\n'))).toString()).toBe('+PONG\r\n');
  });

  it('RabbitMQ starts an AMQP 0-9-1 connection', async () => {
    const reply = await firstReply(5672, Buffer.from('AMQP\x00\x00\x09\x01', 'latin1'));
    expect(reply[0]).toBe(1); // method frame: connection.start
    expect(reply.readUInt16BE(7)).toBe(10); // class connection
  });

  it('Mosquitto accepts an MQTT CONNECT', async () => {
    const id = 'infra-smoke';
    const body = Buffer.concat([
      Buffer.from([0, 4]),
      Buffer.from('MQTT'),
      Buffer.from([4, 2, 0, 10]), // level 4, clean session, keep-alive 10
      Buffer.from([0, id.length]),
      Buffer.from(id),
    ]);
    const reply = await firstReply(1883, Buffer.concat([Buffer.from([0x10, body.length]), body]));
    expect([...reply.subarray(0, 4)]).toEqual([0x20, 2, 0, 0]); // CONNACK, accepted
  });

  it('NATS announces JetStream in its INFO', async () => {
    const info = (await firstReply(4222)).toString();
    expect(info.startsWith('INFO ')).toBe(true);
    expect(JSON.parse(info.slice(5).trim()).jetstream).toBe(true);
  });
});
