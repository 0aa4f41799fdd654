/*
 * Giving memory back after a burst. glibc keeps what is freed: its mmap threshold rises with
 * the largest block freed (so megabyte pushes and replies end up in heaps that are never
 * unmapped), and each thread (the ZeroMQ I/O threads that read pushes and write replies) has
 * an arena of its own whose free pages stay resident.
 */
#ifndef XXGK_MEMORY_H
#define XXGK_MEMORY_H

/* How often the loop returns free pages, and after a pass whose decoded pushes took more. */
#define MEMORY_TRIM_SECONDS 5
#define MEMORY_TRIM_AFTER ((size_t)32 << 20)

/* A fixed mmap threshold: blocks of MEMORY_MMAP_THRESHOLD and more go back to the system as
 * soon as they are freed. Call it before any thread starts. */
void memory_setup(void);

/* Returns the free pages of every arena to the system. */
void memory_trim(void);

#endif
