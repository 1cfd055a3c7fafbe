/* store.h: the results database of a sweep (SQLite, one file). Schema and
 * column meanings: docs/schema.md.
 *
 * Tables: meta (key/value: schema version, the spec's name, hash and JSON,
 * total runs), runs (one row per finished run: config columns, outcome,
 * metrics, provenance), points (per-point rows), trajectories (per-trajectory
 * rows), run_claims (which sweep is training which run; below). Each run
 * is written with its points and trajectories in one transaction, so a
 * killed process leaves whole runs or nothing. WAL mode. Several sweeps may
 * share one database: each claims a run (store_claim) before training it,
 * so no run is trained twice; each write is a short transaction, and
 * SQLite's lock serialises them. */
#ifndef SENSI_STORE_H
#define SENSI_STORE_H

#include "../core/err.h"
#include "config.h"
#include "result.h"

typedef struct store store;   /* opaque */

/* What identifies the sweep a database belongs to. */
typedef struct store_spec {
    const char *name;     /* spec name */
    const char *hash;     /* spec hash, 16 hex digits */
    const char *json;     /* the resolved spec, canonical JSON text */
    long total_runs;      /* runs in the whole spec (all shards) */
} store_spec;

/* Open (creating if absent) the database at path for the sweep sp.
 * A new file gets the schema and sp in meta; an existing one must hold the
 * same spec hash, else SN_EARG with a message naming both specs ("runs.db
 * holds sweep 'a' (hash ...), not 'b' ..."). sp == NULL opens an existing
 * database for reading or merging whatever spec it holds (SN_ENOTFOUND if
 * the file does not exist; SN_EFORMAT if it is not a sensi database).
 * Errors name the file. *out is NULL on failure. */
int store_open(const char *path, const store_spec *sp, store **out, sn_err *e);
void store_close(store *s);   /* NULL fine */

/* Schema versions: new files are version 4. A version-3 file (trajectories
 * without their length column) opens with sp == NULL, for reading only
 * (store_insert_run refuses it); with sp != NULL (a sweep, or the output of
 * a merge) it is refused with SN_EFORMAT and a message saying why (its
 * trajectories would mix rows with and without length), and store_merge
 * refuses to copy from one. Other versions are refused. */
int store_schema_version(const store *s);   /* 4 or 3; 0 for NULL */

/* The spec recorded in the database (strings owned by s). */
void store_get_spec(const store *s, store_spec *sp);

/* Mark in done (n entries, zeroed by the caller, done[id] = 1) every run id
 * < n that has a row whose status is not "failed". */
int store_done_ids(store *s, unsigned char *done, long n, sn_err *e);

/* Insert run rc/r (replacing any earlier row of the same run_id, e.g. a
 * failed one, and its points and trajectories) in one transaction. Config
 * columns come from rc, the rest from r; metrics that are NAN are stored as
 * NULL. Errors: SN_EIO (disk full, read-only, ...) with SQLite's message;
 * nothing of the run is written then. */
int store_insert_run(store *s, const run_config *rc, const char *config_hash,
                     const run_result *r, sn_err *e);

/* Counts of runs by status. */
typedef struct store_counts {
    long total, fit, not_fit, diverged, failed;  /* runs with ids of the spec (0..total_runs-1) */
    long outside;   /* rows with run ids outside the spec (never written by sensi; not counted) */
} store_counts;
int store_count(store *s, store_counts *c, sn_err *e);

/* Copy into dst every run of src (with its points and trajectories) whose
 * run_id dst does not have yet (a failed row in dst is replaced by a
 * non-failed one from src), in one transaction. Refuses (SN_EARG) when the
 * two databases hold different specs. Runs whose ids are outside the spec
 * (0..total_runs-1) are not copied: *skipped (may be NULL) receives their
 * number. src is only read (attached read-only, as immutable when its
 * folder is not writable). *added receives the number of runs copied. */
int store_merge(store *dst, const char *src_path, long *added, long *skipped, sn_err *e);

/* Write the runs table as CSV (header + one line per run, ordered by run_id)
 * to f; status == NULL: all runs, else only those with that status. */
#include <stdio.h>
int store_export_csv(store *s, const char *status, FILE *f, sn_err *e);

/* The underlying sqlite3 handle, for read-only queries by the analysis. */
struct sqlite3;
struct sqlite3 *store_db(store *s);

/* ---- added with store.c (reading for `sensi runs`, and a test hook) ---- */

/* Call fn(ctx, row) for every run ordered by run_id (status == NULL: all,
 * else only that status), row being a JSON object of all runs columns in
 * table order (INTEGER and REAL as numbers, TEXT as strings, NULL as null;
 * owned by the store, valid during the call). A non-zero return from fn
 * stops the walk and is returned. Errors: SN_EIO, SN_ENOMEM. */
int store_each_run(store *s, const char *status, int (*fn)(void *ctx, const cJSON *row),
                   void *ctx, sn_err *e);

/* *n = number of runs whose column (a runs column name) is not NULL.
 * Errors: SN_EARG (not a runs column), SN_EIO. */
int store_count_nonnull(store *s, const char *column, long *n, sn_err *e);

/* For tests: cap the database at pages pages (PRAGMA max_page_count), so a
 * write that needs more fails with SQLITE_FULL as on a full disk. */
int store_set_max_pages(store *s, long pages, sn_err *e);

/* ---- claims: several sweeps on one database ------------------------------
 *
 * A sweep claims a run in the database before training it (one transaction:
 * check that no result and no live claim exists, then write the claim with
 * this process's host, pid and start time), so a second sweep on the same
 * file takes only runs nobody holds. store_insert_run ends the claim in the
 * same transaction as the result; store_claims_release (and store_close)
 * drop the claims of runs left unfinished. A claim whose process is gone is
 * released by whoever meets it: on this host when the pid no longer exists
 * (or is another process now, or the machine rebooted, or the claim was made
 * in the file this one is a copy of), from another host when its holder has
 * not refreshed it (store_claims_beat) for STORE_CLAIM_STALE_S seconds. Claims are bookkeeping, never results: no
 * reader (runs, merge, analyze, report) looks at them. Table and rules:
 * docs/schema.md. */

#define STORE_CLAIM_BEAT_S 60.0    /* a sweep refreshes its claims this often */
#define STORE_CLAIM_STALE_S 600.0  /* another host's claim unrefreshed this long is dropped */

/* Who holds (or held) a claim. */
typedef struct store_holder {
    char host[256];
    long pid;
    char since[32];   /* when it claimed the run (UTC ISO 8601) */
} store_holder;

/* Outcomes of store_claim. */
enum {
    STORE_CLAIMED = 0,  /* the run is this sweep's to train */
    STORE_TAKEN_OVER,   /* likewise, from a claim whose process is gone (*h: that one) */
    STORE_DONE,         /* stored by another sweep, or tried by one (failed) since
                           store_claims_start: not this sweep's */
    STORE_HELD          /* being trained by a live sweep (*h: which) */
};

/* Start claiming in this handle: create the run_claims table if the database
 * has none (databases of sensi before claims get it here; nothing else
 * changes), and note how often each run was tried so far, so that a failed
 * run that another sweep retries meanwhile is not retried again here.
 * Call before store_done_ids. Errors: SN_EIO, SN_ENOMEM. */
int store_claims_start(store *s, sn_err *e);

/* Claim run id (0 <= id < total_runs) for this sweep, atomically; *outcome
 * receives one of the STORE_ values above and *h (may be NULL) the holder
 * for STORE_HELD and STORE_TAKEN_OVER. A run with a failed row is claimable
 * (a retry) unless another sweep tried it after store_claims_start.
 * Errors: SN_EARG (store_claims_start not called, id out of range), SN_EIO
 * (with SQLite's message; e.g. a full disk), SN_ENOMEM. */
int store_claim(store *s, long id, int *outcome, store_holder *h, sn_err *e);

/* Refresh this handle's claims (the heartbeat that keeps another host from
 * taking them). Errors: SN_EIO. */
int store_claims_beat(store *s, sn_err *e);

/* Drop this handle's claims of runs not stored (a stopped or failed sweep);
 * a no-op before store_claims_start. Errors: SN_EIO. */
int store_claims_release(store *s, sn_err *e);

/* *n = runs with a claim of a live process (only reads; 0 when the database
 * has no run_claims table); *h (may be NULL) one of the holders.
 * Errors: SN_EIO (also for a run_claims table that is not sensi's). */
int store_claims_live(store *s, long *n, store_holder *h, sn_err *e);

#endif
