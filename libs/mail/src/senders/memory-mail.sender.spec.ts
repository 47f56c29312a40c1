import { describe, expect, it } from 'vitest';
import { MailDeliveryError, MailMessageError } from '../errors.js';
import { MemoryMailSender } from './memory-mail.sender.js';

const message = { to: 'Ann <ann@example.test>', subject: 'Welcome', text: 'hi' };

describe('MemoryMailSender', () => {
  it('keeps sent messages with a receipt and the default sender', async () => {
    const mails = new MemoryMailSender({ from: '"Shop" <no-reply@shop.test>' });
    const receipt = await mails.send({ ...message, bcc: ['audit@shop.test'] });
    expect(receipt.accepted).toEqual(['ann@example.test', 'audit@shop.test']);
    expect(receipt.messageId).toMatch(/^<[0-9a-f-]{36}@shop\.test>$/);
    expect(mails.sent).toHaveLength(1);
    expect(mails.last?.message).toMatchObject({
      from: '"Shop" <no-reply@shop.test>',
      subject: 'Welcome',
    });
    mails.clear();
    expect(mails.sent).toEqual([]);
  });

  it('next() resolves with the next message sent', async () => {
    const mails = new MemoryMailSender();
    const next = mails.next();
    await mails.send(message);
    expect((await next).message.subject).toBe('Welcome');
  });

  it('waitFor() finds a message already sent or awaits a matching one', async () => {
    const mails = new MemoryMailSender();
    await mails.send(message);
    expect((await mails.waitFor((m) => m.message.subject === 'Welcome')).message.to).toBe(
      message.to,
    );
    const reset = mails.waitFor((m) => m.message.subject === 'Reset');
    await mails.send({ ...message, subject: 'Other' });
    await mails.send({ ...message, subject: 'Reset' });
    expect((await reset).message.subject).toBe('Reset');
  });

  it('waitFor() rejects after its timeout, naming what it saw', async () => {
    const mails = new MemoryMailSender();
    await mails.send(message);
    await expect(mails.waitFor(() => false, 10)).rejects.toThrow(
      'a matching mail did not come within 10 ms (1 kept: "Welcome")',
    );
  });

  it('failNext() makes the next send fail, once', async () => {
    const mails = new MemoryMailSender();
    mails.failNext(new MailDeliveryError({ server: 'memory', responseCode: 550 }));
    await expect(mails.send(message)).rejects.toBeInstanceOf(MailDeliveryError);
    await expect(mails.send(message)).resolves.toMatchObject({ rejected: [] });
    expect(mails.sent).toHaveLength(1);
  });

  it.each([
    [{ subject: 'x', text: 'y' }, 'mail message: to: needs at least one recipient'],
    [{ to: 'a@b.test', subject: 'x' }, 'mail message: text: needs a body'],
    [{ to: 'a@b.test', subject: 'x\r\nBcc: evil@x.test', text: 'y' }, 'mail message: subject:'],
    [
      { to: 'a@b.test', subject: 'x', text: 'y', headers: { 'X-A': 'b\nc' } },
      'mail message: headers.X-A:',
    ],
    [{ to: [], subject: 'x', text: 'y' }, 'mail message: to'],
    [{ to: 'a@b.test', subject: 'x', text: 'y', priority: 'high' }, 'mail message: (root)'],
  ])('refuses an invalid message %j without sending it', async (bad, error) => {
    const mails = new MemoryMailSender();
    await expect(mails.send(bad as never)).rejects.toThrow(MailMessageError);
    await expect(mails.send(bad as never)).rejects.toThrow(error);
    expect(mails.sent).toEqual([]);
  });
});
