// A phone built on the real WatermelonDB (its LokiJS adapter, in memory, in Node) that syncs
// against a fieldsales server with the stock synchronize() and the two fetch calls of
// WatermelonDB's "Sync > Backend" docs. Driven by tests/sync/test_watermelondb.py:
//
//   node phone.js '<json>'  ->  prints one JSON object (what the phone saw) on stdout
//
// The scenario is a list of steps run in order against one phone; its database survives an
// app upgrade (`open` with a higher version: WatermelonDB's own schemaMigrations run, and the
// next sync is a migration sync with migrationsEnabledAtVersion: 1).
const { Database, Model, appSchema, tableSchema } = require('@nozbe/watermelondb')
const LokiJSAdapter = require('@nozbe/watermelondb/adapters/lokijs').default
const { synchronize } = require('@nozbe/watermelondb/sync')
const { schemaMigrations, createTable, addColumns } = require('@nozbe/watermelondb/Schema/migrations')
const { LokiMemoryAdapter } = require('lokijs')
const { setGenerator } = require('@nozbe/watermelondb/utils/common/randomId')
const logger = require('@nozbe/watermelondb/utils/common/logger').default

logger.silence()  // WatermelonDB's own chatter would mix with the JSON on stdout

const s = (name, extra = {}) => ({ name, type: 'string', ...extra })
const n = (name, extra = {}) => ({ name, type: 'number', ...extra })
const b = (name) => ({ name, type: 'boolean', isOptional: true })
const opt = { isOptional: true }

// The contract's tables (docs/sync-contract.md, "Tables"), as a React Native app declares them.
const V1_TABLES = [
  tableSchema({ name: 'customers', columns: [s('name'), s('address', opt), n('latitude'), n('longitude'),
    n('geofence_radius_m'), s('segment', opt), s('phone', opt), s('kind')] }),
  tableSchema({ name: 'products', columns: [s('sku'), s('name'), s('unit'), n('unit_price'), n('stock_on_hand')] }),
  tableSchema({ name: 'tasks', columns: [s('customer_id', opt), s('title'), s('description', opt), s('category'),
    n('due_at', opt), s('status'), n('completed_at', opt), s('completion_note', opt), n('latitude', opt),
    n('longitude', opt)] }),
  tableSchema({ name: 'visits', columns: [s('customer_id'), n('check_in_at'), n('check_in_latitude'),
    n('check_in_longitude'), n('check_in_accuracy_m', opt), n('check_out_at', opt), n('check_out_latitude', opt),
    n('check_out_longitude', opt), s('outcome', opt), s('notes', opt), b('verified'), n('distance_m', opt)] }),
  tableSchema({ name: 'location_pings', columns: [n('recorded_at'), n('latitude'), n('longitude'),
    n('accuracy_m', opt), n('speed_mps', opt), n('battery_pct', opt)] }),
  tableSchema({ name: 'feedback', columns: [s('customer_id'), s('visit_id', opt), n('recorded_at'), n('rating', opt),
    s('category'), s('product_id', opt), n('requested_quantity', opt), s('comment', opt)] }),
  tableSchema({ name: 'orders', columns: [s('customer_id'), s('visit_id', opt), n('ordered_at'),
    n('requested_delivery_at', opt), s('notes', opt), s('status', opt), n('promised_dispatch_at', opt)] }),
  tableSchema({ name: 'order_lines', columns: [s('order_id'), s('product_id'), n('quantity'), n('unit_price'),
    n('delivered_quantity', opt)] }),
]

// Schema version 2 ("Schema version 2: planned visits"): a new table and a new visits column.
const PLANNED_VISITS = tableSchema({ name: 'planned_visits', columns: [s('customer_id'), s('planned_date'),
  n('sequence'), n('planned_arrival_at', opt), n('planned_duration_s', opt), s('reason'), s('status'),
  s('skip_reason', opt), s('visit_id', opt)] })
const PLANNED_VISIT_ID = s('planned_visit_id', opt)

function schemaOf(version) {
  if (version === 1) return appSchema({ version: 1, tables: V1_TABLES })
  const tables = V1_TABLES.map((t) => (t.name === 'visits'
    ? tableSchema({ name: 'visits', columns: [...t.columnArray, PLANNED_VISIT_ID] }) : t))
  return appSchema({ version: 2, tables: [...tables, PLANNED_VISITS] })
}

const migrations = schemaMigrations({
  migrations: [{
    toVersion: 2,
    steps: [
      createTable({ name: 'planned_visits', columns: PLANNED_VISITS.columnArray }),
      addColumns({ table: 'visits', columns: [PLANNED_VISIT_ID] }),
    ],
  }],
})

const MODELS = ['customers', 'products', 'tasks', 'visits', 'location_pings', 'feedback', 'orders',
  'order_lines', 'planned_visits'].map((table) => class extends Model { static table = table })

let counter = 0
setGenerator(() => `wm${process.pid}x${(counter++).toString(36).padStart(6, '0')}`)

class Phone {
  constructor(config) {
    this.config = config
    this.loki = new LokiMemoryAdapter()  // the phone's storage: it outlives an app upgrade
    this.database = null
    this.version = null
    this.syncs = []
  }

  async open(version) {
    if (this.database) await this.close()
    const adapter = new LokiJSAdapter({
      // The first app version shipped without migrations; version 2 brings the first one.
      schema: schemaOf(version), migrations: version > 1 ? migrations : undefined, dbName: 'fieldsales-phone', useWebWorker: false,
      useIncrementalIndexedDB: false, _testLokiAdapter: this.loki,
      onSetUpError: (error) => { throw error },
      extraLokiOptions: { autosave: false },
    })
    // The app's models are those of its schema (version 1 has no planned visits).
    const modelClasses = MODELS.filter((m) => schemaOf(version).tables[m.table])
    this.database = new Database({ adapter, modelClasses })
    this.version = version
    await this.database.get('customers').query().fetchCount()  // opens it: migrations run now
  }

  async close() {
    // Loki keeps its data in the memory adapter only when it saves: save before the upgrade.
    const driver = this.database.adapter.underlyingAdapter._driver  // LokiJSAdapter's test hook
    await new Promise((resolve, reject) => driver.loki.saveDatabase((e) => (e ? reject(e) : resolve())))
    this.database = null
  }

  async fetch(method, path, body) {
    const response = await fetch(`${this.config.base_url}${path}`, {
      method, body, headers: { Authorization: `Bearer ${this.token}` },
    })
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`)
    return response
  }

  async login() {
    const response = await fetch(`${this.config.base_url}/api/v1/auth/token`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: this.config.email, password: this.config.password }),
    })
    if (!response.ok) throw new Error(`login: ${response.status}`)
    this.token = (await response.json()).access_token
  }

  // The two calls of WatermelonDB's "Sync > Backend" docs, verbatim but for the base URL.
  async sync() {
    const seen = { pulls: [], pushes: [] }
    await synchronize({
      database: this.database,
      // Version 2 ships with migration syncs on, from version 1 (the first one it can migrate).
      ...(this.version > 1 ? { migrationsEnabledAtVersion: 1 } : {}),
      pullChanges: async ({ lastPulledAt, schemaVersion, migration }) => {
        const urlParams = `last_pulled_at=${lastPulledAt}&schema_version=${schemaVersion}&migration=${encodeURIComponent(JSON.stringify(migration))}`
        const response = await this.fetch('GET', `/api/v1/sync?${urlParams}`)
        const { changes, timestamp } = await response.json()
        seen.pulls.push({ schemaVersion, migration, tables: Object.keys(changes).sort(),
          counts: Object.fromEntries(Object.entries(changes).map(([t, c]) => [t, {
            created: c.created.length, updated: c.updated.length, deleted: c.deleted.length }])),
          visitColumns: [...new Set([...changes.visits.created, ...changes.visits.updated]
            .flatMap((v) => Object.keys(v)))].sort() })
        return { changes, timestamp }
      },
      pushChanges: async ({ changes, lastPulledAt }) => {
        const response = await this.fetch('POST', `/api/v1/sync?last_pulled_at=${lastPulledAt}`,
          JSON.stringify(changes))
        const answer = await response.json()
        seen.pushes.push({ tables: Object.keys(changes).sort(), answer })
      },
    })
    this.syncs.push(seen)
    return seen
  }

  async rows(table) {
    if (!this.database.schema.tables[table]) return null
    const records = await this.database.get(table).query().fetch()
    return records.map((r) => ({ ...r._raw })).sort((x, y) => (x.id < y.id ? -1 : 1))
  }

  async create(table, values) {
    let made
    await this.database.write(async () => {
      made = await this.database.get(table).create((r) => {
        Object.entries(values).forEach(([k, v]) => r._setRaw(k, v))
      })
    })
    return made.id
  }

  async update(table, id, values) {
    await this.database.write(async () => {
      const record = await this.database.get(table).find(id)
      await record.update((r) => { Object.entries(values).forEach(([k, v]) => r._setRaw(k, v)) })
    })
  }

  async snapshot() {
    const out = { version: this.version }
    for (const table of ['customers', 'visits', 'orders', 'order_lines', 'planned_visits']) {
      out[table] = await this.rows(table)
    }
    return out
  }
}

async function main() {
  const config = JSON.parse(process.argv[2])
  const phone = new Phone(config)
  await phone.login()
  const results = []
  const made = {}
  // A step's values may name what an earlier step made: {"$made": "visit"}.
  const resolve = (values) => Object.fromEntries(Object.entries(values || {}).map(([k, v]) => [
    k, v && typeof v === 'object' && v.$made ? made[v.$made] : v]))
  for (const step of config.steps) {
    let result = null
    if (step.do === 'open') {
      await phone.open(step.version)
    } else if (step.do === 'sync') {
      result = await phone.sync()
    } else if (step.do === 'create') {
      made[step.as || step.table] = await phone.create(step.table, resolve(step.values))
      result = made[step.as || step.table]
    } else if (step.do === 'update') {
      await phone.update(step.table, step.id, resolve(step.values))
    } else if (step.do === 'snapshot') {
      result = await phone.snapshot()
    } else {
      throw new Error(`unknown step ${step.do}`)
    }
    results.push({ step: step.do, result })
  }
  process.stdout.write(JSON.stringify({ results, made }))
}

main().then(() => process.exit(0), (error) => {
  process.stderr.write(`${error && error.stack ? error.stack : error}\n`)
  process.exit(1)
})
