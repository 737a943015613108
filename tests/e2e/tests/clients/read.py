# The Python clients of tests/e2e/tests/clients.rs, run once per table: reads
# a JSON list of jobs (argv[1]) and prints, for each, what psycopg 3 (its own
# libpq), SQLAlchemy's URL parser and python-dotenv make of it, and who a
# login became. Never prints a job's input back on error beyond the message.
import json
import os
import sys

import psycopg
import sqlalchemy
from dotenv import dotenv_values
from psycopg.conninfo import conninfo_to_dict
from sqlalchemy.engine import make_url

WHO = "select current_user || '@' || current_database()"


def attempt(f):
    try:
        return {"ok": f()}
    except Exception as e:  # each job reports its own failure
        return {"error": f"{type(e).__name__}: {e}".splitlines()[0]}


def login(**kw):
    with psycopg.connect(connect_timeout=10, **kw) as c:
        return c.execute(WHO).fetchone()[0]


def alchemy_fields(url):
    u = make_url(url)
    return {"username": u.username, "password": u.password, "host": u.host,
            "port": u.port, "database": u.database}


def alchemy_login(url):
    engine = sqlalchemy.create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    try:
        with engine.connect() as c:
            return c.execute(sqlalchemy.text(WHO)).scalar()
    finally:
        engine.dispose()


def job(j):
    kind = j["kind"]
    out = {}
    if kind == "url":
        out["libpq"] = attempt(lambda: conninfo_to_dict(j["url"]))
        out["sqlalchemy"] = attempt(lambda: alchemy_fields(j["url"]))
        if j.get("login"):
            out["psycopg_login"] = attempt(lambda: login(conninfo=j["url"]))
            out["sqlalchemy_login"] = attempt(lambda: alchemy_login(j["url"]))
    elif kind == "conninfo":
        out["libpq"] = attempt(lambda: conninfo_to_dict(j["conninfo"]))
        if j.get("login"):
            out["psycopg_login"] = attempt(lambda: login(conninfo=j["conninfo"]))
    elif kind == "pgpass":
        out["psycopg_login"] = attempt(lambda: login(
            host=j["host"], port=j["port"], dbname=j["dbname"], user=j["user"], passfile=j["file"]))
    elif kind == "environ":
        # The variables `eval "$(uis db creds ... --format env)"` left in a shell.
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(j["environ"])
        try:
            out["psycopg_login"] = attempt(lambda: login(conninfo=""))
            out["database_url_login"] = attempt(lambda: login(conninfo=os.environ["DATABASE_URL"]))
        finally:
            os.environ.clear()
            os.environ.update(saved)
    elif kind == "json":
        d = j["json"]
        out["psycopg_login"] = attempt(lambda: login(
            host=d["local"]["host"], port=d["local"]["port"], user=d["username"],
            password=d["password"], dbname=d["database"]))
    elif kind == "dotenv":
        out["python-dotenv"] = attempt(lambda: dotenv_values(j["path"]))
    else:
        raise SystemExit(f"unknown job kind {kind!r}")
    return out


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        jobs = json.load(f)
    json.dump([job(j) for j in jobs], sys.stdout)


main()
