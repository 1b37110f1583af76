import * as fs from 'node:fs';
import * as path from 'node:path';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { parseAllDocuments } from 'yaml';
import { ACCUMULATE_QUEUE, refineQueueNames } from '@jam/queue-contracts';
import { SETTINGS } from '@jam/config';

/**
 * Static checks of the deploy/ artifacts: dashboards and alert rules may only query metrics that
 * libs/telemetry/src/metrics.ts exports (renaming a metric breaks this test, not production
 * alerting), and every Deployment is hardened and sized. No cluster or Prometheus is needed.
 */

const root = path.resolve(__dirname, '..', '..');
const deployDir = path.join(root, 'deploy');
const metricsSource = fs.readFileSync(path.join(root, 'libs', 'telemetry', 'src', 'metrics.ts'), 'utf8');

type Doc = Record<string, any>;

function listFiles(dir: string, ext: RegExp): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(path.join(dir, e.name), ext) : ext.test(e.name) ? [path.join(dir, e.name)] : []))
    .sort();
}

function readYamlDocs(file: string): Doc[] {
  return parseAllDocuments(fs.readFileSync(file, 'utf8'))
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]!.message}`);
      return d.toJSON() as Doc;
    })
    .filter((d) => d !== null && d !== undefined);
}

/** Names declared in metrics.ts, with the series a histogram really exposes. */
function exportedMetricNames(): Set<string> {
  const names = new Set<string>();
  const decl = /new\s+(Counter|Gauge|Histogram|Summary)\s*\(\s*\{\s*name:\s*'([a-zA-Z_:][a-zA-Z0-9_:]*)'/g;
  for (const m of metricsSource.matchAll(decl)) {
    const [, kind, name] = m;
    names.add(name!);
    if (kind === 'Histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name! + s);
    if (kind === 'Summary') for (const s of ['_sum', '_count']) names.add(name! + s);
  }
  // prom-client's default metrics under the prefix metrics.ts passes to collectDefaultMetrics.
  const prefix = /collectDefaultMetrics\(\s*\{[^}]*prefix:\s*'([^']*)'/.exec(metricsSource)?.[1];
  if (prefix !== undefined) {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix });
    for (const metric of registry.getMetricsAsArray()) {
      const { name, type } = metric as unknown as { name: string; type: string };
      names.add(name);
      if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    }
    registry.clear();
  }
  // Made by Prometheus itself for every scrape target, not by the code.
  names.add('up');
  return names;
}

const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan', 'atan2']);

/**
 * Metric names a PromQL expression selects. Drops strings, label matchers, ranges, grouping
 * clauses and Grafana variables first; what is left is functions (followed by `(`), keywords,
 * numbers and metric names.
 */
export function metricNamesIn(expr: string): string[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\boffset\s+-?\w+/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ');
  const out = new Set<string>();
  for (const m of s.matchAll(/(\d+(?:\.\d+)?(?:e[+-]?\d+)?|[a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/gi)) {
    const [, token, call] = m;
    if (/^\d/.test(token!) || call || PROMQL_WORDS.has(token!.toLowerCase())) continue;
    out.add(token!);
  }
  return [...out];
}

/** Every `expr` in a Grafana dashboard (panels, nested row panels, templating queries). */
function dashboardExprs(dash: Doc): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  const visit = (panels: Doc[] | undefined) => {
    for (const p of panels ?? []) {
      for (const t of p.targets ?? []) if (typeof t.expr === 'string') out.push({ where: `panel "${p.title}"`, expr: t.expr });
      visit(p.panels);
    }
  };
  visit(dash.panels);
  for (const v of dash.templating?.list ?? []) {
    const q = typeof v.query === 'string' ? v.query : v.query?.query;
    const m = typeof q === 'string' ? /^label_values\((.*),\s*\w+\)$/.exec(q) : null;
    if (m) out.push({ where: `variable "${v.name}"`, expr: m[1]! });
  }
  return out;
}

describe('deploy/ artifacts', () => {
  const exported = exportedMetricNames();

  it('reads the metric names from libs/telemetry/src/metrics.ts', () => {
    expect(exported).toContain('jam_http_requests_total');
    expect(exported).toContain('jam_http_request_duration_seconds_bucket');
    expect(exported).toContain('jam_process_process_resident_memory_bytes');
    expect(exported).not.toContain('jam_http_requests_total_bucket');
  });

  it('extracts metric names from PromQL', () => {
    expect(metricNamesIn('histogram_quantile(0.95, sum by (le, route) (rate(a_bucket{job=~"$job", x="y"}[$__rate_interval])))')).toEqual(['a_bucket']);
    expect(metricNamesIn('(sum(increase(b_total{task="x"}[10m])) or vector(0)) == 0 and c offset 1h > 1e-3')).toEqual(['b_total', 'c']);
    expect(metricNamesIn('sum(rate(x[5m])) by (queue) / on(queue) group_left(name) up')).toEqual(['x', 'up']);
  });

  const dashboards = listFiles(path.join(deployDir, 'grafana'), /\.json$/);
  it('has dashboards', () => expect(dashboards.length).toBeGreaterThan(0));
  describe.each(dashboards.map((f) => [path.relative(root, f), f]))('%s', (_rel, file) => {
    const dash = JSON.parse(fs.readFileSync(file, 'utf8')) as Doc;
    it('is a Grafana JSON model, schemaVersion >= 36', () => {
      expect(dash.schemaVersion).toBeGreaterThanOrEqual(36);
      expect(typeof dash.uid).toBe('string');
      expect(dashboardExprs(dash).length).toBeGreaterThan(0);
    });
    it('queries only exported metrics', () => {
      const unknown = dashboardExprs(dash).flatMap(({ where, expr }) =>
        metricNamesIn(expr)
          .filter((n) => !exported.has(n))
          .map((n) => `${where}: ${n}`),
      );
      expect(unknown).toEqual([]);
    });
  });

  describe('what operators watch (issue 11)', () => {
    const dash = JSON.parse(fs.readFileSync(path.join(deployDir, 'grafana', 'jam-overview.json'), 'utf8')) as Doc;
    const exprs = dashboardExprs(dash);
    const [rulesDoc] = readYamlDocs(path.join(deployDir, 'prometheus', 'jam-alerts.yml'));
    const alerts: Doc[] = (rulesDoc?.groups ?? []).flatMap((g: Doc) => g.rules ?? []).filter((r: Doc) => r.alert);
    const alertOn = (re: RegExp) => alerts.filter((a) => re.test(a.expr)).map((a) => a.alert as string);

    it('the overall latency panel leaves out the server-sent events route (open until a terminal status)', () => {
      const overall = exprs.filter((e) => e.where === 'panel "Latency p50 / p95 / p99"');
      expect(overall).toHaveLength(3);
      for (const e of overall) expect(e.expr).toContain('route!~".*/events"');
    });

    it.each([
      ['submit-to-accumulated latency', /histogram_quantile\(.*jam_package_accumulate_latency_seconds_bucket/],
      ['queue wait', /histogram_quantile\(.*jam_queue_wait_seconds_bucket/],
      ['executor crashes', /jam_sandbox_failures_total\{[^}]*kind="executor"/],
      ['corrupt blobs', /jam_blobs_corrupt_total/],
      ['janitor storage deletions', /jam_janitor_deleted_total/],
      ['scrape targets', /\bup\{/],
      ['backing stores', /jam_dependency_up/],
    ])('has a panel for %s', (_what, re) => {
      expect(exprs.filter((e) => re.test(e.expr))).not.toEqual([]);
    });

    it.each([
      ['scrape targets down', /^up\{job=~"jam-\.\*"\} == 0$/],
      ['database unreachable', /jam_dependency_up\{dependency="database"\} == 0/],
      ['Redis unreachable', /jam_dependency_up\{dependency="redis"\} == 0/],
      ['executor crashes', /jam_sandbox_failures_total\{kind="executor"\}/],
      ['corrupt blobs', /jam_blobs_corrupt_total/],
      ['queue backlog (waiting + delayed only)', /jam_queue_depth\{state=~"waiting\|delayed"\}/],
    ])('has an alert for %s', (_what, re) => {
      expect(alertOn(re)).toHaveLength(1);
    });

    it('KEDA scales only on exported metrics, on backlog (waiting + delayed), per attester queue', () => {
      const file = path.join(deployDir, 'k8s', 'components', 'keda-autoscaling', 'scaledobjects.yaml');
      const objects = readYamlDocs(file);
      expect(objects.map((o) => o.metadata.name).sort()).toEqual([
        'jam-accumulate-worker',
        'jam-refine-worker-0',
        'jam-refine-worker-1',
        'jam-refine-worker-2',
      ]);
      for (const o of objects) {
        const [trigger] = o.spec.triggers as Doc[];
        expect(trigger!.type).toBe('prometheus');
        const query = trigger!.metadata.query as string;
        expect(metricNamesIn(query).filter((n) => !exported.has(n))).toEqual([]);
        expect(query).toContain('state=~"waiting|delayed"');
        // a refine worker's backlog is both of its attester's queues (general and express)
        const selector =
          o.metadata.name === 'jam-accumulate-worker'
            ? `queue="${ACCUMULATE_QUEUE}"`
            : `queue=~"${refineQueueNames(Number(o.metadata.name.slice(-1))).join('|')}"`;
        expect(query).toContain(selector);
        expect(trigger!.metadata.ignoreNullValues).toBe('false');
      }
    });
  });

  const ruleFiles = listFiles(path.join(deployDir, 'prometheus'), /\.ya?ml$/).filter((f) => !/\.test\.ya?ml$/.test(f));
  it('has rule files', () => expect(ruleFiles.length).toBeGreaterThan(0));
  describe.each(ruleFiles.map((f) => [path.relative(root, f), f]))('%s', (_rel, file) => {
    const [doc] = readYamlDocs(file);
    const rules: Doc[] = (doc?.groups ?? []).flatMap((g: Doc) => g.rules ?? []);
    it('has rules, each with an expr and a severity', () => {
      expect(rules.length).toBeGreaterThan(0);
      for (const r of rules) {
        expect(typeof r.expr).toBe('string');
        if (r.alert) expect(['page', 'warning', 'info']).toContain(r.labels?.severity);
      }
    });
    it('queries only exported metrics', () => {
      const unknown = rules.flatMap((r) =>
        metricNamesIn(r.expr)
          .filter((n) => !exported.has(n))
          .map((n) => `${r.alert ?? r.record}: ${n}`),
      );
      expect(unknown).toEqual([]);
    });
  });

  it('alert unit tests feed only exported series', () => {
    const unknown: string[] = [];
    for (const file of listFiles(path.join(deployDir, 'prometheus'), /\.test\.ya?ml$/)) {
      for (const t of readYamlDocs(file)[0]?.tests ?? []) {
        for (const s of t.input_series ?? []) {
          const name = /^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(s.series)?.[1];
          if (!name || !exported.has(name)) unknown.push(`${path.basename(file)}: ${s.series}`);
        }
      }
    }
    expect(unknown).toEqual([]);
  });

  describe('Kubernetes base (deploy/k8s)', () => {
    const k8sDir = path.join(deployDir, 'k8s');
    const kustomization = readYamlDocs(path.join(k8sDir, 'kustomization.yaml'))[0]!;
    const resources: string[] = kustomization.resources ?? [];
    const docs = resources.flatMap((r) => readYamlDocs(path.join(k8sDir, r)));
    const deployments = docs.filter((d) => d.kind === 'Deployment');
    const envOf = (c: Doc): Record<string, string> =>
      Object.fromEntries((c.env ?? []).filter((e: Doc) => 'value' in e).map((e: Doc) => [e.name, String(e.value)]));

    it('lists every manifest in kustomization.yaml (templates excepted)', () => {
      const manifests = listFiles(k8sDir, /\.ya?ml$/)
        .map((f) => path.relative(k8sDir, f))
        .filter((f) => f !== 'kustomization.yaml' && !f.includes('.example.') && !f.startsWith(`components${path.sep}`));
      expect([...resources].sort()).toEqual(manifests.sort());
    });

    it('ships no Secret with data (templates only)', () => {
      expect(docs.filter((d) => d.kind === 'Secret')).toEqual([]);
    });

    it('has a Deployment per role', () => {
      const roles = deployments.flatMap((d) => d.spec.template.spec.containers.map((c: Doc) => envOf(c).JAM_ROLES));
      for (const role of ['gateway', 'refine-worker', 'attestation', 'accumulate-worker', 'janitor']) expect(roles).toContain(role);
    });

    it.each(deployments.map((d) => [d.metadata.name, d]))('%s is sized, hardened, probed and scraped', (_name, d) => {
      const pod = d.spec.template.spec;
      expect(pod.securityContext?.runAsNonRoot).toBe(true);
      expect(pod.securityContext?.seccompProfile?.type).toBe('RuntimeDefault');
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(typeof pod.terminationGracePeriodSeconds).toBe('number');
      for (const c of pod.containers as Doc[]) {
        for (const k of ['requests', 'limits']) {
          expect(c.resources?.[k]?.cpu).toBeDefined();
          expect(c.resources?.[k]?.memory).toBeDefined();
        }
        expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
        // a non-root pod cannot switch executors to another uid (no CAP_SETUID): JAM_SANDBOX_UID/GID
        // would refuse to boot, so executors run as the pod's uid under its seccomp profile (docs/sandbox.md)
        expect(envOf(c).JAM_SANDBOX_UID).toBeUndefined();
        expect(envOf(c).JAM_SANDBOX_GID).toBeUndefined();
        expect((c.volumeMounts ?? []).map((m: Doc) => m.mountPath)).toContain('/tmp');
        const roles = (envOf(c).JAM_ROLES ?? 'all').split(',').map((r) => r.trim());
        if (roles.includes('gateway') || roles.includes('all')) {
          expect(c.readinessProbe?.httpGet?.path).toBe('/readyz');
          expect(c.livenessProbe?.httpGet?.path).toBe('/healthz');
        } else {
          // Worker roles serve /healthz and /metrics on JAM_METRICS_PORT: probed and scraped there.
          const port = Number(envOf(c).JAM_METRICS_PORT);
          expect(port).toBeGreaterThan(0);
          expect((c.ports ?? []).map((p: Doc) => p.containerPort)).toContain(port);
          expect(c.livenessProbe?.httpGet?.path).toBe('/healthz');
          expect(d.spec.template.metadata.annotations?.['prometheus.io/port']).toBe(String(port));
        }
      }
    });

    describe('component s3-offload', () => {
      const dir = path.join(k8sDir, 'components', 's3-offload');
      const component = readYamlDocs(path.join(dir, 'kustomization.yaml'))[0]!;
      const settingEnv = new Set<string>(Object.values(SETTINGS).map((s) => s.env));

      it('is a Component whose files all exist and are listed', () => {
        expect(component.kind).toBe('Component');
        const listed = [...(component.resources ?? []), ...(component.patches ?? []).map((p: Doc) => p.path)].sort();
        const files = listFiles(dir, /\.ya?ml$/)
          .map((f) => path.basename(f))
          .filter((f) => f !== 'kustomization.yaml');
        expect(listed).toEqual(files.sort());
      });

      it('sets only real, non-secret settings in its ConfigMap, and selects S3 offload', () => {
        const cm = readYamlDocs(path.join(dir, 's3-config.yaml'))[0]!;
        const keys = Object.keys(cm.data);
        expect(keys.filter((k) => !settingEnv.has(k))).toEqual([]);
        const sensitive = new Set<string>(
          Object.values(SETTINGS)
            .filter((s) => s.sensitive)
            .map((s) => s.env),
        );
        expect(keys.filter((k) => sensitive.has(k))).toEqual([]);
        expect(cm.data.JAM_BLOB_STORE).toBe('s3-offload');
        expect(cm.data.JAM_S3_BUCKET).toBeDefined();
      });

      it('patches every jam Deployment of the base (each has exactly one container) with the ConfigMap and the optional jam-s3 Secret', () => {
        const [patch] = component.patches as Doc[];
        const selector = /^app\.kubernetes\.io\/name=(.+)$/.exec(patch!.target.labelSelector)![1];
        expect(patch!.target.kind).toBe('Deployment');
        const targets = deployments.filter((d) => d.metadata.labels?.['app.kubernetes.io/name'] === selector);
        expect(targets).toHaveLength(deployments.length);
        for (const d of targets) {
          expect(d.spec.template.spec.containers).toHaveLength(1);
          expect(Array.isArray(d.spec.template.spec.containers[0].envFrom)).toBe(true);
        }
        const ops = readYamlDocs(path.join(dir, patch!.path))[0] as Doc[];
        expect(ops.map((o) => [o.op, o.path, o.value])).toEqual([
          ['add', '/spec/template/spec/containers/0/envFrom/-', { configMapRef: { name: 'jam-s3-config' } }],
          ['add', '/spec/template/spec/containers/0/envFrom/-', { secretRef: { name: 'jam-s3', optional: true } }],
        ]);
      });
    });

    it('gives each refine worker only its own attester key', () => {
      const refine = deployments.filter((d) => d.spec.template.spec.containers.some((c: Doc) => envOf(c).JAM_ROLES === 'refine-worker'));
      const attesters = Number(docs.find((d) => d.kind === 'ConfigMap' && d.data?.JAM_ATTESTERS)?.data.JAM_ATTESTERS);
      expect(refine).toHaveLength(attesters);
      const seen = new Set<string>();
      for (const d of refine) {
        const pod = d.spec.template.spec;
        const index = envOf(pod.containers[0]).JAM_ATTESTER_INDEXES!;
        expect(index).toMatch(/^\d+$/);
        seen.add(index);
        const keySecrets = (pod.volumes as Doc[]).filter((v) => v.secret).map((v) => v.secret.secretName);
        expect(keySecrets).toEqual([`jam-attester-${index}`]);
        // only its own key file is projected, whatever else the Secret may hold
        const items = (pod.volumes as Doc[]).find((v) => v.secret)!.secret.items as Doc[];
        expect(items.map((i) => i.path)).toEqual([`attester-${index}.pem`]);
      }
      expect(seen.size).toBe(attesters);
      const others = deployments.filter((d) => !refine.includes(d));
      for (const d of others) {
        const secrets = (d.spec.template.spec.volumes ?? []).filter((v: Doc) => v.secret).map((v: Doc) => v.secret.secretName);
        expect(secrets.filter((s: string) => s.startsWith('jam-attester-'))).toEqual([]);
      }
    });
  });
});
