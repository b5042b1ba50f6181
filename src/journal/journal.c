/* SPDX-License-Identifier: MIT */
/*
 * The journal over SQLite: open (pragmas, schema), new runs, appends, reads.
 * Statements are prepared once per handle. An append is one INSERT ... SELECT
 * statement in autocommit mode: SQLite takes the write lock before it reads
 * MAX(seq), so two processes appending to one run never pick the same seq,
 * and the statement commits before the call returns.
 */
#include "journal/journal.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/living.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"

#define SCHEMA_VERSION  2 /* 2: blobs */
#define BLOB_MAX        ((size_t)8 * 1024 * 1024)
#define DATA_MAX        ((size_t)16 * 1024 * 1024) /* one event's data, as JSON text */
#define BUSY_TIMEOUT_MS 5000

enum stmt_id {
        ST_NEW_RUN,
        ST_APPEND,
        ST_EVENTS,
        ST_FIND,
        ST_RUNS,
        ST_BEGIN,
        ST_COMMIT,
        ST_ROLLBACK,
        ST_PUT_BLOB,
        ST_GET_BLOB,
        ST__MAX,
};

static const char *const stmt_sql[ST__MAX] = {
        [ST_NEW_RUN] = "INSERT INTO runs(id, agent, created_at) VALUES(?1, ?2, ?3)",
        /* NOLINTNEXTLINE(bugprone-suspicious-missing-comma): one statement over three lines */
        [ST_APPEND] =
                "INSERT INTO events(run_id, seq, ts_ms, type, data) "
                "SELECT ?1, COALESCE(MAX(seq), 0) + 1, ?2, ?3, ?4 FROM events WHERE run_id = ?1 "
                "RETURNING seq",
        [ST_EVENTS] = "SELECT seq, ts_ms, type, data FROM events WHERE run_id = ?1 ORDER BY seq",
        [ST_FIND] = "SELECT id FROM runs WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT 2",
        [ST_RUNS] = "SELECT id, agent, created_at FROM runs ORDER BY created_at DESC, rowid DESC "
                    "LIMIT ?1",
        [ST_BEGIN] = "BEGIN IMMEDIATE",
        [ST_COMMIT] = "COMMIT",
        [ST_ROLLBACK] = "ROLLBACK",
        [ST_PUT_BLOB] = "INSERT OR IGNORE INTO blobs(hash, data) VALUES(?1, ?2)",
        [ST_GET_BLOB] = "SELECT data FROM blobs WHERE hash = ?1",
};

static const char schema_sql[] = "CREATE TABLE IF NOT EXISTS runs("
                                 " id TEXT PRIMARY KEY NOT NULL,"
                                 " agent TEXT NOT NULL,"
                                 " created_at INTEGER NOT NULL);"
                                 "CREATE INDEX IF NOT EXISTS runs_created ON runs(created_at);"
                                 /* Rows in append order (rowid), so an append
                                  * writes the last page, not a random one;
                                  * (run_id, seq) is a small index beside. */
                                 "CREATE TABLE IF NOT EXISTS events("
                                 " run_id TEXT NOT NULL REFERENCES runs(id),"
                                 " seq INTEGER NOT NULL,"
                                 " ts_ms INTEGER NOT NULL,"
                                 " type TEXT NOT NULL,"
                                 " data TEXT NOT NULL,"
                                 " UNIQUE(run_id, seq));"
                                 /* Content-addressed texts runs refer to (a
                                  * run's manifest): hash is SHA-256, hex. */
                                 "CREATE TABLE IF NOT EXISTS blobs("
                                 " hash TEXT PRIMARY KEY NOT NULL,"
                                 " data BLOB NOT NULL);";

struct bridle__journal {
        sqlite3 *db;
        sqlite3_stmt *st[ST__MAX];
        bool sync_full; /* $BRIDLE_JOURNAL_SYNC=full: every append */
        bool in_txn;    /* between bridle__journal_begin() and commit */
        char *buf;      /* the JSON text of the event being appended */
        size_t buf_cap;
        char path[4096];
};

/* SQLite result -> -errno / BRIDLE_E_*. */
static int sql_code(sqlite3 *db, int rc)
{
        switch (rc & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_FULL:
                return -ENOSPC;
        case SQLITE_READONLY:
                return -EROFS;
        case SQLITE_PERM:
        case SQLITE_AUTH:
                return -EACCES;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
        case SQLITE_FORMAT:
        case SQLITE_MISMATCH:
                return BRIDLE_E_INVALID;
        case SQLITE_TOOBIG:
                return BRIDLE_E_LIMIT;
        case SQLITE_CANTOPEN:
        case SQLITE_IOERR: {
                int e = db ? sqlite3_system_errno(db) : 0;
                return e > 0 ? -e : -EIO;
        }
        default:
                return -EIO;
        }
}

static int sql_err(bridle__journal *j, bridle_error *err, int rc, const char *what)
{
        return bridle__err(err, sql_code(j->db, rc), "journal '%s': %s: %s", j->path, what,
                           j->db ? sqlite3_errmsg(j->db) : sqlite3_errstr(rc));
}

static int64_t now_ms(void)
{
        struct timespec ts;
        (void)clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int bridle__journal_default_path(char *out, size_t cap, bridle_error *err)
{
        char home[3072];
        int r = bridle__home(home, sizeof(home), err);
        if (r < 0)
                return r;
        int n = snprintf(out, cap, "%s/journal.db", home);
        return n < 0 || (size_t)n >= cap
                       ? bridle__err(err, -ENAMETOOLONG, "journal path is too long")
                       : 0;
}

/* The file exists before SQLite opens it, so it is 0600 whatever the umask;
 * SQLite gives the -wal and -shm files the database file's mode. */
static int precreate(const char *path, bridle_error *err)
{
        _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return bridle__err(err, -errno, "journal '%s': cannot open", path);
        return 0;
}

static int resolve_path(const char *path, char *out, size_t cap, bridle_error *err)
{
        if (path) {
                if (!*path || strlen(path) >= cap)
                        return bridle__err(err, -EINVAL, "journal path '%s' is empty or too long",
                                           path);
                memcpy(out, path, strlen(path) + 1);
                return 0;
        }
        char home[3072];
        int r = bridle__home(home, sizeof(home), err);
        if (r < 0)
                return r;
        r = bridle__mkdirs(home, 0700);
        if (r < 0)
                return bridle__err(err, r, "cannot make '%s'", home);
        return bridle__journal_default_path(out, cap, err);
}

static int exec_sql(bridle__journal *j, const char *sql, const char *what, bridle_error *err)
{
        int rc = sqlite3_exec(j->db, sql, NULL, NULL, NULL);
        return rc == SQLITE_OK ? 0 : sql_err(j, err, rc, what);
}

static int get_int_pragma(bridle__journal *j, const char *sql, int64_t *ret, bridle_error *err)
{
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(j->db, sql, -1, &st, NULL);
        if (rc == SQLITE_OK) {
                rc = sqlite3_step(st);
                if (rc == SQLITE_ROW) {
                        *ret = sqlite3_column_int64(st, 0);
                        rc = SQLITE_OK;
                }
        }
        (void)sqlite3_finalize(st);
        return rc == SQLITE_OK ? 0 : sql_err(j, err, rc, sql);
}

/* WAL is a property of the file: set once, by whoever opens it first. */
static int set_wal(bridle__journal *j, bridle_error *err)
{
        int rc = SQLITE_OK;
        for (int attempt = 0; attempt < 50; attempt++) {
                sqlite3_stmt *st = NULL;
                rc = sqlite3_prepare_v2(j->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
                if (rc == SQLITE_OK)
                        rc = sqlite3_step(st);
                bool wal = rc == SQLITE_ROW && sqlite3_column_text(st, 0) &&
                           strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
                (void)sqlite3_finalize(st);
                if (wal)
                        return 0;
                if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED && rc != SQLITE_ROW)
                        break;
                struct timespec d = {0, 100L * 1000 * 1000};
                (void)nanosleep(&d, NULL);
        }
        return rc == SQLITE_ROW
                       ? bridle__err(err, -EIO, "journal '%s': cannot switch to WAL mode", j->path)
                       : sql_err(j, err, rc, "journal_mode=WAL");
}

static int migrate(bridle__journal *j, bridle_error *err)
{
        int64_t v = 0;
        int r = get_int_pragma(j, "PRAGMA user_version", &v, err);
        if (r < 0)
                return r;
        if (v == SCHEMA_VERSION)
                return 0;
        if (v > SCHEMA_VERSION)
                return bridle__err(err, BRIDLE_E_UNSUPPORTED,
                                   "journal '%s' has schema version %lld; this bridle knows %d",
                                   j->path, (long long)v, SCHEMA_VERSION);
        /* Version 0: a new file; 1: no blobs yet. Every statement is IF NOT
         * EXISTS: two first openers may race. */
        r = exec_sql(j, "BEGIN IMMEDIATE", "begin", err);
        if (r < 0)
                return r;
        char sql[sizeof(schema_sql) + 64];
        (void)snprintf(sql, sizeof(sql), "%sPRAGMA user_version=%d;", schema_sql, SCHEMA_VERSION);
        r = exec_sql(j, sql, "schema", err);
        if (r < 0) {
                (void)sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
                return r;
        }
        return exec_sql(j, "COMMIT", "commit", err);
}

static int prepare_all(bridle__journal *j, bridle_error *err)
{
        for (int i = 0; i < ST__MAX; i++) {
                int rc = sqlite3_prepare_v3(j->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                            &j->st[i], NULL);
                if (rc != SQLITE_OK)
                        return sql_err(j, err, rc, "prepare");
        }
        return 0;
}

static int configure(bridle__journal *j, bridle_error *err)
{
        (void)sqlite3_extended_result_codes(j->db, 1);
        (void)sqlite3_busy_timeout(j->db, BUSY_TIMEOUT_MS);
        const char *sync = getenv("BRIDLE_JOURNAL_SYNC");
        j->sync_full = sync && strcmp(sync, "full") == 0;
        int r = exec_sql(j, "PRAGMA foreign_keys=ON", "foreign_keys", err);
        if (r >= 0)
                r = set_wal(j, err);
        if (r >= 0)
                r = exec_sql(j,
                             j->sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
                             "synchronous", err);
        /* Checkpoints fsync (even with NORMAL): fewer, larger ones; the WAL
         * is cut back after each. */
        if (r >= 0)
                r = exec_sql(j,
                             "PRAGMA wal_autocheckpoint=10000; PRAGMA journal_size_limit=67108864",
                             "wal_autocheckpoint", err);
        if (r >= 0)
                r = migrate(j, err);
        if (r >= 0)
                r = prepare_all(j, err);
        return r;
}

int bridle__journal_open(const char *path, bridle__journal **ret, bridle_error *err)
{
        assert(ret);
        bridle__journal *j = bridle__calloc(1, sizeof(*j));
        if (!j)
                return bridle__err(err, -ENOMEM, "out of memory");
        int r = resolve_path(path, j->path, sizeof(j->path), err);
        if (r >= 0)
                r = precreate(j->path, err);
        if (r >= 0) {
                int rc = sqlite3_open_v2(
                        j->path, &j->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
                r = rc == SQLITE_OK ? 0 : sql_err(j, err, rc, "open");
        }
        if (r >= 0)
                r = configure(j, err);
        if (r < 0) {
                bridle__journal_close(j);
                return r;
        }
        *ret = j;
        return 0;
}

bridle__journal *bridle__journal_close(bridle__journal *j)
{
        if (!j)
                return NULL;
        if (j->in_txn)
                (void)bridle__journal_rollback(j);
        for (int i = 0; i < ST__MAX; i++)
                (void)sqlite3_finalize(j->st[i]);
        (void)sqlite3_close(j->db);
        free(j->buf);
        free(j);
        return NULL;
}

const char *bridle__journal_path(const bridle__journal *j)
{
        return j->path;
}

/* Run a statement that returns no rows (or ignores them) and reset it. */
static int step_done(bridle__journal *j, sqlite3_stmt *st, const char *what, bridle_error *err)
{
        int rc;
        do
                rc = sqlite3_step(st);
        while (rc == SQLITE_ROW);
        int r = rc == SQLITE_DONE ? 0 : sql_err(j, err, rc, what);
        (void)sqlite3_reset(st);
        (void)sqlite3_clear_bindings(st);
        return r;
}

int bridle__journal_begin(bridle__journal *j, bridle_error *err)
{
        if (j->in_txn)
                return bridle__err(err, -EBUSY, "journal '%s': a transaction is already open",
                                   j->path);
        int r = step_done(j, j->st[ST_BEGIN], "begin", err);
        if (r < 0)
                return r;
        j->in_txn = true;
        return 0;
}

int bridle__journal_commit(bridle__journal *j, bridle_error *err)
{
        if (!j->in_txn)
                return bridle__err(err, -EINVAL, "journal '%s': no transaction is open", j->path);
        int r = step_done(j, j->st[ST_COMMIT], "commit", err);
        if (r < 0) {
                (void)bridle__journal_rollback(j);
                return r;
        }
        j->in_txn = false;
        return 0;
}

int bridle__journal_rollback(bridle__journal *j)
{
        if (!j->in_txn)
                return 0;
        j->in_txn = false;
        return sqlite3_get_autocommit(j->db) ? 0
                                             : step_done(j, j->st[ST_ROLLBACK], "rollback", NULL);
}

int bridle__journal_make_id(char out[33], bridle_error *err)
{
        unsigned char raw[16];
        if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
                return bridle__err(err, -errno ? -errno : -EIO, "getrandom");
        for (size_t i = 0; i < sizeof(raw); i++)
                (void)snprintf(out + 2 * i, 3, "%02x", raw[i]);
        return 0;
}

int bridle__journal_add_run(bridle__journal *j, const char *id, const char *agent, bridle_error *err)
{
        sqlite3_stmt *st = j->st[ST_NEW_RUN];
        (void)sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(st, 2, agent ? agent : "", -1, SQLITE_STATIC);
        (void)sqlite3_bind_int64(st, 3, now_ms());
        return step_done(j, st, "new run", err);
}

int bridle__journal_new_run(bridle__journal *j, const char *agent, char out[33], bridle_error *err)
{
        char id[33];
        int r = bridle__journal_make_id(id, err);
        if (r == 0)
                r = bridle__journal_add_run(j, id, agent, err);
        if (r == 0)
                memcpy(out, id, sizeof(id));
        return r;
}

/* data as compact JSON text in j->buf (reused between appends); returns its length. */
static int64_t dump_data(bridle__journal *j, const json_t *data, bridle_error *err)
{
        for (int pass = 0; pass < 2; pass++) {
                size_t n = json_dumpb(data, j->buf, j->buf_cap, JSON_COMPACT);
                if (n == 0)
                        return bridle__err(err, -EINVAL, "event data cannot be written as JSON");
                if (n > DATA_MAX)
                        return bridle__err(err, BRIDLE_E_LIMIT,
                                           "event data is too large (%zu bytes, at most %zu)", n,
                                           DATA_MAX);
                if (n <= j->buf_cap)
                        return (int64_t)n;
                size_t cap = n < 4096 ? 4096 : n + n / 4;
                char *b = bridle__realloc(j->buf, cap);
                if (!b)
                        return bridle__err(err, -ENOMEM, "out of memory");
                j->buf = b;
                j->buf_cap = cap;
        }
        return bridle__err(err, -EIO, "event data changed while it was written");
}

static bool valid_type(const char *type)
{
        size_t n = type ? strlen(type) : 0;
        if (n == 0 || n > 64)
                return false;
        for (; *type; type++)
                if (!((*type >= 'a' && *type <= 'z') || (*type >= '0' && *type <= '9') ||
                      *type == '.' || *type == '_' || *type == '-'))
                        return false;
        return true;
}

static int64_t append_step(bridle__journal *j, const char *run_id, bridle_error *err)
{
        sqlite3_stmt *st = j->st[ST_APPEND];
        int64_t seq = 0;
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                seq = sqlite3_column_int64(st, 0);
                rc = sqlite3_step(st); /* the commit happens here */
        }
        int64_t r;
        if (rc == SQLITE_DONE && seq > 0)
                r = seq;
        else if ((rc & 0xff) == SQLITE_CONSTRAINT &&
                 sqlite3_extended_errcode(j->db) == SQLITE_CONSTRAINT_FOREIGNKEY)
                r = bridle__err(err, -ENOENT, "no run '%s'", run_id);
        else
                r = sql_err(j, err, rc == SQLITE_DONE ? SQLITE_ERROR : rc, "append");
        (void)sqlite3_reset(st);
        (void)sqlite3_clear_bindings(st);
        return r;
}

int64_t bridle__journal_append(bridle__journal *j, const char *run_id, const char *type,
                               const json_t *data, int64_t *ret_ts_ms, bridle_error *err)
{
        if (!j || !run_id || !valid_type(type) || (data && !json_is_object(data)))
                return bridle__err(err, -EINVAL, "journal append: bad run id, type '%s' or data",
                                   type ? type : "");
        json_t *empty = NULL;
        if (!data)
                data = empty = json_object();
        int64_t n = data ? dump_data(j, data, err) : bridle__err(err, -ENOMEM, "out of memory");
        json_decref(empty);
        if (n < 0)
                return n;
        int64_t ts = now_ms();
        sqlite3_stmt *st = j->st[ST_APPEND];
        (void)sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
        (void)sqlite3_bind_int64(st, 2, ts);
        (void)sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(st, 4, j->buf, (int)n, SQLITE_STATIC);
        int64_t seq = append_step(j, run_id, err);
        if (seq > 0 && ret_ts_ms)
                *ret_ts_ms = ts;
        return seq;
}

static bool is_hex(char c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int lookup_prefix(bridle__journal *j, const char *ref, size_t n, char out_id[33],
                         bridle_error *err)
{
        char lo[33], hi[34];
        memcpy(lo, ref, n);
        lo[n] = '\0';
        memcpy(hi, lo, n);
        hi[n] = 'g'; /* after every hex digit: the range holds exactly the ids with this prefix */
        hi[n + 1] = '\0';
        sqlite3_stmt *st = j->st[ST_FIND];
        (void)sqlite3_bind_text(st, 1, lo, (int)n, SQLITE_STATIC);
        (void)sqlite3_bind_text(st, 2, hi, (int)n + 1, SQLITE_STATIC);
        char ids[2][33];
        int found = 0, rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW && found < 2) {
                const char *id = (const char *)sqlite3_column_text(st, 0);
                (void)snprintf(ids[found++], sizeof(ids[0]), "%s", id ? id : "");
        }
        int r = 0;
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
                r = sql_err(j, err, rc, "find run");
        (void)sqlite3_reset(st);
        (void)sqlite3_clear_bindings(st);
        if (r < 0)
                return r;
        if (found == 0)
                return bridle__err(err, -ENOENT, "no run '%s'", ref);
        if (found > 1)
                return bridle__err(err, BRIDLE_E_INVALID,
                                   "run id prefix '%s' is ambiguous ('%s', '%s', ...)", ref, ids[0],
                                   ids[1]);
        memcpy(out_id, ids[0], 33);
        return 0;
}

int bridle__journal_resolve(bridle__journal *j, const char *run_ref, char out_id[33],
                            bridle_error *err)
{
        size_t n = run_ref ? strlen(run_ref) : 0;
        if (n < 4)
                return bridle__err(err, -EINVAL,
                                   "run id '%s' is too short (give at least 4 characters)",
                                   run_ref ? run_ref : "");
        if (n > 32)
                return bridle__err(err, -ENOENT, "no run '%.40s'", run_ref);
        char ref[33];
        for (size_t i = 0; i < n; i++) {
                char c = run_ref[i];
                ref[i] = (char)(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
                if (!is_hex(ref[i]))
                        return bridle__err(err, -ENOENT, "no run '%s'", run_ref);
        }
        ref[n] = '\0';
        return lookup_prefix(j, ref, n, out_id, err);
}

/* Takes data. */
static json_t *event_take(const char *run_id, int64_t seq, int64_t ts_ms, const char *type,
                          json_t *data)
{
        return json_pack("{s:s, s:I, s:I, s:s, s:o}", "run_id", run_id, "seq", (json_int_t)seq,
                         "ts", (json_int_t)ts_ms, "type", type, "data", data);
}

json_t *bridle__journal_event_json(const char *run_id, int64_t seq, int64_t ts_ms, const char *type,
                                   const json_t *data)
{
        json_t *d = data ? json_incref((json_t *)data) : json_object();
        return d ? event_take(run_id, seq, ts_ms, type, d) : NULL;
}

static int row_event(bridle__journal *j, sqlite3_stmt *st, const char *id, json_t *arr,
                     bridle_error *err)
{
        int64_t seq = sqlite3_column_int64(st, 0);
        int64_t ts = sqlite3_column_int64(st, 1);
        const char *type = (const char *)sqlite3_column_text(st, 2);
        const char *text = (const char *)sqlite3_column_blob(st, 3);
        int len = sqlite3_column_bytes(st, 3);
        if (!type || !text)
                return bridle__err(err, BRIDLE_E_INVALID,
                                   "journal '%s': run '%s' event %lld has no type or data", j->path,
                                   id, (long long)seq);
        json_error_t jerr;
        json_t *data = json_loadb(text, (size_t)len, JSON_REJECT_DUPLICATES, &jerr);
        if (!data || !json_is_object(data)) {
                json_decref(data);
                return bridle__err(err, BRIDLE_E_INVALID,
                                   "journal '%s': run '%s' event %lld: data is not a JSON object",
                                   j->path, id, (long long)seq);
        }
        json_t *ev = event_take(id, seq, ts, type, data);
        if (!ev || json_array_append_new(arr, ev) < 0)
                return bridle__err(err, -ENOMEM, "out of memory");
        return 0;
}

int bridle__journal_events(bridle__journal *j, const char *run_ref, char out_id[33], json_t **ret,
                           bridle_error *err)
{
        char id[33];
        int r = bridle__journal_resolve(j, run_ref, id, err);
        if (r < 0)
                return r;
        json_auto_t *arr = json_array();
        if (!arr)
                return bridle__err(err, -ENOMEM, "out of memory");
        sqlite3_stmt *st = j->st[ST_EVENTS];
        (void)sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                r = row_event(j, st, id, arr, err);
                if (r < 0)
                        break;
        }
        if (r >= 0 && rc != SQLITE_DONE)
                r = sql_err(j, err, rc, "read events");
        (void)sqlite3_reset(st);
        (void)sqlite3_clear_bindings(st);
        if (r < 0)
                return r;
        if (out_id)
                memcpy(out_id, id, sizeof(id));
        *ret = TAKE_PTR(arr);
        return 0;
}

static int row_run(sqlite3_stmt *st, json_t *arr)
{
        const char *id = (const char *)sqlite3_column_text(st, 0);
        const char *agent = (const char *)sqlite3_column_text(st, 1);
        json_t *o = json_pack("{s:s, s:s, s:I}", "id", id ? id : "", "agent", agent ? agent : "",
                              "created_at", (json_int_t)sqlite3_column_int64(st, 2));
        return o && json_array_append_new(arr, o) == 0 ? 0 : -ENOMEM;
}

int bridle__journal_runs(bridle__journal *j, size_t max, json_t **ret, bridle_error *err)
{
        json_auto_t *arr = json_array();
        if (!arr)
                return bridle__err(err, -ENOMEM, "out of memory");
        sqlite3_stmt *st = j->st[ST_RUNS];
        (void)sqlite3_bind_int64(st, 1, max == 0 || max > INT64_MAX ? -1 : (sqlite3_int64)max);
        int rc, r = 0;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
                if (row_run(st, arr) < 0) {
                        r = bridle__err(err, -ENOMEM, "out of memory");
                        break;
                }
        if (r >= 0 && rc != SQLITE_DONE)
                r = sql_err(j, err, rc, "list runs");
        (void)sqlite3_reset(st);
        (void)sqlite3_clear_bindings(st);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(arr);
        return 0;
}

int bridle__journal_put_blob(bridle__journal *j, const char *hash, const void *data, size_t len, bridle_error *err)
{
        if (len > BLOB_MAX)
                return bridle__err(err, BRIDLE_E_LIMIT, "journal: a blob of %zu bytes (at most %zu)", len, BLOB_MAX);
        sqlite3_stmt *st = j->st[ST_PUT_BLOB];
        (void)sqlite3_reset(st);
        (void)sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
        (void)sqlite3_bind_blob64(st, 2, len ? data : "", (sqlite3_uint64)len, SQLITE_STATIC);
        return step_done(j, st, "blob", err);
}

int bridle__journal_get_blob(bridle__journal *j, const char *hash, char **ret, size_t *ret_len, bridle_error *err)
{
        sqlite3_stmt *st = j->st[ST_GET_BLOB];
        (void)sqlite3_reset(st);
        (void)sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) {
                (void)sqlite3_reset(st);
                return bridle__err(err, -ENOENT, "journal: no blob %s", hash);
        }
        if (rc != SQLITE_ROW) {
                int r = sql_err(j, err, rc, "blob");
                (void)sqlite3_reset(st);
                return r;
        }
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        const void *p = sqlite3_column_blob(st, 0);
        char *out = bridle__malloc(n + 1);
        if (!out) {
                (void)sqlite3_reset(st);
                return bridle__err(err, -ENOMEM, "blob");
        }
        if (n)
                memcpy(out, p, n);
        out[n] = '\0';
        (void)sqlite3_reset(st);
        *ret = out;
        *ret_len = n;
        return 0;
}
