// Rows of hand-written statements (`tx.execute(sql\`…\`)`) as the schema's select types.
//
// The webhook's hot path writes its statements as SQL templates instead of drizzle's query
// builders: building a builder query costs tens to hundreds of microseconds of CPU (a select
// with a join and FOR UPDATE ≈ 180 µs, an update returning every column ≈ 140 µs on this
// machine) against a few for a template, and on the hot path that was about a third of the app's
// CPU per event (docs/benchmarks.md). Such rows come back with the database's column names and
// the driver's values (timestamps as text); `rowMapper(table)` maps them with drizzle's own
// column mappers, built once per table from the schema, so a new column needs no change here.
import { getTableColumns, type InferSelectModel, type Table } from "drizzle-orm";

type Row = Record<string, unknown>;

/** Maps a raw row (database column names, driver values) to the table's select type. */
export function rowMapper<T extends Table>(table: T): (row: Row) => InferSelectModel<T> {
  const columns = Object.entries(getTableColumns(table)).map(([key, column]) => ({ key, name: column.name, column }));
  return (row) => {
    const out: Row = {};
    for (const { key, name, column } of columns) {
      const v = row[name];
      out[key] = v === null || v === undefined ? null : column.mapFromDriverValue(v);
    }
    return out as InferSelectModel<T>;
  };
}
