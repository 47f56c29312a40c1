import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller, Get, type INestApplication } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MonitoringModule, ProblemDetailsFilter } from '@infrastructure/monitoring';
import {
  createTestApp,
  kubeletWrite,
  LogCapture,
  testMonitoringOptions,
} from '@infrastructure/testing';
import { AuditActions } from '../src/audit/audit-actions.js';
import { Public, Scopes } from '../src/http/decorators.js';
import { InvalidGrantError, JwtManager } from '../src/jwt/index.js';
import { SecurityModule } from '../src/security.module.js';

@Controller('audited')
class AuditedController {
  @Get('open')
  @Public()
  open(): string {
    return 'ok';
  }

  @Get('admin')
  @Scopes('admin')
  admin(): string {
    return 'ok';
  }
}

const logs = new LogCapture();
const dir = mkdtempSync(join(tmpdir(), 'audit-events-'));
let app: INestApplication;
let jwt: JwtManager;

/** The audit records logged so far (no data source: the log stream is the audit sink). */
const audits = () =>
  logs.records
    .filter((r) => r.context === 'Audit' && r.audit)
    .map((r) => r.audit as { action: string; outcome: string; target?: string });
const nextAudit = (action: string) =>
  logs.next((r) => r.context === 'Audit' && r.audit?.action === action);
const exported = new Set<string>(Object.values(AuditActions));

beforeAll(async () => {
  kubeletWrite(dir, { SMTP_PASSWORD: 'one' });
  const t = await createTestApp(
    {
      imports: [
        MonitoringModule.forRoot(
          testMonitoringOptions({ logging: { level: 'info', destination: logs } }),
        ),
        SecurityModule.forRoot({
          jwt: { issuer: 'https://api.test', audience: 'orders' },
          rateLimit: { limit: 2, ttlMs: 60_000 },
          secrets: { directory: { directory: dir, pollIntervalMs: 0 }, env: false },
        }),
      ],
      controllers: [AuditedController],
    },
    {
      appOptions: { logger: false },
      configure: (a) => a.useGlobalFilters(new ProblemDetailsFilter(a.get(HttpAdapterHost))),
    },
  );
  app = t.app;
  jwt = app.get(JwtManager);
});

afterAll(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('security audit events carry the exported AuditActions names', () => {
  it('a refused credential and a missing scope', async () => {
    const failed = nextAudit(AuditActions.authenticationFailed);
    await supertest(app.getHttpServer()).get('/audited/admin').expect(401);
    expect(await failed).toMatchObject({ audit: { outcome: 'failure' } });
    const denied = nextAudit(AuditActions.permissionDenied);
    const token = await jwt.createToken({ sub: 'u1', scopes: ['orders:read'] });
    await supertest(app.getHttpServer())
      .get('/audited/admin')
      .set('authorization', `Bearer ${token}`)
      .expect(403);
    expect(await denied).toMatchObject({ audit: { outcome: 'denied', actor: 'u1' } });
  });

  it('a rate-limit rejection', async () => {
    const limited = nextAudit(AuditActions.rateLimited);
    const server = supertest(app.getHttpServer());
    for (let i = 0; i < 2; i++) await server.get('/audited/open').expect(200);
    await server.get('/audited/open').expect(429);
    expect(await limited).toMatchObject({
      audit: { outcome: 'denied', target: 'GET /audited/open' },
    });
  });

  it('refresh-token reuse (the family is revoked), a logout and a revocation', async () => {
    const pair = await jwt.issueTokens({ sub: 'u2' });
    await jwt.refresh(pair.refreshToken);
    const reused = nextAudit(AuditActions.refreshReused);
    await expect(jwt.refresh(pair.refreshToken)).rejects.toBeInstanceOf(InvalidGrantError);
    expect(await reused).toMatchObject({
      audit: { outcome: 'denied', actor: 'u2', target: `family:${pair.familyId}` },
    });
    const revoked = nextAudit(AuditActions.tokenRevoked);
    const verified = await jwt.verify(await jwt.createToken({ sub: 'u3' }));
    await jwt.revoke(verified);
    expect(await revoked).toMatchObject({
      audit: { outcome: 'success', target: `jti:${verified.jti}` },
    });
  });

  it('a key rotation and a secret reload', async () => {
    const rotated = nextAudit(AuditActions.keyRotated);
    jwt.keyring.rotate();
    expect(await rotated).toMatchObject({ audit: { outcome: 'success' } });
    const reloaded = nextAudit(AuditActions.secretReloaded);
    kubeletWrite(dir, { SMTP_PASSWORD: 'two' });
    expect(await reloaded).toMatchObject({
      audit: { outcome: 'success', target: 'secret:SMTP_PASSWORD' },
    });
    expect(logs.text).not.toContain('"two"');
  });

  it('writes no action name outside AuditActions', () => {
    const actions = audits().map((a) => a.action);
    expect(actions.length).toBeGreaterThan(5);
    expect(actions.filter((a) => !exported.has(a))).toEqual([]);
  });
});
