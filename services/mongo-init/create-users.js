// Creates one MongoDB user per Newsflow service, each with the least privilege it needs.
//
// The mongo image's entrypoint runs this file from /docker-entrypoint-initdb.d/ once,
// on the first start of an empty data volume, authenticated as the root user
// (MONGO_INITDB_ROOT_*). Each password comes from the file its NAME_FILE variable
// names (compose secrets, which docker-compose.yml mounts on /run/secrets/), or
// else from the variable NAME itself; nothing secret is written here. The
// entrypoint unsets MONGO_INITDB_* before it starts the real mongod.
//
// Users live in the admin database (clients connect with ?authSource=admin):
//   newsflow_storage     readWrite  on <db>   storage: upserts items, creates indexes
//   newsflow_gateway     readWrite  on <db>   gateway: queries, API keys, creates indexes
// Ingest and enrichment only touch Redis: they have no MongoDB user at all. A service
// that only reads would get role 'read'.
//
// The gateway user must stay LAST: the compose healthcheck logs in as it, so a healthy
// mongo container implies every user exists.
//
// Because this runs only on an empty volume, changing a password in secrets/ later needs
// db.changeUserPassword() by hand, or a fresh volume (docker compose down -v). If this
// script fails, the volume is left half-initialised: fix secrets/ and remove the volume.

'use strict';

function requireEnv(name) {
  const file = process.env[`${name}_FILE`];
  const value = file ? require('fs').readFileSync(file, 'utf8').trim() : process.env[name];
  if (!value) {
    throw new Error(`create-users.js: neither ${name}_FILE nor ${name} gives a value`);
  }
  return value;
}

const dbName = process.env.MONGO_INITDB_NEWSFLOW_DATABASE || 'newsflow';
const admin = db.getSiblingDB('admin');

const users = [
  { user: 'newsflow_storage', env: 'MONGO_INITDB_STORAGE_PASSWORD', role: 'readWrite' },
  { user: 'newsflow_gateway', env: 'MONGO_INITDB_GATEWAY_PASSWORD', role: 'readWrite' },
];

// Read every variable before creating anything, so one missing value fails the whole init.
const resolved = users.map((u) => ({ user: u.user, role: u.role, pwd: requireEnv(u.env) }));

for (const { user, role, pwd } of resolved) {
  const spec = { pwd: pwd, roles: [{ role: role, db: dbName }] };
  if (admin.getUser(user)) {
    admin.updateUser(user, spec);
    print(`create-users.js: updated ${user} (${role} on ${dbName})`);
  } else {
    admin.createUser(Object.assign({ user: user }, spec));
    print(`create-users.js: created ${user} (${role} on ${dbName})`);
  }
}
