// What a query runs on: the database itself or a transaction opened by a service. Lives in db/ so
// queries and dialects never import services/ (services open transactions; db/ only runs SQL).

import type { Kysely, Transaction } from 'kysely';
import type { Dialect } from './dialects/dialect.js';
import type { Database } from './schema.js';

export type Conn = Kysely<Database> | Transaction<Database>;

/** A connection and the dialect it speaks: what every function in db/queries/ takes. */
export interface Q {
  readonly db: Conn;
  readonly dialect: Dialect;
}
