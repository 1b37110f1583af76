import { readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeWorkReport, engineAuthOutput, initHashing, reportHash, toHex, type EngineIdentity } from '@jam/domain';
import { COST_TABLE_VERSION, ENGINE_IDENTITY, PVM_ENGINE_IDENTITY } from '@jam/sandbox';

describe('engine identity', () => {
  beforeAll(() => initHashing());

  it('carries the cost table version, and the report hash covers it through auth_output', () => {
    expect(ENGINE_IDENTITY.cost_table_version).toBe(COST_TABLE_VERSION);
    expect(Object.isFrozen(ENGINE_IDENTITY)).toBe(true);
    const report = decodeWorkReport(new Uint8Array(readFileSync(path.resolve(__dirname, '../fixtures/jam-vectors/codec/tiny/work_report.bin'))));
    const hashWith = (engine: EngineIdentity) => toHex(reportHash({ ...report, auth_output: engineAuthOutput(engine) }));
    const base = hashWith(ENGINE_IDENTITY);
    expect(hashWith({ ...ENGINE_IDENTITY })).toBe(base);
    expect(hashWith({ ...ENGINE_IDENTITY, cost_table_version: COST_TABLE_VERSION + 1 })).not.toBe(base);
    expect(hashWith({ ...ENGINE_IDENTITY, version: `${ENGINE_IDENTITY.version}+1` })).not.toBe(base);
    expect(hashWith({ ...ENGINE_IDENTITY, name: `${ENGINE_IDENTITY.name}-x` })).not.toBe(base);
  });

  it('is the identity the engine docs state (they drifted once: gas.md still said 0.3.0 on 0.4.0)', () => {
    const doc = (name: string) => readFileSync(path.resolve(__dirname, '../../docs', name), 'utf8');
    const { name, version, cost_table_version: table } = ENGINE_IDENTITY;
    expect(doc('service-abi.md').split('\n')[0]).toBe(`# Service ABI (engine \`${name}\` ${version}, cost table ${table})`);
    expect(doc('sandbox.md').split('\n')[0]).toContain(`engine \`${name}\` ${version}, cost table v${table})`);
    expect(doc('gas.md')).toContain(`# Gas metering (cost table version ${table})`);
    expect(doc('gas.md')).toContain(`\`ENGINE_IDENTITY = { name: '${name}', version: '${version}', cost_table_version: ${table} }\``);
  });

  it('the PVM engine has its own identity, which the docs state', () => {
    const doc = (name: string) => readFileSync(path.resolve(__dirname, '../../docs', name), 'utf8');
    const { name, version, cost_table_version: table } = PVM_ENGINE_IDENTITY;
    expect(Object.isFrozen(PVM_ENGINE_IDENTITY)).toBe(true);
    expect(name).not.toBe(ENGINE_IDENTITY.name);
    expect(doc('service-abi.md')).toContain(`## PVM services (engine \`${name}\` ${version.split('+')[0]}, cost table ${table})`);
    expect(doc('service-abi.md')).toContain(`\`PVM_ENGINE_IDENTITY = { name: '${name}', version:\n'${version}', cost_table_version: ${table} }\``);
    expect(doc('sandbox.md')).toContain(`\`${name}\` ${version.split('+')[0]} (cost table ${table})`);
  });
});
