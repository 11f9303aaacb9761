/*
 * backend_impl: what backend.c and the two implementations share, and nothing the daemon sees.
 *
 * Each implementation embeds struct backend as the first member of its own struct and fills in
 * ops, so backend.c can dispatch without knowing which one it holds. Only backend.c,
 * backend_sim.c and backend_gpiod.c include this header.
 */
#ifndef GARAGED_BACKEND_IMPL_H
#define GARAGED_BACKEND_IMPL_H

#include "backend.h"

struct backend_ops {
	struct backend *(*open)(const struct config_door *door, char *err, size_t errlen);
	void (*close)(struct backend *b);
	int (*relay)(struct backend *b, bool on);
	int (*read)(struct backend *b, struct backend_levels *out);
	int (*fd)(const struct backend *b);
	int (*dispatch)(struct backend *b);
};

/* The head of every implementation's struct; the pointer casts in the implementations rely on it.
 */
struct backend {
	const struct backend_ops *ops;
	bool has_open_sensor; /* set by the implementation's open */
};

extern const struct backend_ops backend__sim_ops;
extern const struct backend_ops backend__gpiod_ops;

#endif
