/*
 * A bump allocator for decoding requests with protobuf-c: everything decoded in one loop pass
 * is freed at once by arena_reset, and a message can never take more than the arena's cap.
 */
#ifndef XXGK_ARENA_H
#define XXGK_ARENA_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *chunks;
	size_t used; /* bytes handed out since the last reset */
	size_t cap;  /* beyond this, allocations fail */
	ProtobufCAllocator allocator;
};

void arena_init(struct arena *a, size_t cap);
/* NULL when out of memory or past the cap */
void *arena_alloc(struct arena *a, size_t size);
/*
 * Room for one more element in a growing array of n elements of size (holding *cap): the
 * array itself when it has room, else a copy of it in first or twice *cap elements, *cap
 * updated. The old copy stays in the arena until the reset. NULL when out of memory.
 */
void *arena_grow(struct arena *a, void *array, size_t n, size_t *cap, size_t size, size_t first);
/* Keeps the first chunk for reuse, frees the rest. */
void arena_reset(struct arena *a);
void arena_free(struct arena *a);

#endif
