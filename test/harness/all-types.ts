// A table with a column of every type MariaDB has, and rows with extremes, zeros, NULLs, emoji,
// binary data, quotes and backslashes: shared by the binlog and the full-migration tests.

export const COLUMNS: [name: string, type: string][] = [
  ['id', 'INT PRIMARY KEY'],
  ['ti', 'TINYINT'],
  ['tiu', 'TINYINT UNSIGNED'],
  ['si', 'SMALLINT'],
  ['siu', 'SMALLINT UNSIGNED'],
  ['mi', 'MEDIUMINT'],
  ['miu', 'MEDIUMINT UNSIGNED'],
  ['i', 'INT'],
  ['iu', 'INT UNSIGNED'],
  ['bi', 'BIGINT'],
  ['biu', 'BIGINT UNSIGNED'],
  ['f', 'FLOAT'],
  ['d', 'DOUBLE'],
  ['dec1', 'DECIMAL(65,30)'],
  ['dec2', 'DECIMAL(10,0)'],
  ['dec3', 'DECIMAL(7,3) UNSIGNED'],
  ['b1', 'BIT(1)'],
  ['b64', 'BIT(64)'],
  ['y', 'YEAR'],
  ['dt', 'DATE'],
  ['t0', 'TIME'],
  ['t6', 'TIME(6)'],
  ['t3', 'TIME(3)'],
  ['dt0', 'DATETIME'],
  ['dt6', 'DATETIME(6)'],
  ['dt2', 'DATETIME(2)'],
  ['ts0', 'TIMESTAMP NULL'],
  ['ts6', 'TIMESTAMP(6) NULL'],
  ['c', 'CHAR(10)'],
  ['cl', 'CHAR(100)'],
  ['vc', 'VARCHAR(300)'],
  ['vlat', 'VARCHAR(20) CHARACTER SET latin1'],
  ['bin', 'BINARY(4)'],
  ['vbin', 'VARBINARY(300)'],
  ['tb', 'TINYBLOB'],
  ['bl', 'BLOB'],
  ['mb', 'MEDIUMBLOB'],
  ['lb', 'LONGBLOB'],
  ['tt', 'TINYTEXT'],
  ['tx', 'TEXT'],
  ['mt', 'MEDIUMTEXT'],
  ['lt', 'LONGTEXT'],
  ['e', "ENUM('a','b','c d')"],
  ['st', "SET('x','y','z')"],
  ['j', 'JSON'],
  ['g', 'GEOMETRY'],
  ['pt', 'POINT'],
];

export const ROWS = [
  // extremes and tricky values
  `(1, -128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295,
    -9223372036854775808, 18446744073709551615, 1.5, -2.2250738585072014e-308,
    '-12345678901234567890123456789012345.123456789012345678901234567890', 9999999999, 0.001,
    b'1', b'1111111111111111111111111111111111111111111111111111111111111111', 1901, '1000-01-01',
    '-838:59:59', '838:59:58.999999', '-00:00:01.500', '1000-01-01 00:00:00', '9999-12-31 23:59:59.999999',
    '2020-02-29 12:34:56.78', '1970-01-01 00:00:01', '2038-01-19 03:14:07.999999',
    'abc', REPEAT('é', 100), REPEAT('x😀', 100), 'h\\xe9llo', x'6162', x'00ff00',
    x'00', x'0001ff', REPEAT(x'ab', 70000), REPEAT('z', 1000),
    'it''s "quoted" \\\\ back', 'emoji 😀🎉', REPEAT('m', 70000), 'long',
    'c d', 'x,z', '{"a": [1, 2.5, "s"], "b": null}', ST_GeomFromText('LINESTRING(0 0,1 1,2 3)'), POINT(1.5, -2))`,
  // zeros and empties
  `(2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b'0', b'0', 2155, '9999-12-31', '00:00:00', '00:00:00.000001',
    '00:00:00', '2000-01-01 00:00:00', '2000-01-01 00:00:00.000001', '2000-01-01 00:00:00', NULL, NULL,
    '', '', '', '', '', '', '', '', '', '', '', '', '', '', 'a', '', '[]', NULL, NULL)`,
  // all NULL but the key
  `(3${', NULL'.repeat(COLUMNS.length - 1)})`,
];

/** CREATE TABLE for `db.table` with every column type. */
export function allTypesTable(db: string, table: string): string {
  return `CREATE TABLE \`${db}\`.\`${table}\` (${COLUMNS.map(([n, t]) => `\`${n}\` ${t}`).join(', ')})`;
}
