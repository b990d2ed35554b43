// The dump directory's file names (mydumper's layout, shared by Dump and Load):
//   metadata                      snapshot position, written last (its presence marks a whole dump)
//   <db>-schema-create.sql        CREATE DATABASE
//   <db>.<table>-schema.sql       CREATE TABLE
//   <db>.<table>-schema-keys.sql  (ours) a large table's plain secondary keys, one per line,
//                                 added once its rows are in (see keys.ts)
//   <db>.<table>.<NNNNNN>.sql     data: multi-row INSERTs
//   <db>.<table>.<NNNNNN>.tsv     data (ours): a line with the column list, then tab-separated
//                                 rows for LOAD DATA LOCAL INFILE (see rowsql.ts encodeTsvRow)
// Names are percent-encoded where they hold '.', '/', '%' or control characters, so every file
// name parses back to exactly one (db, table).

export type DumpFile =
  | { kind: 'schema-create'; db: string }
  | { kind: 'table-schema'; db: string; table: string }
  | { kind: 'table-keys'; db: string; table: string }
  | { kind: 'data'; db: string; table: string; index: number; format: 'sql' | 'tsv' };

export const METADATA_FILE = 'metadata';

export function encodeName(name: string): string {
  return name.replace(
    // eslint-disable-next-line no-control-regex
    /[\x00-\x1f%./\\]/g,
    (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'),
  );
}

export function decodeName(enc: string): string {
  return enc.replace(/%([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

export function schemaCreateFile(db: string): string {
  return `${encodeName(db)}-schema-create.sql`;
}

export function tableSchemaFile(db: string, table: string): string {
  return `${encodeName(db)}.${encodeName(table)}-schema.sql`;
}

export function tableKeysFile(db: string, table: string): string {
  return `${encodeName(db)}.${encodeName(table)}-schema-keys.sql`;
}

export function dataFile(db: string, table: string, index: number, format: 'sql' | 'tsv' = 'sql'): string {
  return `${encodeName(db)}.${encodeName(table)}.${String(index).padStart(6, '0')}.${format}`;
}

/** What a file in a dump directory is, or undefined for files that are not part of a dump. */
export function parseDumpFile(name: string): DumpFile | undefined {
  let m = /^([^.]+)-schema-create\.sql$/.exec(name);
  if (m) return { kind: 'schema-create', db: decodeName(m[1]) };
  m = /^([^.]+)\.([^.]+)-schema\.sql$/.exec(name);
  if (m) return { kind: 'table-schema', db: decodeName(m[1]), table: decodeName(m[2]) };
  m = /^([^.]+)\.([^.]+)-schema-keys\.sql$/.exec(name);
  if (m) return { kind: 'table-keys', db: decodeName(m[1]), table: decodeName(m[2]) };
  m = /^([^.]+)\.([^.]+)\.(\d+)\.(sql|tsv)$/.exec(name);
  if (m)
    return {
      kind: 'data',
      db: decodeName(m[1]),
      table: decodeName(m[2]),
      index: Number(m[3]),
      format: m[4] as 'sql' | 'tsv',
    };
  return undefined;
}
