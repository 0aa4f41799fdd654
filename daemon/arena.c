#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_SIZE ((size_t)256 << 10)

struct arena_chunk {
	struct arena_chunk *next;
	size_t size, used;
	max_align_t data[];
};

static void *pb_alloc(void *data, size_t size)
{
	return arena_alloc(data, size);
}

static void pb_free(void *data, void *p)
{
	(void)data, (void)p; /* freed with the arena */
}

void arena_init(struct arena *a, size_t cap)
{
	a->chunks = NULL;
	a->used = 0;
	a->cap = cap;
	a->allocator = (ProtobufCAllocator){pb_alloc, pb_free, a};
}

void *arena_alloc(struct arena *a, size_t size)
{
	size = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	if (size > a->cap || a->used > a->cap - size)
		return NULL;
	struct arena_chunk *c = a->chunks;
	if (c == NULL || c->size - c->used < size) {
		size_t chunk = size > CHUNK_SIZE ? size : CHUNK_SIZE;
		c = malloc(sizeof(*c) + chunk);
		if (c == NULL)
			return NULL;
		c->size = chunk;
		c->used = 0;
		c->next = a->chunks;
		a->chunks = c;
	}
	void *p = (char *)c->data + c->used;
	c->used += size;
	a->used += size;
	return p;
}

void arena_reset(struct arena *a)
{
	struct arena_chunk *c = a->chunks, *keep = NULL;
	while (c) {
		struct arena_chunk *next = c->next;
		if (keep == NULL && c->size == CHUNK_SIZE) {
			keep = c;
			keep->used = 0;
			keep->next = NULL;
		} else {
			free(c);
		}
		c = next;
	}
	a->chunks = keep;
	a->used = 0;
}

void *arena_grow(struct arena *a, void *array, size_t n, size_t *cap, size_t size, size_t first)
{
	if (n < *cap)
		return array;
	size_t grown = *cap ? *cap * 2 : first;
	void *v = arena_alloc(a, grown * size);
	if (v == NULL)
		return NULL;
	if (n)
		memcpy(v, array, n * size);
	*cap = grown;
	return v;
}

void arena_free(struct arena *a)
{
	arena_reset(a);
	free(a->chunks);
	a->chunks = NULL;
}
