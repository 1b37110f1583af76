import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';

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
  return parseAllDocuments(r.out).map((d) => d.toJSON() as Doc).filter((d) => d !== null);
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
    e.operator === 'In' ? e.values.includes(labels[e.key]) : e.operator === 'NotIn' ? !e.values.includes(labels[e.key]) : e.operator === 'Exists' ? e.key in labels : !(e.key in labels),
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
      const fromOk = !rule.from || rule.from.some((f: Doc) => f.namespaceSelector !== undefined && f.podSelector === undefined && matches(f.namespaceSelector, nsLabels));
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

    it('admits Prometheus from the monitoring namespace to every pod\'s scrape port, and nobody else to worker ports', () => {
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
});
