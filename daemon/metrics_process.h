/*
 * The process metrics every Prometheus exporter has, under their standard names
 * (process_open_fds, process_max_fds, process_resident_memory_bytes, ...), read from
 * /proc/self at each scrape, so that xxgkd's dashboards need no node exporter for them.
 */
#ifndef XXGK_METRICS_PROCESS_H
#define XXGK_METRICS_PROCESS_H

#include <event2/buffer.h>

/* Appends the process_* lines to b; a figure that cannot be read is left out (0 or -1). */
int metrics_process(struct evbuffer *b);

#endif
