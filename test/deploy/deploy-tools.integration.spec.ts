import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ACCUMULATE_QUEUE, refineQueueNames } from '@jam/queue-contracts';

/**
 * deploy/ checked with the operators' own tools, offline: `promtool` (Debian package
 * `prometheus`) checks and unit-tests the alert rules, `yamllint` (Debian `yamllint`) lints with
 * deploy/.yamllint.yaml, and `kubectl kustomize` renders the base and every component, whose
 * output is then checked (NetworkPolicies admit the metrics scrapes). .ci/run installs the Debian
 * packages; a missing tool fails here with the package to install, never skips.
 */

const root = path.resolve(__dirname, '..', '..');
const deployDir = path.join(root, 'deploy');

type Doc = Record<string, any>;

/** Runs a tool from PATH in the repository root; fails the test with the install hint when absent. */
export function runTool(cmd: string, args: string[], install: string, cwd = root): { status: number | null; out: string } {
  const which = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  if (which.status !== 0) throw new Error(`${cmd} is not installed: ${install} (.ci/run installs it)`);
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** `kubectl kustomize <dir>` parsed into objects. */
export function kustomize(dir: string): Doc[] {
  const r = runTool('kubectl', ['kustomize', dir], 'install kubectl (it bundles kustomize)');
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${r.out}`);
  return parseAllDocuments(r.out)
    .map((d) => d.toJSON() as Doc)
    .filter((d) => d !== null);
}

/** Renders the base with the given components through a throwaway overlay. */
export function kustomizeWith(components: string[]): Doc[] {
  const overlay = fs.mkdtempSync(path.join(os.tmpdir(), 'jam-overlay-'));
  try {
    const rel = (p: string) => path.relative(overlay, p);
    fs.writeFileSync(
      path.join(overlay, 'kustomization.yaml'),
      `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [${rel(path.join(deployDir, 'k8s'))}]\ncomponents: [${components.map((c) => rel(path.join(deployDir, 'k8s', 'components', c))).join(', ')}]\n`,
    );
    return kustomize(overlay);
  } finally {
    fs.rmSync(overlay, { recursive: true, force: true });
  }
}

const matches = (selector: Doc | undefined, labels: Record<string, string>): boolean =>
  Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v) &&
  (selector?.matchExpressions ?? []).every((e: Doc) =>
    e.operator === 'In'
      ? e.values.includes(labels[e.key])
      : e.operator === 'NotIn'
        ? !e.values.includes(labels[e.key])
        : e.operator === 'Exists'
          ? e.key in labels
          : !(e.key in labels),
  );

/**
 * Whether the NetworkPolicies admit TCP `port` into a pod with `podLabels` from a pod in a
 * namespace labelled `nsLabels` (Kubernetes semantics: allowed if no policy selects the pod for
 * Ingress, else if any ingress rule of a selecting policy admits it).
 */
export function ingressAllowed(policies: Doc[], podLabels: Record<string, string>, nsLabels: Record<string, string>, port: number): boolean {
  const selecting = policies.filter((p) => (p.spec.policyTypes ?? ['Ingress']).includes('Ingress') && matches(p.spec.podSelector, podLabels));
  if (selecting.length === 0) return true;
  return selecting.some((p) =>
    (p.spec.ingress ?? []).some((rule: Doc) => {
      const portOk = !rule.ports || rule.ports.some((q: Doc) => (q.protocol ?? 'TCP') === 'TCP' && (q.port === undefined || q.port === port));
      const fromOk =
        !rule.from || rule.from.some((f: Doc) => f.namespaceSelector !== undefined && f.podSelector === undefined && matches(f.namespaceSelector, nsLabels));
      return portOk && fromOk;
    }),
  );
}

describe('deploy/ with promtool, yamllint and kustomize', () => {
  const promtool = (...args: string[]) => runTool('promtool', args, 'apt-get install prometheus');

  it('promtool accepts every rule file', () => {
    const files = fs.readdirSync(path.join(deployDir, 'prometheus')).filter((f) => /\.ya?ml$/.test(f) && !/\.test\.ya?ml$/.test(f));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const r = promtool('check', 'rules', path.join('deploy', 'prometheus', f));
      expect({ f, ...r }).toMatchObject({ f, status: 0 });
    }
  });

  it('the alert rules pass their promtool unit tests', () => {
    const files = fs.readdirSync(path.join(deployDir, 'prometheus')).filter((f) => /\.test\.ya?ml$/.test(f));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const r = promtool('test', 'rules', path.join('deploy', 'prometheus', f));
      expect({ f, ...r }).toMatchObject({ f, status: 0 });
      expect(r.out).toContain('SUCCESS');
    }
  });

  it('yamllint passes with the project config', () => {
    const r = runTool('yamllint', ['-c', 'deploy/.yamllint.yaml', '-f', 'parsable', 'deploy/'], 'apt-get install yamllint');
    expect(r.out.trim()).toBe('');
    expect(r.status).toBe(0);
  });

  describe('kubectl kustomize deploy/k8s', () => {
    const docs = kustomize(path.join(deployDir, 'k8s'));
    const policies = docs.filter((d) => d.kind === 'NetworkPolicy');
    const deployments = docs.filter((d) => d.kind === 'Deployment');

    it('renders every role into namespace jam', () => {
      expect(deployments.length).toBeGreaterThanOrEqual(5);
      for (const d of docs.filter((x) => x.kind !== 'Namespace')) expect(d.metadata.namespace).toBe('jam');
    });

    it("admits Prometheus from the monitoring namespace to every pod's scrape port, and nobody else to worker ports", () => {
      const monitoring = { 'kubernetes.io/metadata.name': 'monitoring' };
      const other = { 'kubernetes.io/metadata.name': 'default' };
      for (const d of deployments) {
        const labels = d.spec.template.metadata.labels as Record<string, string>;
        const port = Number(d.spec.template.metadata.annotations?.['prometheus.io/port']);
        expect({ name: d.metadata.name, port }).toEqual({ name: d.metadata.name, port: expect.any(Number) });
        expect({ name: d.metadata.name, scrape: ingressAllowed(policies, labels, monitoring, port) }).toEqual({ name: d.metadata.name, scrape: true });
        if (labels['app.kubernetes.io/component'] !== 'gateway') expect(ingressAllowed(policies, labels, other, port)).toBe(false);
      }
    });
  });

  describe('component kube-prometheus-stack', () => {
    const docs = kustomizeWith(['kube-prometheus-stack']);
    const of = (kind: string) => docs.filter((d) => d.kind === kind);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sync = require(path.join(root, 'scripts', 'sync-deploy.js')) as { render: () => Record<string, string> };

    it("puts everything in namespace jam (components apply after the base's namespace)", () => {
      expect(docs.filter((d) => d.kind !== 'Namespace' && d.metadata.namespace !== 'jam').map((d) => `${d.kind}/${d.metadata.name}`)).toEqual([]);
    });

    it('its generated files match their sources (node scripts/sync-deploy.js)', () => {
      for (const [file, content] of Object.entries(sync.render()))
        expect({ file, same: fs.existsSync(file) && fs.readFileSync(file, 'utf8') === content }).toEqual({ file, same: true });
    });

    it('ships the alert rules and the dashboard exactly as deploy/ has them', () => {
      const [rule] = of('PrometheusRule');
      const source = parseAllDocuments(fs.readFileSync(path.join(deployDir, 'prometheus', 'jam-alerts.yml'), 'utf8'))[0]!.toJSON() as Doc;
      expect(rule!.spec.groups).toEqual(source.groups);
      const dash = of('ConfigMap').find((c) => c.metadata.labels?.grafana_dashboard === '1');
      expect(dash?.metadata.name).toBe('jam-grafana-dashboard');
      expect(dash!.data['jam-overview.json']).toBe(fs.readFileSync(path.join(deployDir, 'grafana', 'jam-overview.json'), 'utf8'));
    });

    it('a ServiceMonitor reaches every pod on the port it serves /metrics on, as a job named jam-*', () => {
      const services = of('Service');
      for (const d of of('Deployment')) {
        const pod = d.spec.template;
        const labels = pod.metadata.labels as Record<string, string>;
        const want = Number(pod.metadata.annotations['prometheus.io/port']);
        const reached = of('ServiceMonitor').flatMap((sm) =>
          services
            .filter((svc) => matches(sm.spec.selector, svc.metadata.labels ?? {}) && matches({ matchLabels: svc.spec.selector }, labels))
            .flatMap((svc) =>
              (sm.spec.endpoints as Doc[]).flatMap((ep) => {
                const port = (svc.spec.ports as Doc[]).find((p) => p.name === ep.port);
                if (!port) return [];
                const target =
                  typeof port.targetPort === 'number'
                    ? port.targetPort
                    : pod.spec.containers.flatMap((c: Doc) => c.ports ?? []).find((p: Doc) => p.name === port.targetPort)?.containerPort;
                return target === want && ep.path === '/metrics' ? [svc.metadata.name as string] : [];
              }),
            ),
        );
        expect({ deployment: d.metadata.name, reached: reached.length > 0 }).toEqual({ deployment: d.metadata.name, reached: true });
        for (const job of reached) expect(job).toMatch(/^jam-/);
      }
    });
  });

  describe('component keda-autoscaling', () => {
    const docs = kustomizeWith(['kube-prometheus-stack', 'keda-autoscaling']);
    const deployments = docs.filter((d) => d.kind === 'Deployment');
    const scaled = docs.filter((d) => d.kind === 'ScaledObject');

    it("scales each refine worker on its own attester's queue and the accumulate workers on theirs; KEDA owns their replicas", () => {
      expect(scaled).toHaveLength(4);
      for (const so of scaled) {
        const target = deployments.find((d) => d.metadata.name === so.spec.scaleTargetRef.name);
        expect(target).toBeDefined();
        expect(target!.metadata.namespace).toBe(so.metadata.namespace);
        expect(target!.spec.replicas).toBeUndefined();
        const env = Object.fromEntries((target!.spec.template.spec.containers[0].env as Doc[]).filter((e) => 'value' in e).map((e) => [e.name, e.value]));
        const selector =
          env.JAM_ROLES === 'refine-worker' ? `queue=~"${refineQueueNames(Number(env.JAM_ATTESTER_INDEXES)).join('|')}"` : `queue="${ACCUMULATE_QUEUE}"`;
        expect(env.JAM_ROLES).toMatch(/^(refine-worker|accumulate-worker)$/);
        expect(so.spec.triggers[0].metadata.query).toContain(selector);
        expect(so.spec.triggers[0].metadata.query).toContain(`namespace="${so.metadata.namespace}"`);
        expect(so.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
        expect(so.spec.maxReplicaCount).toBeGreaterThan(so.spec.minReplicaCount);
      }
      // The other roles keep their fixed replica counts.
      for (const d of deployments.filter((x) => !scaled.some((so) => so.spec.scaleTargetRef.name === x.metadata.name)))
        expect(d.spec.replicas).toBeGreaterThanOrEqual(1);
    });
  });
});
