/*
 * backend: picks the implementation a door's configuration names and forwards every call to
 * it through its ops table. It owns no state of its own and never touches hardware, files or
 * clocks itself; see backend_sim.c and backend_gpiod.c for those.
 */
#include <errno.h>
#include <stdio.h>

#include "backend.h"
#include "backend_impl.h"

struct backend *
backend_open(const struct config_door *door, char *err, size_t errlen)
{
	const struct backend_ops *ops;
	struct backend *b;

	switch (door->backend) {
	case CONFIG_BACKEND_SIM:
		ops = &backend__sim_ops;
		break;
	case CONFIG_BACKEND_GPIOD:
		ops = &backend__gpiod_ops;
		break;
	default:
		/* Config validation makes this unreachable; a corrupt struct still must not crash.
		 */
		snprintf(err, errlen, "door '%s': unknown backend %d", door->name,
		         (int)door->backend);
		errno = EINVAL;
		return NULL;
	}
	b = ops->open(door, err, errlen);
	if (b != NULL)
		b->ops = ops;
	return b;
}

void
backend_close(struct backend *b)
{
	if (b != NULL)
		b->ops->close(b);
}

int
backend_relay(struct backend *b, bool on)
{
	return b->ops->relay(b, on);
}

int
backend_read(struct backend *b, struct backend_levels *out)
{
	return b->ops->read(b, out);
}

int
backend_fd(const struct backend *b)
{
	return b->ops->fd(b);
}

int
backend_dispatch(struct backend *b)
{
	return b->ops->dispatch(b);
}

bool
backend_has_open_sensor(const struct backend *b)
{
	return b->has_open_sensor;
}
