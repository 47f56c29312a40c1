import { describe, expect, it } from 'vitest';
import { MailMessageError } from './errors.js';
import { bareAddress, domainOf, prepareMail, recipientsOf } from './mail-message.js';

describe('prepareMail', () => {
  it('fills in the default sender and a Message-ID on the sender`s domain', () => {
    const m = prepareMail({ to: 'a@b.test', subject: 's', text: 't' }, 'Shop <no-reply@shop.test>');
    expect(m.from).toBe('Shop <no-reply@shop.test>');
    expect(m.messageId).toMatch(/^<[0-9a-f-]{36}@shop\.test>$/);
  });

  it('keeps the message`s own sender', () => {
    const m = prepareMail(
      { from: 'x@own.test', to: 'a@b.test', subject: 's', html: '<p/>' },
      'd@d.test',
    );
    expect(m.from).toBe('x@own.test');
    expect(m.messageId).toMatch(/@own\.test>$/);
  });

  it('refuses a message without sender when there is no default, saying where to set one', () => {
    expect(() => prepareMail({ to: 'a@b.test', subject: 's', text: 't' }, undefined)).toThrow(
      new MailMessageError(
        'mail message: from: no sender; set message.from or the MailModule option `from` (MAIL_FROM)',
      ),
    );
  });
});

describe('address helpers', () => {
  it('finds domains, bare addresses and every recipient', () => {
    expect(domainOf('"Shop" <No-Reply@Shop.Test>')).toBe('shop.test');
    expect(domainOf('nobody')).toBe('localhost');
    expect(bareAddress('"Ann" <ann@example.test>')).toBe('ann@example.test');
    expect(bareAddress(' bob@example.test ')).toBe('bob@example.test');
    expect(
      recipientsOf({ to: 'a@x.test', cc: ['b@x.test', 'c@x.test'], bcc: 'd@x.test', subject: 's' }),
    ).toEqual(['a@x.test', 'b@x.test', 'c@x.test', 'd@x.test']);
  });
});
