/**
 * The TypeORM entities match the schema the migrations build. The product never synchronizes
 * (docs/architecture.md section 4), so an entity and its migration can drift silently: a column
 * renamed in one only, a nullable column the entity says is required, an index the entity
 * declares but no migration creates. This runs every migration on a fresh database in the real
 * PostgreSQL and compares, table by table, the entity metadata with the catalog: tables, columns
 * (name, type, array-ness, nullability, primary key) in both directions, and every index and
 * unique constraint the entities declare (same columns, same uniqueness).
 */
import type { DataSource } from 'typeorm';
import { PACKAGE_STATUSES } from '@jam/domain';
import { PERSISTENCE_ENTITIES } from '@jam/persistence';
import { createMigratedDatabase, type MigratedTestDatabase } from '../../../test/support/database';

/** One column as the database has it: `type` is PostgreSQL's name (`integer`, `bytea`, `text[]`, ...). */
interface DbColumn {
  table: string;
  column: string;
  type: string;
  nullable: boolean;
}

/** One index (or unique/primary constraint's index) as the database has it. */
interface DbIndex {
  table: string;
  name: string;
  columns: string[];
  unique: boolean;
  primary: boolean;
}

async function dbColumns(ds: DataSource): Promise<DbColumn[]> {
  const rows: { table: string; column: string; type: string; nullable: boolean }[] = await ds.query(
    `SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, NULL) AS type, NOT a.attnotnull AS nullable
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY 1, 2`,
  );
  return rows;
}

async function dbIndexes(ds: DataSource): Promise<DbIndex[]> {
  const rows: { table: string; name: string; columns: string[] | string; unique: boolean; primary: boolean }[] = await ds.query(
    `SELECT t.relname AS table, i.relname AS name, x.indisunique AS unique, x.indisprimary AS primary,
            array_agg(a.attname ORDER BY k.ord) AS columns
       FROM pg_index x
       JOIN pg_class i ON i.oid = x.indexrelid
       JOIN pg_class t ON t.oid = x.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
       CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
      WHERE n.nspname = 'public'
      GROUP BY 1, 2, 3, 4`,
  );
  // node-postgres returns name[] as a string when it has no parser for the type.
  return rows.map((r) => ({ ...r, columns: Array.isArray(r.columns) ? r.columns : r.columns.replace(/^\{|\}$/g, '').split(',') }));
}

/** PostgreSQL's name of an entity column's type, as `format_type` prints it. */
function entityType(ds: DataSource, column: DataSource['entityMetadatas'][number]['columns'][number]): string {
  const base = ds.driver.normalizeType(column);
  return column.isArray ? `${base}[]` : base;
}

describe('entities match the migrations (real PostgreSQL)', () => {
  let db: MigratedTestDatabase | undefined;
  let ds: DataSource;
  let columns: DbColumn[];
  let indexes: DbIndex[];

  beforeAll(async () => {
    db = await createMigratedDatabase('schema', { poolSize: 2 });
    ds = db.dataSource;
    columns = await dbColumns(ds);
    indexes = await dbIndexes(ds);
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('has one entity per table the migrations create (besides TypeORM’s own)', () => {
    expect(ds.entityMetadatas).toHaveLength(PERSISTENCE_ENTITIES.length);
    const tables = [...new Set(columns.map((c) => c.table))].filter((t) => t !== 'migrations').sort();
    expect(ds.entityMetadatas.map((m) => m.tableName).sort()).toEqual(tables);
  });

  it('maps every column with the same name, type and nullability, and no more or fewer', () => {
    const fromEntities = ds.entityMetadatas
      .flatMap((m) => m.columns.map((c) => `${m.tableName}.${c.databaseName}: ${entityType(ds, c)}${c.isNullable ? ' null' : ' not null'}`))
      .sort();
    const fromDb = columns
      .filter((c) => c.table !== 'migrations')
      .map((c) => `${c.table}.${c.column}: ${c.type}${c.nullable ? ' null' : ' not null'}`)
      .sort();
    expect(fromEntities).toEqual(fromDb);
  });

  it('has the primary key each entity declares', () => {
    for (const m of ds.entityMetadatas) {
      const pk = indexes.find((i) => i.table === m.tableName && i.primary);
      expect({ table: m.tableName, primary: pk?.columns.slice().sort() }).toEqual({
        table: m.tableName,
        primary: m.primaryColumns.map((c) => c.databaseName).sort(),
      });
    }
  });

  it('has every index and unique constraint the entities declare, on the same columns', () => {
    const declared = ds.entityMetadatas.flatMap((m) => [
      ...m.indices.map((i) => ({ table: m.tableName, columns: i.columns.map((c) => c.databaseName), unique: i.isUnique })),
      ...m.uniques.map((u) => ({ table: m.tableName, columns: u.columns.map((c) => c.databaseName), unique: true })),
    ]);
    expect(declared.length).toBeGreaterThan(0);
    const missing = declared.filter((d) => !indexes.some((i) => i.table === d.table && i.unique === d.unique && i.columns.join(',') === d.columns.join(',')));
    expect(missing).toEqual([]);
  });

  it('allows in work_package.status exactly the statuses of the package lifecycle', async () => {
    const [row]: { def: string }[] = await ds.query(
      `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'work_package'::regclass AND conname = 'work_package_status_check'`,
    );
    const allowed = [...(row?.def ?? '').matchAll(/'([a-z_]+)'::text/g)].map((m) => m[1]);
    expect(allowed.sort()).toEqual([...PACKAGE_STATUSES].sort());
  });
});
