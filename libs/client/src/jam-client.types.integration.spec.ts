/**
 * The client's public wire types against the HTTP contract's schemas (`@jam/http-contract`): what
 * the schemas say the gateway answers must be assignable to the type the client hands its caller,
 * so a contract change that the client's types do not follow fails the typecheck. The runtime half
 * parses the fake server's answers (libs/client/src/testing) with the same schemas.
 */
import type { z } from 'zod';
import {
  ROUTES,
  attestationAnswerSchema,
  dryRunAnswerSchema,
  packageInfoSchema,
  pageSchema,
  putPreimageAnswerSchema,
  routePath,
  serviceSchema,
  storageEntrySchema,
  submitPackageAnswerSchema,
} from '@jam/http-contract';
import type { PackageInfo, Page, Service, StorageEntry, SubmitPackageResult, DryRunResult, PutPreimageResult } from './jam-client.types';
import { fakeJam, startFakeServer, type FakeServer } from './testing/fake-jam-server';
import { JamClient } from './jam.client';

/** Compile-time: `Wire` (what the contract says is sent) can be used where the client's `Client` type is. */
type Accepts<Client, Wire extends Client> = Wire;
type _Checks = [
  Accepts<PackageInfo, z.output<typeof packageInfoSchema>>,
  Accepts<Service, z.output<typeof serviceSchema>>,
  Accepts<StorageEntry, z.output<typeof storageEntrySchema>>,
  Accepts<SubmitPackageResult, z.output<typeof submitPackageAnswerSchema>>,
  Accepts<DryRunResult, z.output<typeof dryRunAnswerSchema>>,
  Accepts<Omit<PutPreimageResult, 'created'>, z.output<typeof putPreimageAnswerSchema>>,
  Accepts<Page<Service>, z.output<ReturnType<typeof pageSchema<typeof serviceSchema>>>>,
  Accepts<{ status: 'queued' }, z.output<typeof attestationAnswerSchema>>,
];

describe('client wire types follow the HTTP contract', () => {
  let server: FakeServer;
  let client: JamClient;

  beforeAll(async () => {
    server = await startFakeServer(fakeJam().handler);
    client = new JamClient({ baseUrl: server.url });
  });

  afterAll(async () => {
    await server.close();
  });

  it('gets answers from the fake server that the contract schemas accept', async () => {
    const code = new TextEncoder().encode('fake code');
    const put = await client.putPreimage(code);
    expect(putPreimageAnswerSchema.parse({ hash: put.hash, length: put.length })).toEqual({ hash: put.hash, length: code.length });
    const service = await client.createService({ code_hash: put.hash });
    expect(serviceSchema.strict().parse(service)).toEqual(service);
    expect(pageSchema(serviceSchema).parse(await client.listServices()).items).toContainEqual(service);
    // The request the client sent went to the contract's path.
    expect(server.requests.map((r) => `${r.method} ${r.url.pathname}`)).toEqual([
      `PUT ${routePath(ROUTES.putPreimage, { hash: put.hash })}`,
      `POST ${routePath(ROUTES.createService, {})}`,
      `GET ${routePath(ROUTES.listServices, {})}`,
    ]);
  });
});
