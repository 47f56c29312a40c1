import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { LogMailSender } from './log-mail.sender.js';

function capture() {
  const lines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (l: string) => void lines.push(l) });
  return { lines, logger };
}

const message = {
  to: ['ann@example.test', 'bob@example.test'],
  subject: 'Reset your password',
  text: 'https://shop.test/reset?token=tok-123',
  attachments: [{ filename: 'a.txt', content: 'x' }],
};

describe('LogMailSender', () => {
  it('logs one line per mail without the body, and returns a receipt', async () => {
    const { lines, logger } = capture();
    const receipt = await new LogMailSender({ from: 'no-reply@shop.test' }, undefined, logger).send(
      message,
    );
    expect(receipt.accepted).toEqual(['ann@example.test', 'bob@example.test']);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 30,
      messageId: receipt.messageId,
      from: 'no-reply@shop.test',
      subject: 'Reset your password',
      attachments: ['a.txt'],
      msg: 'mail (not sent, log transport): "Reset your password" to 2 recipient(s)',
    });
    expect(lines.join('\n')).not.toContain('tok-123');
  });

  it('logs bodies at debug with logBodies', async () => {
    const { lines, logger } = capture();
    await new LogMailSender({ logBodies: true }, undefined, logger).send(message);
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[1]!)).toMatchObject({ level: 20, text: message.text });
  });
});
