/*
 * libFuzzer: a group or a tail of the deadlines index (storage/store_deadline.c) as a damaged
 * store could hold it, a group under a key of any id, in a real LMDB environment. Its check, a
 * read of the index, a verify and a commit of open applications next to it and into it must
 * refuse what is damaged (XXGK_ECORRUPT, a difference) and never crash; a value the check
 * accepts reads back whole, takes the commit, and reads back after it with each entry once (and
 * verify names each, no record explaining it, and no overlap); a damaged value a commit took
 * reads back damaged still.
 *
 * Input: [key id length][key id][changes n][n x ([id length][id])][the value]
 * The key is [due 0: a period the empty calendar cannot count][unit 1][key id], a group's; a key
 * id length of 0 makes it a tail's, [due 0][unit 1]; of 255 (no key id follows), the value is a
 * value of the log instead, over a sound tail of unit 1 (a1 a3), and changes n with its high
 * bit set has the commit merge the log (else it is logged): what the log and the tail read as
 * together, the merge writes. The changes are open applications of unit 1 (received 2024-01-02),
 * which the empty calendar puts there too; into a group or a tail they are written straight.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "calendar.h"
#include "error.h"
#include "record.h"
#include "store_deadline.h"

#define CHANGES_MAX 8

static MDB_env *env;
static struct deadline_dbs db;
static MDB_dbi records;
static struct calendar *cal;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/xxgk-fuzz-deadline-XXXXXX";
	MDB_txn *txn;
	(void)argc, (void)argv;
	if (mkdtemp(dir) == NULL || mdb_env_create(&env) || mdb_env_set_maxdbs(env, 4) ||
	    mdb_env_set_mapsize(env, (size_t)64 << 20) ||
	    mdb_env_open(env, dir, MDB_NOSYNC, 0600) || mdb_txn_begin(env, NULL, 0, &txn) ||
	    deadline_db_open(txn, &db, 1) || mdb_dbi_open(txn, "records", MDB_CREATE, &records) ||
	    mdb_txn_commit(txn) || (cal = calendar_empty()) == NULL) {
		fprintf(stderr, "fuzz_deadline_group: cannot set up LMDB in %s\n", dir);
		abort();
	}
	return 0;
}

static int count_entry(void *ctx, uint32_t due, uint32_t unit, const char *id, const uint8_t *val)
{
	(void)due, (void)unit, (void)val;
	if (strlen(id) == 0 || strlen(id) > RECORD_ID_MAX)
		abort(); /* an entry read back is an id of the sizes the index keeps */
	++*(size_t *)ctx;
	return 0;
}

/* The entries read, to count what a commit must leave: the value's and the changes', each once. */
static struct {
	uint32_t due, unit;
	char id[RECORD_ID_MAX + 1];
} seen[512];
static size_t n_seen;

static int note_entry(void *ctx, uint32_t due, uint32_t unit, const char *id, const uint8_t *val)
{
	if (n_seen < sizeof(seen) / sizeof(seen[0])) {
		seen[n_seen].due = due;
		seen[n_seen].unit = unit;
		strcpy(seen[n_seen++].id, id);
	}
	return count_entry(ctx, due, unit, id, val);
}

static void no_line(void *ctx, const char *line)
{
	(void)line;
	++*(size_t *)ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char ids[CHANGES_MAX][RECORD_ID_MAX + 1];
	static Xxgk__V1__Record recs[CHANGES_MAX];
	static Xxgk__V1__Application apps[CHANGES_MAX];
	uint8_t key[8 + 255] = {0, 0, 0, 0, 0, 0, 0, 1};
	size_t at = 0, n, klen;
	MDB_txn *txn;
	int log = size > 0 && data[0] == 255;
	if (size < 2 || 1 + (klen = log ? 0 : data[0]) + 1 > size)
		return 0;
	memcpy(key + 8, data + 1, klen);
	at = 1 + klen;
	/* into a group or a tail, straight; with a value of the log, logged or merged */
	struct deadline_ops ops = {.straight = !log || (data[at] & 0x80)};
	n = (data[at++] & 0x7f) % (CHANGES_MAX + 1);
	for (size_t i = 0; i < n; i++) {
		size_t len = at < size ? data[at++] : 0;
		if (len == 0 || len > RECORD_ID_MAX || at + len > size) {
			n = i;
			break;
		}
		memcpy(ids[i], data + at, len);
		ids[i][len] = '\0';
		at += len;
		if (strlen(ids[i]) != len) { /* a NUL in it: an id no record has */
			n = i;
			break;
		}
	}
	MDB_val k = {log ? 4 : 8 + klen, log ? (uint8_t[4]){0} : key},
		v = {size - at, (void *)(data + at)};
	if (k.mv_size > (size_t)mdb_env_get_maxkeysize(env) || v.mv_size == 0)
		return 0;
	if (mdb_txn_begin(env, NULL, 0, &txn))
		abort();
	MDB_dbi dbi = log ? db.log : klen ? db.groups : db.tails;
	/* [0][2]a1[flags: an error's year][received][year] [0][2]a3.. [its size]: due 0, unit 1 */
	static const uint8_t tail[] = {0, 2,   'a', '1', 4, 0, 0,    0x4d, 0x0c, 0x07, 0xe8, 0,
				       2, 'a', '3', 4,	 0, 0, 0x4d, 0x0c, 0x07, 0xe8, 11};
	MDB_val tk = {8, key}, tv = {sizeof(tail), (void *)tail};
	if (mdb_drop(txn, db.groups, 0) || mdb_drop(txn, db.tails, 0) || mdb_drop(txn, db.log, 0) ||
	    mdb_put(txn, dbi, &k, &v, 0) || (log && mdb_put(txn, db.tails, &tk, &tv, 0))) {
		mdb_txn_abort(txn);
		return 0;
	}
	if (log && !deadline_tail_valid(&tk, &tv))
		abort(); /* the harness's own tail */
	int valid = log	   ? deadline_log_valid(&k, &v)
		    : klen ? deadline_group_valid(&k, &v)
			   : deadline_tail_valid(&k, &v);
	size_t read = 0, lines = 0;
	n_seen = 0;
	int rc = deadline_index_read(txn, &db, 0, UINT32_MAX, note_entry, &read);
	if (valid && rc != 0)
		abort(); /* accepted by the check, refused by the read */
	if (!valid && rc != XXGK_ECORRUPT)
		abort(); /* damage a read let through */
	if (deadline_index_verify(txn, &db, records, cal, UINT32_MAX, no_line, &lines))
		abort(); /* verify reports damage as differences, and runs */
	if (!valid && lines == 0)
		abort();
	/* open applications of unit 1 next to it and into it */
	for (size_t i = 0; i < n; i++) {
		struct record_facts f = {.kind = RECORD_APPLICATION};
		recs[i] = (Xxgk__V1__Record)XXGK__V1__RECORD__INIT;
		apps[i] = (Xxgk__V1__Application)XXGK__V1__APPLICATION__INIT;
		recs[i].id = ids[i];
		recs[i].body_case = XXGK__V1__RECORD__BODY_APPLICATION;
		recs[i].application = &apps[i];
		apps[i].received = "2024-01-02";
		f.app.days.received = 19724;
		if (deadline_index_change(&ops, 1, NULL, NULL, &recs[i], &f))
			abort();
	}
	rc = deadline_ops_write(txn, &db, &ops, cal);
	if (rc != 0 && rc != XXGK_ECORRUPT)
		abort(); /* a write into the group: done, or refused as damage */
	if (valid && rc != 0)
		abort(); /* a sound group refused */
	if (rc == 0 && valid) {
		size_t after = 0, want = read;
		/* what a commit wrote reads back: each new id once, those there replaced */
		if (deadline_index_read(txn, &db, 0, UINT32_MAX, count_entry, &after) != 0)
			abort();
		for (size_t i = 0; i < n; i++) {
			int dup = 0;
			for (size_t j = 0; j < n_seen && !dup; j++)
				dup = seen[j].due == 0 && seen[j].unit == 1 &&
				      strcmp(seen[j].id, ids[i]) == 0;
			for (size_t j = 0; j < i && !dup; j++)
				dup = strcmp(ids[j], ids[i]) == 0;
			want += !dup;
		}
		if (n_seen == read && after != want)
			abort(); /* an entry lost or written twice */
		lines = 0;
		if (deadline_index_verify(txn, &db, records, cal, UINT32_MAX, no_line, &lines) ||
		    lines != after)
			abort(); /* each entry named once (no record explains it), no overlap */
	}
	if (rc == 0 && !valid) {
		size_t after = 0;
		if (deadline_index_read(txn, &db, 0, UINT32_MAX, count_entry, &after) !=
		    XXGK_ECORRUPT)
			abort(); /* damage a write made look sound */
	}
	deadline_ops_free(&ops);
	mdb_txn_abort(txn);
	return 0;
}
