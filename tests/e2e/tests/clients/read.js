// The Node.js clients of tests/e2e/tests/clients.rs, run once per table:
// reads a JSON list of jobs (argv[2]) and prints, for each, what
// pg-connection-string, node-postgres (pg, its pgpass support included),
// dotenv, dotenv-expand and Next.js's loader (@next/env) make of it.
'use strict';
const fs = require('fs');
const { parse } = require('pg-connection-string');
const pg = require('pg');
const dotenv = require('dotenv');
const { expand } = require('dotenv-expand');
const nextEnv = require('@next/env');

const WHO = "select current_user || '@' || current_database() as who";
const quiet = { info() {}, error() {} };

async function attempt(f) {
  try {
    return { ok: await f() };
  } catch (e) {
    return { error: String(e && e.message ? e.message : e).split('\n')[0] };
  }
}

async function login(config) {
  const client = new pg.Client({ connectionTimeoutMillis: 10000, ...config });
  await client.connect();
  try {
    return (await client.query(WHO)).rows[0].who;
  } finally {
    await client.end();
  }
}

async function withEnv(vars, f) {
  const saved = { ...process.env };
  for (const k of Object.keys(process.env)) delete process.env[k];
  Object.assign(process.env, vars);
  try {
    return await f();
  } finally {
    for (const k of Object.keys(process.env)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

async function job(j) {
  const out = {};
  switch (j.kind) {
    case 'url': {
      out['pg-connection-string'] = await attempt(() => {
        const p = parse(j.url);
        return { user: p.user, password: p.password, host: p.host, port: p.port, database: p.database };
      });
      // WHATWG URL (as JDBC-style URLs are read by URL libraries).
      out.whatwg = await attempt(() => {
        const u = new URL(j.url.replace(/^jdbc:/, ''));
        const q = Object.fromEntries(u.searchParams);
        return {
          user: decodeURIComponent(u.username), password: decodeURIComponent(u.password),
          host: u.hostname, port: u.port, database: decodeURIComponent(u.pathname.slice(1)), query: q,
        };
      });
      if (j.login) out.pg_login = await attempt(() => login({ connectionString: j.url }));
      break;
    }
    case 'conninfo':
      break; // libpq keyword strings: no Node.js reader
    case 'pgpass':
      // node-postgres reads PGPASSFILE (the pgpass package) when no password is given.
      out.pg_login = await attempt(() => withEnv({ PGPASSFILE: j.file }, () =>
        login({ host: j.host, port: j.port, database: j.dbname, user: j.user })));
      break;
    case 'environ':
      out.pg_login = await attempt(() => withEnv(j.environ, () => login({})));
      out.database_url_login = await attempt(() =>
        login({ connectionString: j.environ.DATABASE_URL }));
      break;
    case 'json': {
      const d = j.json;
      out.pg_login = await attempt(() => login({
        host: d.local.host, port: d.local.port, user: d.username, password: d.password, database: d.database,
      }));
      break;
    }
    case 'dotenv': {
      const buf = fs.readFileSync(j.path);
      out.dotenv = await attempt(() => dotenv.parse(buf));
      out['dotenv-expand'] = await attempt(() =>
        expand({ parsed: dotenv.parse(buf), processEnv: {} }).parsed);
      // Next.js reads DIR/.env (the case's own directory holds nothing else).
      out.next = await attempt(() =>
        nextEnv.loadEnvConfig(require('path').dirname(j.path), false, quiet, true).parsedEnv);
      break;
    }
    default:
      throw new Error(`unknown job kind ${j.kind}`);
  }
  return out;
}

(async () => {
  const jobs = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const out = [];
  for (const j of jobs) out.push(await job(j));
  process.stdout.write(JSON.stringify(out));
})().catch((e) => {
  process.stderr.write(`read.js: ${e.stack}\n`);
  process.exit(1);
});
