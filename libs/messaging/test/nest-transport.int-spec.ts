import { Controller, type INestApplication } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { lastValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DeadLetters,
  MessagingClient,
  MessagingContext,
  MessagingModule,
  MessagingServer,
} from '@infrastructure/messaging';
import { MonitoringModule, RequestContext } from '@infrastructure/monitoring';
import { PersistenceModule, UnitOfWork } from '@infrastructure/persistence';
import { testMonitoringOptions } from '@infrastructure/testing';
import { Recorder } from './contract/transport-contract.js';

const invoices = new Recorder<{ orderId: string; group: string; correlationId?: string }>();
const attempts = new Map<string, number>();

@Controller()
class BillingController {
  constructor(private readonly context: RequestContext) {}

  @EventPattern<string>('billing.invoice-requested', { group: 'billing' })
  invoice(@Payload() data: { orderId: string }, @Ctx() ctx: MessagingContext): void {
    invoices.push({
      orderId: data.orderId,
      group: ctx.getGroup(),
      correlationId: this.context.get().correlationId,
    });
  }

  @EventPattern<string>('billing.refund-requested', {
    group: 'refunds',
    retry: { attempts: 2, initialDelayMs: 5, maxDelayMs: 10 },
  })
  refund(@Payload() data: { orderId: string }): void {
    attempts.set(data.orderId, (attempts.get(data.orderId) ?? 0) + 1);
    throw new Error(`refund provider rejected ${data.orderId}`);
  }

  @MessagePattern('billing.quote')
  quote(): number {
    return 42;
  }
}

describe('MessagingServer / MessagingClient (Nest custom transport)', () => {
  let app: INestApplication;

  beforeAll(async () => {
    const ref = await Test.createTestingModule({
      imports: [
        MonitoringModule.forRoot(testMonitoringOptions()),
        PersistenceModule.forRoot({ url: 'sqlite::memory:' }),
        MessagingModule.forRoot({ serviceName: 'billing-test' }),
      ],
      controllers: [BillingController],
    }).compile();
    app = ref.createNestApplication({ logger: false });
    app.connectMicroservice({ strategy: app.get(MessagingServer) });
    await app.startAllMicroservices();
    await app.init();
  });
  afterAll(() => app?.close());

  it('delivers client.emit to @EventPattern handlers with the caller context', async () => {
    const client = app.get(MessagingClient);
    await app
      .get(RequestContext)
      .run({ correlationId: 'corr-nest' }, () =>
        lastValueFrom(client.emit('billing.invoice-requested', { orderId: 'o-1' })),
      );
    const [seen] = await invoices.until(1, (i) => i.orderId === 'o-1');
    expect(seen).toEqual({ orderId: 'o-1', group: 'billing', correlationId: 'corr-nest' });
  });

  it('emits inside a unit of work only after commit (through the outbox)', async () => {
    const client = app.get(MessagingClient);
    await expect(
      app.get(UnitOfWork).run(async () => {
        await lastValueFrom(client.emit('billing.invoice-requested', { orderId: 'rolled-back' }));
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await app
      .get(UnitOfWork)
      .run(() => lastValueFrom(client.emit('billing.invoice-requested', { orderId: 'kept' })));
    await invoices.until(1, (i) => i.orderId === 'kept');
    expect(invoices.items.map((i) => i.orderId)).not.toContain('rolled-back');
  });

  it('retries a throwing @EventPattern handler, then dead-letters the message', async () => {
    await lastValueFrom(
      app.get(MessagingClient).emit('billing.refund-requested', { orderId: 'r-1' }),
    );
    const letter = await app
      .get(DeadLetters)
      .next((l) => l.group === 'refunds' && l.body.includes('r-1'));
    expect(letter.headers['x-exception-message']).toBe('refund provider rejected r-1');
    expect(letter.headers['x-attempts']).toBe('2');
    expect(attempts.get('r-1')).toBe(2);
  });

  it('refuses client.send (request/reply) with a clear error', async () => {
    await expect(lastValueFrom(app.get(MessagingClient).send('billing.quote', {}))).rejects.toThrow(
      /request\/reply/,
    );
  });
});
