/*
 * The reporting government's wording, in one place for every layout (text, markdown, html,
 * csv, json here; xlsx in its own file): the scope word, the kind labels and the title follow
 * the government's level and region (DOMAIN.md, "Closing a year").
 */
#include <stdio.h>
#include <string.h>

#include "render.h"

const struct render_government render_example_government = {"瑞安市人民政府", "瑞安市",
							    RENDER_LEVEL_CITY};

static const char *const level_names[] = {NULL,	    "province", "city",
					  "county", "district", "township"};

const char *render_level_name(int level)
{
	return level >= RENDER_LEVEL_PROVINCE && level <= RENDER_LEVEL_TOWNSHIP ? level_names[level]
										: NULL;
}

/* A government that names nothing is the example city; one with an unknown level a city. */
static struct render_government effective(const struct render_government *g)
{
	struct render_government e = render_example_government;
	if (g && (g->name || g->region || g->level)) {
		e.name = g->name ? g->name : "";
		e.region = g->region ? g->region : "";
		e.level = render_level_name(g->level) ? g->level : RENDER_LEVEL_CITY;
	}
	return e;
}

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);
	return n >= t && strcmp(s + n - t, tail) == 0;
}

/*
 * The word the level's documents use for the government's own area and bodies: 省, 市, 县, 区.
 * A township government is a 乡, a 镇 or a 街道, which only its name tells.
 */
static const char *level_word(const struct render_government *g)
{
	switch (g->level) {
	case RENDER_LEVEL_PROVINCE:
		return "省";
	case RENDER_LEVEL_COUNTY:
		return "县";
	case RENDER_LEVEL_DISTRICT:
		return "区";
	case RENDER_LEVEL_TOWNSHIP:
		return ends_with(g->region, "街道") ? "街道"
		       : ends_with(g->region, "镇") ? "镇"
		       : ends_with(g->region, "乡") ? "乡"
						    : "乡镇";
	default:
		return "市";
	}
}

void render_scope_word(const struct render_government *g, char *buf, size_t size)
{
	struct render_government e = effective(g);
	snprintf(buf, size, "全%s", level_word(&e));
}

void render_kind_label(const struct render_government *g, int kind, char *buf, size_t size)
{
	struct render_government e = effective(g);
	const char *w = level_word(&e);
	switch (kind) {
	case 1: /* UNIT_GOVERNMENT: a province's general office is a 办公厅, a sub-district's
		   office the 办事处 itself */
		if (e.level == RENDER_LEVEL_PROVINCE)
			snprintf(buf, size, "%s政府办公厅", w);
		else if (strcmp(w, "街道") == 0)
			snprintf(buf, size, "街道办事处");
		else
			snprintf(buf, size, "%s政府办公室", w);
		break;
	case 2:
		snprintf(buf, size, "%s各有关部门", w);
		break;
	case 3:
		snprintf(buf, size, "%s", labels[LABEL_KIND_TOWNSHIP]);
		break;
	case 4:
		snprintf(buf, size, "%s", labels[LABEL_KIND_FUNCTIONAL_ZONE]);
		break;
	default:
		snprintf(buf, size, "%s", "");
	}
}

void render_scope_name(const struct render_government *g, int kind, const char *unit_name,
		       char *buf, size_t size)
{
	if (unit_name)
		snprintf(buf, size, "%s", unit_name);
	else if (kind)
		render_kind_label(g, kind, buf, size);
	else
		render_scope_word(g, buf, size);
}

void render_title(const struct report *r, const struct render_meta *m, char *buf, size_t size)
{
	struct render_government e = effective(&m->gov);
	int whole = m->scope == NULL || strcmp(m->scope, "city") == 0;
	snprintf(buf, size, "%s%d年政府信息公开工作年度报告统计表%s%s%s", e.region, r->year,
		 whole ? "" : "（", whole ? "" : m->scope_name, whole ? "" : "）");
}

void render_subtitle(const struct report *r, const struct render_meta *m, char *buf, size_t size)
{
	struct render_government e = effective(&m->gov);
	snprintf(buf, size, "%s%s%s范围：%s　格式：%d年格式（%s）", e.name[0] ? "报告机关：" : "",
		 e.name, e.name[0] ? "　" : "", m->scope_name, r->template_year,
		 r->template_year == 2019 ? "国办公开办函〔2019〕60号"
					  : "国办公开办函〔2021〕30号");
}

struct render_government render_government_of(const struct render_meta *m)
{
	return effective(&m->gov);
}
