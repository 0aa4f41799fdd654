/* xxgkctl deadlines: the answer periods of open applications, printed in each format. */
#ifndef XXGK_XXGKCTL_DEADLINES_H
#define XXGK_XXGKCTL_DEADLINES_H

#include <stdio.h>

#include "render.h"
#include "xxgk.pb-c.h"

/* Prints r in format f (text, markdown, csv, json or html); 0, or -1 for cells. */
int deadlines_print(FILE *out, const Xxgk__V1__DeadlinesReply *r, enum render_format f);

#endif
