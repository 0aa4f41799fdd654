/* Frozen years: snapshots as published, the FROZEN rule, restatements, the audit log. */
#include "store_freeze.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cells.h"
#include "error.h"
#include "record.h"
#include "store.h"

#define FREEZE_KEY_SIZE 2
#define SNAPSHOT_KEY_SIZE 11
#define FREEZE_VALUE_MIN 15 /* generation, frozen, template, at */
#define KIND_MAX 4	    /* UnitKind values 1..4 */
#define CELLS_MAX 512	    /* more than either template prints */

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *p, int bytes)
{
	uint64_t v = 0;
	for (int i = 0; i < bytes; i++)
		v = v << 8 | p[i];
	return v;
}

/* LMDB's codes and errno values to the project's; the project's pass as they are. */
static int to_xxgk(int rc)
{
	return xxgk_is_mdb_code(rc) ? xxgk_error_from_mdb(rc) : rc;
}

static int year_ok(int year)
{
	return year >= DATE_YEAR_MIN && year <= DATE_YEAR_MAX;
}

/* ---- the FROZEN rule ---- */

static void add_flows(int64_t *year_flows, int64_t *before, const struct flow *f, int n, int year,
		      int sign, int *any)
{
	for (int i = 0; i < n; i++) {
		if (f[i].year > year || f[i].counter < 0 || f[i].counter >= COUNTER_COUNT)
			continue;
		int64_t *slot =
		    f[i].year == year ? &year_flows[f[i].counter] : &before[f[i].counter];
		*slot += sign * f[i].value;
		*any = 1;
	}
}

struct nonzero {
	int found;
};

static void cell_nonzero(void *ctx, const char *key, int64_t value)
{
	(void)key;
	if (value)
		((struct nonzero *)ctx)->found = 1;
}

int freeze_changes_year(const struct flow *old, int n_old, const struct flow *new_flows, int n_new,
			int year, int template_year)
{
	int64_t year_flows[COUNTER_COUNT] = {0}, before[COUNTER_COUNT] = {0};
	int any = 0;
	struct report r;
	struct nonzero nz = {0};
	add_flows(year_flows, before, old, n_old, year, -1, &any);
	add_flows(year_flows, before, new_flows, n_new, year, +1, &any);
	if (!any)
		return 0;
	/* the published 未报送 list: a late submission or withdrawal would move it */
	if (year_flows[COUNTER_SUBMITTED])
		return 1;
	/* the report is linear in the flows: the report of the difference is the difference of
	 * the cells, so that the rule and the published layout cannot disagree */
	if (report_assemble(&r, year, template_year, year_flows, before))
		return 1;
	report_foreach_cell(&r, cell_nonzero, &nz);
	return nz.found;
}

int freeze_check(const struct freeze_state *fs, const struct flow *old, int n_old,
		 const struct flow *new_flows, int n_new)
{
	int first = DATE_YEAR_MAX + 1;
	for (int i = 0; i < n_old; i++)
		if (old[i].year < first)
			first = old[i].year;
	for (int i = 0; i < n_new; i++)
		if (new_flows[i].year < first)
			first = new_flows[i].year;
	if (first < DATE_YEAR_MIN)
		first = DATE_YEAR_MIN;
	for (int y = first; y <= DATE_YEAR_MAX; y++) {
		int i = y - DATE_YEAR_MIN;
		if (fs->years[i].frozen && freeze_changes_year(old, n_old, new_flows, n_new, y,
							       fs->years[i].template_year))
			return y;
	}
	return 0;
}

/* ---- the freezes database ---- */

struct freeze_entry {
	uint32_t generation;
	int frozen, template_year;
	int64_t at;
	char by[STORE_FREEZE_BY_MAX + 1];
};

static int freeze_get(MDB_txn *txn, const struct freeze_state *fs, int year, struct freeze_entry *e)
{
	uint8_t kb[FREEZE_KEY_SIZE];
	MDB_val k = {sizeof(kb), kb}, v;
	memset(e, 0, sizeof(*e));
	if (!fs->present)
		return 0;
	put_be(kb, (uint64_t)year, 2);
	int rc = mdb_get(txn, fs->db_freezes, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	const uint8_t *p = v.mv_data;
	if (v.mv_size < FREEZE_VALUE_MIN || v.mv_size > FREEZE_VALUE_MIN + STORE_FREEZE_BY_MAX)
		return MDB_CORRUPTED;
	e->generation = (uint32_t)get_be(p, 4);
	e->frozen = p[4];
	e->template_year = (int)get_be(p + 5, 2);
	e->at = (int64_t)get_be(p + 7, 8);
	memcpy(e->by, p + FREEZE_VALUE_MIN, v.mv_size - FREEZE_VALUE_MIN);
	e->by[v.mv_size - FREEZE_VALUE_MIN] = '\0';
	return 0;
}

static int freeze_put(MDB_txn *txn, const struct freeze_state *fs, int year,
		      const struct freeze_entry *e)
{
	uint8_t kb[FREEZE_KEY_SIZE], vb[FREEZE_VALUE_MIN + STORE_FREEZE_BY_MAX];
	size_t by = strlen(e->by);
	put_be(kb, (uint64_t)year, 2);
	put_be(vb, e->generation, 4);
	vb[4] = (uint8_t)e->frozen;
	put_be(vb + 5, (uint64_t)e->template_year, 2);
	put_be(vb + 7, (uint64_t)e->at, 8);
	memcpy(vb + FREEZE_VALUE_MIN, e->by, by);
	MDB_val k = {sizeof(kb), kb}, v = {FREEZE_VALUE_MIN + by, vb};
	return mdb_put(txn, fs->db_freezes, &k, &v, 0);
}

int freeze_open(MDB_txn *txn, struct freeze_state *fs, int create)
{
	unsigned flags = create ? MDB_CREATE : 0;
	int rc;
	memset(fs, 0, sizeof(*fs));
	if ((rc = mdb_dbi_open(txn, "freezes", flags, &fs->db_freezes)) ||
	    (rc = mdb_dbi_open(txn, "snapshots", flags, &fs->db_snapshots)) ||
	    (rc = mdb_dbi_open(txn, "audit", flags, &fs->db_audit)))
		return rc == MDB_NOTFOUND && !create ? 0 : rc;
	fs->present = 1;
	/* a read-only store frozen before the published database was kept reads as without */
	rc = mdb_dbi_open(txn, "published", flags, &fs->db_published);
	if (rc && !(rc == MDB_NOTFOUND && !create))
		return rc;
	fs->has_published = rc == 0;
	for (int y = DATE_YEAR_MIN; y <= DATE_YEAR_MAX; y++) {
		struct freeze_entry e;
		if ((rc = freeze_get(txn, fs, y, &e)))
			return rc;
		fs->years[y - DATE_YEAR_MIN].frozen = (uint8_t)e.frozen;
		fs->years[y - DATE_YEAR_MIN].template_year = (uint16_t)e.template_year;
		fs->years[y - DATE_YEAR_MIN].generation = e.generation;
	}
	return 0;
}

/* ---- snapshots ---- */

static void snapshot_key(uint8_t kb[SNAPSHOT_KEY_SIZE], int year, uint32_t generation,
			 uint8_t scope, uint32_t scope_id)
{
	put_be(kb, (uint64_t)year, 2);
	put_be(kb + 2, generation, 4);
	kb[6] = scope;
	put_be(kb + 7, scope_id, 4);
}

struct cell_values {
	size_t n;
	int64_t v[CELLS_MAX];
	const char *keys[CELLS_MAX];
	char key_text[CELLS_MAX][96];
};

static void collect_cell(void *ctx, const char *key, int64_t value)
{
	struct cell_values *c = ctx;
	if (c->n == CELLS_MAX)
		return;
	snprintf(c->key_text[c->n], sizeof(c->key_text[c->n]), "%s", key);
	c->keys[c->n] = c->key_text[c->n];
	c->v[c->n++] = value;
}

/* The snapshot of one scope as a report; a scope with no snapshot (a unit known only since) is
 * all zeros. */
static int snapshot_read(MDB_txn *txn, const struct freeze_state *fs, int year, uint32_t generation,
			 int template_year, uint8_t scope, uint32_t scope_id, struct report *out)
{
	uint8_t kb[SNAPSHOT_KEY_SIZE];
	MDB_val k = {sizeof(kb), kb}, v;
	struct report zero;
	struct cell_values *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return ENOMEM;
	memset(&zero, 0, sizeof(zero));
	zero.year = year;
	zero.template_year = template_year;
	report_foreach_cell(&zero, collect_cell, c);
	snapshot_key(kb, year, generation, scope, scope_id);
	int rc = mdb_get(txn, fs->db_snapshots, &k, &v);
	if (rc == MDB_NOTFOUND) {
		memset(c->v, 0, sizeof(c->v));
		rc = 0;
	} else if (rc == 0 && v.mv_size != c->n * sizeof(int64_t)) {
		rc = MDB_CORRUPTED;
	} else if (rc == 0) {
		memcpy(c->v, v.mv_data, v.mv_size);
	}
	if (rc == 0 && report_from_cells(out, year, template_year, c->keys, c->v, c->n))
		rc = MDB_CORRUPTED;
	free(c);
	return rc;
}

static int snapshot_write(MDB_txn *txn, const struct freeze_state *fs, int year,
			  uint32_t generation, uint8_t scope, uint32_t scope_id,
			  const struct report *r)
{
	uint8_t kb[SNAPSHOT_KEY_SIZE];
	struct cell_values *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return ENOMEM;
	report_foreach_cell(r, collect_cell, c);
	snapshot_key(kb, year, generation, scope, scope_id);
	MDB_val k = {sizeof(kb), kb}, v = {c->n * sizeof(int64_t), c->v};
	int rc = mdb_put(txn, fs->db_snapshots, &k, &v, 0);
	free(c);
	return rc;
}

/* ---- the audit log ---- */

static void iso_time(int64_t at, char buf[32])
{
	struct tm tm;
	time_t t = (time_t)at;
	if (gmtime_r(&t, &tm) == NULL || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, 32, "%lld", (long long)at);
}

static int audit_append(MDB_txn *txn, const struct freeze_state *fs, const Xxgk__V1__FreezeEvent *e)
{
	MDB_cursor *cur;
	MDB_val k, v;
	uint8_t kb[8];
	uint64_t next = 1;
	int rc = mdb_cursor_open(txn, fs->db_audit, &cur);
	if (rc)
		return rc;
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	mdb_cursor_close(cur);
	if (rc == 0 && k.mv_size == 8)
		next = get_be(k.mv_data, 8) + 1;
	else if (rc == 0)
		return MDB_CORRUPTED;
	else if (rc != MDB_NOTFOUND)
		return rc;
	size_t len = xxgk__v1__freeze_event__get_packed_size(e);
	uint8_t *buf = malloc(len ? len : 1);
	if (buf == NULL)
		return ENOMEM;
	xxgk__v1__freeze_event__pack(e, buf);
	put_be(kb, next, 8);
	k = (MDB_val){sizeof(kb), kb};
	v = (MDB_val){len, buf};
	rc = mdb_put(txn, fs->db_audit, &k, &v, 0);
	free(buf);
	return rc;
}

/* ---- what the published report prints besides the cells ---- */

static void published_key(uint8_t kb[6], int year, uint32_t generation)
{
	put_be(kb, (uint64_t)year, 2);
	put_be(kb + 2, generation, 4);
}

struct published_build {
	struct store *st;
	MDB_txn *txn;
	int year;
	const struct store_government *gov;
	Xxgk__V1__PublishedUnit *units;
	Xxgk__V1__PublishedUnit **ptrs;
	size_t n, cap;
};

static int published_unit(void *ctx, const char *id, uint32_t number, int kind)
{
	struct published_build *b = ctx;
	int listed, submitted;
	int rc = store_unit_state(b->st, b->txn, number, b->year, &listed, &submitted);
	if (rc || !listed || b->n == b->cap)
		return rc;
	Xxgk__V1__PublishedUnit *u = &b->units[b->n];
	*u = (Xxgk__V1__PublishedUnit)XXGK__V1__PUBLISHED_UNIT__INIT;
	u->id = (char *)id;
	u->name = (char *)id;
	for (size_t i = 0; i < b->gov->n_units; i++)
		if (strcmp(b->gov->unit_ids[i], id) == 0)
			u->name = (char *)b->gov->unit_names[i];
	u->has_kind = u->has_silent = 1;
	u->kind = (Xxgk__V1__UnitKind)kind;
	u->silent = !submitted;
	b->ptrs[b->n++] = u;
	return 0;
}

static int count_unit(void *ctx, const char *id, uint32_t number, int kind)
{
	(void)id;
	(void)number;
	(void)kind;
	++*(size_t *)ctx;
	return 0;
}

/* The government and the listed units' silence, as the published report prints them. */
static int published_write(struct store *st, MDB_txn *txn, const struct freeze_state *fs, int year,
			   uint32_t generation, const struct store_government *gov)
{
	struct published_build b = {st, txn, year, gov, NULL, NULL, 0, 0};
	Xxgk__V1__Published p = XXGK__V1__PUBLISHED__INIT;
	uint8_t kb[6];
	int rc = store_foreach_known_unit(st, count_unit, &b.cap);
	if (rc)
		return rc;
	b.units = calloc(b.cap + 1, sizeof(*b.units));
	b.ptrs = calloc(b.cap + 1, sizeof(*b.ptrs));
	if (b.units == NULL || b.ptrs == NULL)
		rc = ENOMEM;
	if (rc == 0)
		rc = store_foreach_known_unit(st, published_unit, &b);
	uint8_t *buf = NULL;
	if (rc == 0) {
		p.government = (char *)(gov->name ? gov->name : "");
		p.region = (char *)(gov->region ? gov->region : "");
		p.has_level = 1;
		p.level = (Xxgk__V1__GovernmentLevel)gov->level;
		p.n_units = b.n;
		p.units = b.ptrs;
		size_t len = xxgk__v1__published__get_packed_size(&p);
		if ((buf = malloc(len ? len : 1)) == NULL) {
			rc = ENOMEM;
		} else {
			xxgk__v1__published__pack(&p, buf);
			published_key(kb, year, generation);
			MDB_val k = {sizeof(kb), kb}, v = {len, buf};
			rc = mdb_put(txn, fs->db_published, &k, &v, 0);
		}
	}
	free(buf);
	free(b.units);
	free(b.ptrs);
	return rc;
}

static int published_read(MDB_txn *txn, const struct freeze_state *fs, int year,
			  uint32_t generation, Xxgk__V1__Published **out)
{
	uint8_t kb[6];
	MDB_val k = {sizeof(kb), kb}, v;
	*out = NULL;
	if (!fs->has_published)
		return 0;
	published_key(kb, year, generation);
	int rc = mdb_get(txn, fs->db_published, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	*out = xxgk__v1__published__unpack(NULL, v.mv_size, v.mv_data);
	return *out ? 0 : MDB_CORRUPTED;
}

/* ---- freeze and unfreeze ---- */

struct freeze_job {
	int year;
	const char *by, *reason;
	int64_t at;
	const struct store_government *gov;
	struct freeze_entry entry; /* as written */
	uint64_t scopes;
	int err; /* an XXGK_ code decided inside the transaction */
};

struct unit_snapshot {
	struct freeze_job *job;
	struct freeze_state *fs;
	MDB_txn *txn;
	struct store *st;
	struct report r;
};

static int snapshot_scope(struct unit_snapshot *u, uint8_t scope, uint32_t scope_id)
{
	int rc = store_scope_report(u->st, u->txn, scope, scope_id, u->job->year,
				    u->job->entry.template_year, &u->r);
	if (rc)
		return rc;
	u->job->scopes++;
	return snapshot_write(u->txn, u->fs, u->job->year, u->job->entry.generation, scope,
			      scope_id, &u->r);
}

static int snapshot_unit(void *ctx, const char *id, uint32_t number, int kind)
{
	(void)id;
	(void)kind;
	return snapshot_scope(ctx, SCOPE_UNIT, number);
}

static int freeze_attempt(struct store *st, MDB_txn *txn, void *arg)
{
	struct freeze_job *j = arg;
	struct freeze_state *fs = store_freeze_state(st);
	struct unit_snapshot u = {j, fs, txn, st, {0}};
	char at[32];
	int rc = freeze_get(txn, fs, j->year, &j->entry);
	j->scopes = 0;
	if (rc)
		return rc;
	if (j->entry.frozen)
		return j->err = XXGK_EEXIST;
	j->entry.generation++;
	j->entry.frozen = 1;
	j->entry.template_year = cells_template_for_year(j->year);
	j->entry.at = j->at;
	snprintf(j->entry.by, sizeof(j->entry.by), "%s", j->by);
	if ((rc = snapshot_scope(&u, SCOPE_CITY, 0)))
		return rc;
	for (uint32_t k = 1; k <= KIND_MAX; k++)
		if ((rc = snapshot_scope(&u, SCOPE_KIND, k)))
			return rc;
	if ((rc = store_foreach_known_unit(st, snapshot_unit, &u)) ||
	    (j->gov && (rc = published_write(st, txn, fs, j->year, j->entry.generation, j->gov))) ||
	    (rc = freeze_put(txn, fs, j->year, &j->entry)))
		return rc;
	Xxgk__V1__FreezeEvent e = XXGK__V1__FREEZE_EVENT__INIT;
	iso_time(j->at, at);
	e.at = at;
	e.by = j->entry.by;
	e.action = "freeze";
	e.has_year = e.has_generation = e.has_scopes = 1;
	e.year = (uint32_t)j->year;
	e.generation = j->entry.generation;
	e.scopes = j->scopes;
	return audit_append(txn, fs, &e);
}

static int unfreeze_attempt(struct store *st, MDB_txn *txn, void *arg)
{
	struct freeze_job *j = arg;
	struct freeze_state *fs = store_freeze_state(st);
	char at[32], by[STORE_FREEZE_BY_MAX + 1];
	int rc = freeze_get(txn, fs, j->year, &j->entry);
	if (rc)
		return rc;
	if (!j->entry.frozen)
		return j->err = XXGK_ENOTFOUND;
	/* the snapshot stays: restatements compare with it, and the log says who opened it */
	j->entry.frozen = 0;
	if ((rc = freeze_put(txn, fs, j->year, &j->entry)))
		return rc;
	Xxgk__V1__FreezeEvent e = XXGK__V1__FREEZE_EVENT__INIT;
	iso_time(j->at, at);
	snprintf(by, sizeof(by), "%s", j->by);
	e.at = at;
	e.by = by;
	e.action = "unfreeze";
	e.reason = (char *)j->reason;
	e.has_year = e.has_generation = 1;
	e.year = (uint32_t)j->year;
	e.generation = j->entry.generation;
	return audit_append(txn, fs, &e);
}

static int by_ok(const char *by)
{
	return by && by[0] && strlen(by) <= STORE_FREEZE_BY_MAX && utf8_valid(by, strlen(by));
}

int store_freeze(struct store *st, int year, const char *by, int64_t at,
		 const struct store_government *gov, uint32_t *generation, uint64_t *scopes)
{
	struct freeze_job j = {.year = year, .by = by, .at = at, .gov = gov};
	if (!year_ok(year) || !by_ok(by))
		return XXGK_EINVAL;
	int rc = store_write(st, freeze_attempt, &j);
	if (rc)
		return j.err ? j.err : rc;
	/* only once committed: the FROZEN rule of the next batch sees the year */
	struct freeze_state *fs = store_freeze_state(st);
	fs->years[year - DATE_YEAR_MIN].frozen = 1;
	fs->years[year - DATE_YEAR_MIN].template_year = (uint16_t)j.entry.template_year;
	fs->years[year - DATE_YEAR_MIN].generation = j.entry.generation;
	*generation = j.entry.generation;
	*scopes = j.scopes;
	return 0;
}

int store_unfreeze(struct store *st, int year, const char *reason, const char *by, int64_t at,
		   uint32_t *generation)
{
	struct freeze_job j = {.year = year, .by = by, .reason = reason, .at = at};
	if (!year_ok(year) || !by_ok(by) || reason == NULL || reason[0] == '\0' ||
	    strlen(reason) > STORE_FREEZE_REASON_MAX || !utf8_valid(reason, strlen(reason)))
		return XXGK_EINVAL;
	int rc = store_write(st, unfreeze_attempt, &j);
	if (rc)
		return j.err ? j.err : rc;
	store_freeze_state(st)->years[year - DATE_YEAR_MIN].frozen = 0;
	*generation = j.entry.generation;
	return 0;
}

/* ---- reading ---- */

static void info_from(struct store_freeze_info *info, const struct freeze_entry *e)
{
	info->frozen = e->frozen;
	info->generation = e->generation;
	info->template_year = e->template_year;
	info->at = e->at;
	memcpy(info->by, e->by, sizeof(info->by));
}

int store_freeze_info(struct store *st, int year, struct store_freeze_info *info)
{
	MDB_txn *txn;
	struct freeze_entry e;
	memset(info, 0, sizeof(*info));
	if (!year_ok(year))
		return XXGK_EINVAL;
	int rc = store_read_begin(st, &txn);
	if (rc)
		return rc;
	rc = freeze_get(txn, store_freeze_state(st), year, &e);
	store_read_end(st, txn);
	if (rc == 0)
		info_from(info, &e);
	return to_xxgk(rc);
}

/* The scope's (scope, id) in txn; XXGK_ENOTFOUND for a unit never known. */
static int scope_key(struct store *st, const struct report_scope *scope, uint8_t *type,
		     uint32_t *id)
{
	*type = (uint8_t)scope->type;
	*id = 0;
	if (scope->type == SCOPE_KIND) {
		if (scope->kind < 1 || scope->kind > KIND_MAX)
			return XXGK_EINVAL;
		*id = (uint32_t)scope->kind;
	} else if (scope->type == SCOPE_UNIT) {
		if (scope->unit == NULL || (*id = store_known_unit(st, scope->unit)) == 0)
			return XXGK_ENOTFOUND;
	} else if (scope->type != SCOPE_CITY) {
		return XXGK_EINVAL;
	}
	return 0;
}

int store_published_report(struct store *st, int year, const struct report_scope *scope,
			   struct report *out, struct store_freeze_info *info)
{
	MDB_txn *txn;
	struct freeze_entry e;
	uint8_t type;
	uint32_t id;
	memset(info, 0, sizeof(*info));
	if (!year_ok(year))
		return XXGK_EINVAL;
	int rc = store_read_begin(st, &txn);
	if (rc)
		return rc;
	rc = to_xxgk(freeze_get(txn, store_freeze_state(st), year, &e));
	if (rc == 0) {
		info_from(info, &e);
		if (!e.frozen)
			rc = XXGK_ENOTFOUND;
	}
	if (rc == 0)
		rc = scope_key(st, scope, &type, &id);
	if (rc == 0)
		rc = to_xxgk(snapshot_read(txn, store_freeze_state(st), year, e.generation,
					   e.template_year, type, id, out));
	store_read_end(st, txn);
	return rc;
}

int store_published_meta(struct store *st, int year, uint32_t generation, Xxgk__V1__Published **out)
{
	MDB_txn *txn;
	*out = NULL;
	if (!year_ok(year))
		return XXGK_EINVAL;
	int rc = store_read_begin(st, &txn);
	if (rc)
		return rc;
	rc = published_read(txn, store_freeze_state(st), year, generation, out);
	store_read_end(st, txn);
	return to_xxgk(rc);
}

int store_freeze_events(struct store *st, store_freeze_event_fn fn, void *ctx)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	struct freeze_state *fs = store_freeze_state(st);
	int rc = store_read_begin(st, &txn), stopped = 0;
	if (rc)
		return rc;
	if (!fs->present || (rc = mdb_cursor_open(txn, fs->db_audit, &cur))) {
		store_read_end(st, txn);
		return xxgk_error_from_mdb(rc);
	}
	for (MDB_cursor_op op = MDB_FIRST; !stopped && (rc = mdb_cursor_get(cur, &k, &v, op)) == 0;
	     op = MDB_NEXT) {
		Xxgk__V1__FreezeEvent *e =
		    xxgk__v1__freeze_event__unpack(NULL, v.mv_size, v.mv_data);
		if (e == NULL) {
			rc = MDB_CORRUPTED;
			break;
		}
		stopped = fn(ctx, e);
		xxgk__v1__freeze_event__free_unpacked(e, NULL);
	}
	mdb_cursor_close(cur);
	store_read_end(st, txn);
	if (stopped)
		return stopped;
	return rc == MDB_NOTFOUND ? 0 : to_xxgk(rc);
}

struct restating {
	struct store *st;
	MDB_txn *txn;
	int year, template_year;
	uint32_t generation;
	store_restatement_fn fn;
	void *ctx;
	struct report published, live;
	struct cell_values a, b;
	Xxgk__V1__Published *meta; /* of the snapshot compared with; NULL if not kept */
	struct silence {
		const char *id;
		int kind, live, published;
	} * known;
	size_t n_known;
};

static int in_scope(const struct report_scope *scope, const char *id, int kind)
{
	return scope->type == SCOPE_CITY || (scope->type == SCOPE_KIND && kind == scope->kind) ||
	       (scope->type == SCOPE_UNIT && strcmp(id, scope->unit) == 0);
}

/* Each known unit's silence, published and live, read once for every scope. */
static int silence_of(void *ctx, const char *id, uint32_t number, int kind)
{
	struct restating *r = ctx;
	struct silence *u = &r->known[r->n_known++];
	int listed, submitted;
	int rc = store_unit_state(r->st, r->txn, number, r->year, &listed, &submitted);
	*u = (struct silence){id, kind, listed && !submitted, 0};
	for (size_t i = 0; i < r->meta->n_units; i++)
		if (r->meta->units[i]->id && strcmp(r->meta->units[i]->id, id) == 0)
			u->published = r->meta->units[i]->silent;
	return rc;
}

/* The silent units of scope, published and live: a line "silent_units" when they differ, with
 * how many each. While the year is frozen no record moves them (FROZEN), so only a restatement
 * or a change of the units listed does. */
static int restate_silent(struct restating *r, const struct report_scope *scope)
{
	int64_t was = 0, now = 0;
	int differ = 0;
	for (size_t i = 0; r->meta && i < r->n_known; i++) {
		const struct silence *u = &r->known[i];
		if (!in_scope(scope, u->id, u->kind))
			continue;
		was += u->published;
		now += u->live;
		differ |= u->published != u->live;
	}
	return differ ? r->fn(r->ctx, scope, "silent_units", was, now) : 0;
}

static int restate_scope(struct restating *r, const struct report_scope *scope, uint8_t type,
			 uint32_t id)
{
	int rc = snapshot_read(r->txn, store_freeze_state(r->st), r->year, r->generation,
			       r->template_year, type, id, &r->published);
	if (rc == 0)
		rc = store_scope_report(r->st, r->txn, type, id, r->year, r->template_year,
					&r->live);
	if (rc)
		return rc;
	r->a.n = r->b.n = 0;
	report_foreach_cell(&r->published, collect_cell, &r->a);
	report_foreach_cell(&r->live, collect_cell, &r->b);
	for (size_t i = 0; i < r->a.n && i < r->b.n && rc == 0; i++)
		if (r->a.v[i] != r->b.v[i])
			rc = r->fn(r->ctx, scope, r->a.keys[i], r->a.v[i], r->b.v[i]);
	return rc ? rc : restate_silent(r, scope);
}

static int restate_unit(void *ctx, const char *id, uint32_t number, int kind)
{
	(void)kind;
	struct report_scope scope = {SCOPE_UNIT, 0, id};
	return restate_scope(ctx, &scope, SCOPE_UNIT, number);
}

int store_restatements(struct store *st, int year, store_restatement_fn fn, void *ctx,
		       uint32_t *generation)
{
	MDB_txn *txn;
	struct freeze_entry e;
	*generation = 0;
	if (!year_ok(year))
		return XXGK_EINVAL;
	struct restating *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return XXGK_ENOMEM;
	int rc = store_read_begin(st, &txn);
	if (rc) {
		free(r);
		return rc;
	}
	rc = freeze_get(txn, store_freeze_state(st), year, &e);
	/* frozen: what the last restatement changed; open again: what the next one will */
	uint32_t g = rc ? 0 : e.frozen ? e.generation - 1 : e.generation;
	if (g) {
		size_t n = 0;
		*r = (struct restating){st, txn, year, e.template_year, g, fn, ctx};
		rc = published_read(txn, store_freeze_state(st), year, g, &r->meta);
		if (rc == 0 && r->meta &&
		    (rc = store_foreach_known_unit(st, count_unit, &n)) == 0 &&
		    (r->known = calloc(n + 1, sizeof(*r->known))) == NULL)
			rc = ENOMEM;
		if (rc == 0 && r->meta)
			rc = store_foreach_known_unit(st, silence_of, r);
		struct report_scope city = {SCOPE_CITY, 0, NULL};
		if (rc == 0)
			rc = restate_scope(r, &city, SCOPE_CITY, 0);
		for (int k = 1; k <= KIND_MAX && rc == 0; k++) {
			struct report_scope kind = {SCOPE_KIND, k, NULL};
			rc = restate_scope(r, &kind, SCOPE_KIND, (uint32_t)k);
		}
		if (rc == 0)
			rc = store_foreach_known_unit(st, restate_unit, r);
	}
	store_read_end(st, txn);
	if (r->meta)
		xxgk__v1__published__free_unpacked(r->meta, NULL);
	free(r->known);
	free(r);
	*generation = g;
	return to_xxgk(rc);
}

int store_carry_differences(struct store *st, const struct report *live,
			    const struct report_scope *scope, store_carry_fn fn, void *ctx)
{
	MDB_txn *txn;
	struct freeze_entry e;
	struct report published;
	uint8_t type;
	uint32_t id;
	char key[96];
	int year = live->year - 1;
	if (!year_ok(year))
		return 0;
	int rc = store_read_begin(st, &txn);
	if (rc)
		return rc;
	rc = to_xxgk(freeze_get(txn, store_freeze_state(st), year, &e));
	if (rc == 0 && e.generation)
		rc = scope_key(st, scope, &type, &id);
	if (rc == 0 && e.generation)
		rc = to_xxgk(snapshot_read(txn, store_freeze_state(st), year, e.generation,
					   e.template_year, type, id, &published));
	store_read_end(st, txn);
	if (rc || e.generation == 0)
		return rc == XXGK_ENOTFOUND ? 0 : rc;
	for (int c = 0; c < APP_COLUMNS_WITH_TOTAL; c++) {
		int64_t was = published.app[APP_ROW_CARRIED_OUT][c],
			now = live->app[APP_ROW_CARRIED_IN][c];
		if (was != now) {
			snprintf(key, sizeof(key), "applications.carried_in.%s",
				 app_columns[c].key);
			fn(ctx, key, was, now);
		}
	}
	return 0;
}
