import 'reflect-metadata';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import { loadConfiguration } from '@infrastructure/configuration';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { definitions } from '../apps/sample-api/src/config.js';
import { createHealthController } from '../libs/monitoring/src/health/health.controller.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (file: string) => readFileSync(join(root, file), 'utf8');
const K8S = 'deploy/k8s';

/** The schema of every kind the manifests may use, by `apiVersion/kind`. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};

/** PostgreSQL's default `max_connections`, and what stays free for migrations, admin and tools. */
const SERVER_MAX_CONNECTIONS = 100;
const CONNECTION_HEADROOM = 20;

// Loose shapes of what the invariants read; the schemas above check the rest.
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [key: string]: unknown;
}
interface EnvVar {
  name: string;
  value?: string;
}
interface HttpProbe {
  httpGet: { path: string; port: string | number };
  timeoutSeconds?: number;
  periodSeconds?: number;
  failureThreshold?: number;
}
interface Container {
  name: string;
  image: string;
  ports: Array<{ name: string; containerPort: number }>;
  env: EnvVar[];
  envFrom: Array<{ configMapRef?: { name: string } }>;
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  startupProbe: HttpProbe;
  livenessProbe: HttpProbe;
  readinessProbe: HttpProbe;
  lifecycle: { preStop: { sleep?: { seconds: number } } };
  securityContext: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
    seccompProfile?: { type: string };
  };
  volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean; subPath?: string }>;
}
interface DeploymentDoc extends Manifest {
  spec: {
    selector: { matchLabels: Record<string, string> };
    strategy: { rollingUpdate: { maxSurge: number; maxUnavailable: number } };
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        terminationGracePeriodSeconds: number;
        securityContext: {
          runAsNonRoot?: boolean;
          runAsUser?: number;
          seccompProfile?: { type: string };
        };
        containers: Container[];
        volumes: Array<{
          name: string;
          secret?: { secretName: string };
          emptyDir?: object;
        }>;
      };
    };
  };
}
interface ServiceDoc extends Manifest {
  spec: {
    selector: Record<string, string>;
    ports: Array<{ name: string; port: number; targetPort: number | string }>;
  };
}
interface RuleGroup {
  name: string;
  rules: Array<{ alert?: string; annotations?: Record<string, string> }>;
}

/** Every document of every manifest file, with the file it came from. */
function loadManifests(): Array<{ file: string; doc: Manifest }> {
  return readdirSync(join(root, K8S))
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .sort()
    .flatMap((file) =>
      parseAllDocuments(read(`${K8S}/${file}`)).map((d) => {
        if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]!.message}`);
        return { file, doc: d.toJS() as Manifest };
      }),
    );
}

function only<T extends Manifest>(kind: string): T {
  const found = manifests.filter((m) => m.doc.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0]!.doc as T;
}

function envOf(container: Container): Record<string, string> {
  return Object.fromEntries(container.env.map((e) => [e.name, e.value ?? '']));
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const match of markdown.matchAll(/^#{1,6} (.+)$/gm)) {
    anchors.add(
      match[1]!
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replace(/ /g, '-'),
    );
  }
  return anchors;
}

/** How long a probe may keep failing before the kubelet acts. */
function budget(probe: HttpProbe): number {
  return probe.periodSeconds! * probe.failureThreshold!;
}

/** `512Mi` → 512, `1Gi` → 1024. */
function mebibytes(quantity: string): number {
  const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (!match) throw new Error(`unexpected memory quantity ${quantity}`);
  return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
}

const manifests = loadManifests();
const deployment = only<DeploymentDoc>('Deployment');
const pod = deployment.spec.template.spec;
const container = pod.containers[0]!;
const env = envOf(container);
const configMap = only<Manifest & { data: Record<string, string> }>('ConfigMap');
const secret = only<Manifest & { stringData: Record<string, string> }>('Secret');
const service = only<ServiceDoc>('Service');
/** What the container sees: the ConfigMap, overridden by the container's own env. */
const podEnv: Record<string, string> = { ...configMap.data, ...env };

describe('deploy/k8s manifests', () => {
  it('every document validates against its Kubernetes or Prometheus Operator schema', () => {
    expect(manifests.length).toBeGreaterThanOrEqual(9);
    const unknown = manifests
      .filter(({ doc }) => !MODELS[`${doc.apiVersion}/${doc.kind}`])
      .map(({ file, doc }) => `${file}: ${doc.apiVersion}/${doc.kind}`);
    expect(unknown).toEqual([]);
    for (const { doc } of manifests) {
      const Model = MODELS[`${doc.apiVersion}/${doc.kind}`]!;
      expect(() => new Model(doc as never).validate()).not.toThrow();
    }
  });

  it('the schema check rejects a malformed manifest (so the check above can fail)', () => {
    const broken = structuredClone(deployment);
    (
      broken.spec.template.spec.containers[0]!.ports[0] as { containerPort: unknown }
    ).containerPort = 'http';
    expect(() => new Deployment(broken as never).validate()).toThrow(/containerPort/);
  });

  it('kustomization.yaml lists every manifest but the example Secret, and names the image', () => {
    const kustomization = parse(read(`${K8S}/kustomization.yaml`)) as {
      resources: string[];
      images: Array<{ name: string }>;
    };
    const files = [...new Set(manifests.map((m) => m.file))].filter(
      (f) => f !== 'secret.example.yaml',
    );
    expect([...kustomization.resources].sort()).toEqual(files.sort());
    expect(kustomization.images.map((i) => i.name)).toEqual([container.image]);
  });

  it('the pod environment is the sample API configuration and passes its validation in production', () => {
    const known = new Set(
      definitions.flatMap((d) => Object.values(d.fields).flatMap((f) => [f.env, `${f.env}_FILE`])),
    );
    // NODE_OPTIONS is Node's own (the heap limit), not the app's.
    const names = Object.keys(podEnv).filter((name) => name !== 'NODE_OPTIONS');
    expect(names.filter((name) => !known.has(name))).toEqual([]);
    expect(podEnv.NODE_ENV).toBe('production');

    // The example Secret's files stand in for the mounted volume.
    const dir = mkdtempSync(join(tmpdir(), 'k8s-secrets-'));
    try {
      for (const [key, value] of Object.entries(secret.stringData)) {
        writeFileSync(join(dir, key), value);
      }
      const localEnv = Object.fromEntries(
        Object.entries(podEnv).map(([name, value]) => [
          name,
          name.endsWith('_FILE') ? join(dir, basename(value)) : value,
        ]),
      );
      const config = loadConfiguration(definitions, { env: localEnv, envFiles: false });
      expect(config.values.monitoring.shutdownReadinessDelayMs).toBe(5000);
      expect(config.values.authClients.clients[0]).toMatch(/^compose-demo\|/);
      expect(config.values.messaging.url).toMatch(/^amqp:\/\//);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('SIGTERM comes after a preStop sleep equal to SHUTDOWN_READINESS_DELAY_MS, and the grace period covers it plus SHUTDOWN_TIMEOUT_MS', () => {
    // Set explicitly in the Deployment (their defaults depend on NODE_ENV).
    const delayMs = Number(env.SHUTDOWN_READINESS_DELAY_MS);
    const timeoutMs = Number(env.SHUTDOWN_TIMEOUT_MS);
    expect(delayMs).toBeGreaterThan(0);
    expect(timeoutMs).toBeGreaterThan(delayMs);
    expect(container.lifecycle.preStop.sleep?.seconds).toBe(delayMs / 1000);
    // The app's timeout runs from SIGTERM and includes its own delay; the kubelet's grace period
    // runs from the deletion and includes the preStop sleep.
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(delayMs + timeoutMs);
  });

  it("probes ask the monitoring lib's health routes on the app port", () => {
    // The sample passes no healthPath, so the routes are the lib's default base '/health'.
    expect(read('apps/sample-api/src/app.module.ts')).not.toContain('healthPath');
    const Health = createHealthController('/health');
    const route = (method: 'live' | 'ready') =>
      `${Reflect.getMetadata(PATH_METADATA, Health) as string}/${
        Reflect.getMetadata(PATH_METADATA, Health.prototype[method] as object) as string
      }`;
    expect(container.livenessProbe.httpGet.path).toBe(route('live'));
    expect(container.startupProbe.httpGet.path).toBe(route('live'));
    expect(container.readinessProbe.httpGet.path).toBe(route('ready'));
    expect(route('ready')).toBe('/health/ready');

    const http = container.ports.find((p) => p.name === 'http')!;
    expect(http.containerPort).toBe(Number(podEnv.PORT));
    for (const probe of [
      container.startupProbe,
      container.livenessProbe,
      container.readinessProbe,
    ]) {
      expect([http.name, http.containerPort]).toContain(probe.httpGet.port);
    }
    // A slow dependency check answers 503 within HEALTH_TIMEOUT_MS, before the probe times out.
    expect(container.readinessProbe.timeoutSeconds! * 1000).toBeGreaterThan(
      Number(podEnv.HEALTH_TIMEOUT_MS),
    );
    // Boot (migrations included) gets longer than liveness would allow.
    expect(budget(container.startupProbe)).toBeGreaterThan(budget(container.livenessProbe));
  });

  it('the container ports are the Service targetPorts, and the ServiceMonitor scrapes the metrics one', () => {
    const ports = Object.fromEntries(container.ports.map((p) => [p.name, p.containerPort]));
    expect(ports).toEqual({ http: Number(podEnv.PORT), metrics: Number(podEnv.METRICS_PORT) });
    const targets = Object.fromEntries(service.spec.ports.map((p) => [p.name, p.targetPort]));
    expect(targets).toEqual(ports);

    const monitor = only<Manifest & { spec: { endpoints: Array<{ port: string; path: string }> } }>(
      'ServiceMonitor',
    );
    expect(monitor.spec.endpoints.map((e) => [e.port, e.path])).toEqual([['metrics', '/metrics']]);
  });

  it('the Service, ServiceMonitor, PodDisruptionBudget and HPA all reach the Deployment’s pods', () => {
    const podLabels = deployment.spec.template.metadata.labels;
    const matches = (selector: Record<string, string>) =>
      Object.entries(selector).every(([k, v]) => podLabels[k] === v);
    expect(matches(deployment.spec.selector.matchLabels)).toBe(true);
    expect(matches(service.spec.selector)).toBe(true);
    const pdb = only<Manifest & { spec: { selector: { matchLabels: Record<string, string> } } }>(
      'PodDisruptionBudget',
    );
    expect(matches(pdb.spec.selector.matchLabels)).toBe(true);
    // The ServiceMonitor selects the Service, not the pods.
    const monitor = only<
      Manifest & { spec: { selector: { matchLabels: Record<string, string> } } }
    >('ServiceMonitor');
    expect(
      Object.entries(monitor.spec.selector.matchLabels).every(
        ([k, v]) => service.metadata.labels?.[k] === v,
      ),
    ).toBe(true);
    const hpa = only<Manifest & { spec: { scaleTargetRef: { kind: string; name: string } } }>(
      'HorizontalPodAutoscaler',
    );
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'sample-api' });
  });

  it('every _FILE variable names a key of the Secret inside its read-only volume', () => {
    const fileVars = Object.keys(env).filter((name) => name.endsWith('_FILE'));
    expect(fileVars).toEqual(
      expect.arrayContaining([
        'DATABASE_PASSWORD_FILE',
        'REDIS_PASSWORD_FILE',
        'WEBHOOK_SECRET_FILE',
        'JWT_PRIVATE_KEY_FILE',
        'AUTH_CLIENTS_FILE',
      ]),
    );
    const secretVolumes = new Map(
      pod.volumes.filter((v) => v.secret).map((v) => [v.name, v.secret!.secretName]),
    );
    const used = new Set<string>();
    for (const name of fileVars) {
      const path = env[name]!;
      const mount = container.volumeMounts.find((m) => m.mountPath === dirname(path));
      expect(mount).toMatchObject({ readOnly: true });
      // A subPath mount would never see a rotated Secret.
      expect(mount!.subPath).toBeUndefined();
      expect(secretVolumes.get(mount!.name)).toBe(secret.metadata.name);
      expect(Object.keys(secret.stringData)).toContain(basename(path));
      used.add(basename(path));
    }
    // No key of the Secret is mounted for nothing.
    expect([...used].sort()).toEqual(Object.keys(secret.stringData).sort());
  });

  it("runs as the Dockerfile's non-root user with a read-only root, no capabilities and RuntimeDefault seccomp", () => {
    const dockerfile = read('Dockerfile');
    // `USER node` of the official node images is uid 1000.
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^FROM node:\d+-bookworm-slim AS runtime$/m);
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.securityContext.capabilities?.add).toBeUndefined();
    const tmp = container.volumeMounts.find((m) => m.mountPath === '/tmp');
    expect(pod.volumes.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined();
  });

  it('requests and limits CPU and memory, with the V8 heap limit below the memory limit', () => {
    for (const kind of ['requests', 'limits'] as const) {
      expect(Object.keys(container.resources[kind]).sort()).toEqual(['cpu', 'memory']);
    }
    const heapMb = Number(/--max-old-space-size=(\d+)/.exec(env.NODE_OPTIONS ?? '')?.[1]);
    const limitMb = mebibytes(container.resources.limits.memory!);
    expect(heapMb).toBeGreaterThan(0);
    expect(heapMb).toBeLessThanOrEqual(limitMb * 0.8);
    expect(mebibytes(container.resources.requests.memory!)).toBeLessThanOrEqual(limitMb);
  });

  it('at most replicas, and during a rollout, the database pools fit in max_connections minus headroom', () => {
    const hpa = only<Manifest & { spec: { minReplicas: number; maxReplicas: number } }>(
      'HorizontalPodAutoscaler',
    );
    const { maxSurge, maxUnavailable } = deployment.spec.strategy.rollingUpdate;
    const pool = Number(podEnv.DATABASE_POOL_MAX);
    expect(pool).toBeGreaterThan(0);
    expect((hpa.spec.maxReplicas + maxSurge) * pool).toBeLessThanOrEqual(
      SERVER_MAX_CONNECTIONS - CONNECTION_HEADROOM,
    );
    expect(maxUnavailable).toBe(0);
    // A drain (one pod at a time) always leaves one serving.
    const pdb = only<Manifest & { spec: { maxUnavailable: number } }>('PodDisruptionBudget');
    expect(hpa.spec.minReplicas).toBeGreaterThan(pdb.spec.maxUnavailable);
  });
});

describe('docs/operations.md', () => {
  it('has the section every manifest comment links to', () => {
    const anchors = anchorsOf(read('docs/operations.md'));
    const links = readdirSync(join(root, K8S)).flatMap((file) =>
      [...read(`${K8S}/${file}`).matchAll(/docs\/operations\.md#([\w-]+)/g)].map((m) => m[1]!),
    );
    expect(links.length).toBeGreaterThan(3);
    expect(links.filter((anchor) => !anchors.has(anchor))).toEqual([]);
  });

  it('is linked from README.md', () => {
    expect(read('README.md')).toContain('](docs/operations.md)');
  });
});

describe('PrometheusRule', () => {
  const rule = only<Manifest & { spec: { groups: RuleGroup[] } }>('PrometheusRule');
  const file = parse(read('deploy/prometheus/alerts.yml')) as { groups: RuleGroup[] };

  it('carries exactly the groups of deploy/prometheus/alerts.yml (copy them over after an edit)', () => {
    expect(rule.spec.groups).toEqual(file.groups);
  });

  it('every alert has a runbook_url that opens its own section of docs/operations.md', () => {
    const anchors = anchorsOf(read('docs/operations.md'));
    const alerts = file.groups.flatMap((g) => g.rules).filter((r) => r.alert);
    expect(alerts.length).toBeGreaterThanOrEqual(10);
    const urls = alerts.map((r) => r.annotations?.runbook_url ?? `(none for ${r.alert})`);
    expect(urls.filter((url) => !url.startsWith('docs/operations.md#'))).toEqual([]);
    expect(urls.filter((url) => !anchors.has(url.split('#')[1]!))).toEqual([]);
    expect(new Set(urls).size).toBe(urls.length);
  });
});
