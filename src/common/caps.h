/*
 * caps: the Linux capabilities of garaged's two processes, with libcap.
 *
 * The systemd unit starts garaged as the unprivileged user "garaged" with CAP_SETUID and
 * CAP_SETGID (ambient), which the door half needs for one thing only: to let each network half
 * it forks become [device] user. A change between two non-root users keeps every capability
 * (capabilities(7)), so neither process may rely on the change of user to shed them:
 *
 * - the door half keeps the two in its permitted set only (none effective, none ambient or
 *   inheritable), so that it can start a new network half when one dies;
 * - the child it forks for the network half makes them ambient just before it executes
 *   garaged-net, since execve() keeps nothing else of a non-root process's capabilities;
 * - the network half raises them in its effective set just for the change of user and then
 *   clears every set, and checks that nothing is left.
 *
 * A process started as root needs none of this: becoming another user clears its sets.
 */
#ifndef GARAGED_CAPS_H
#define GARAGED_CAPS_H

#include <stdbool.h>
#include <stddef.h>

/* Whether CAP_SETUID and CAP_SETGID are both in this process's permitted set. */
bool caps_can_setuid(void);

/*
 * The door half: keeps only CAP_SETUID and CAP_SETGID, permitted but not effective, and clears
 * the ambient and inheritable sets. 0, or -1 with ERR saying why.
 */
int caps_door_keep_setuid(char *err, size_t errlen);

/*
 * The door half's child, just before it executes the network half: CAP_SETUID and CAP_SETGID
 * permitted, inheritable and ambient, so that the new program starts with them. 0, or -1 with
 * ERR saying why.
 */
int caps_pass_setuid(char *err, size_t errlen);

/* The network half, before it changes user: CAP_SETUID and CAP_SETGID effective. */
int caps_raise_setuid(char *err, size_t errlen);

/* The network half, after it changed user: every set empty, the ambient set too. */
int caps_drop_all(char *err, size_t errlen);

/* Whether the permitted, effective, inheritable and ambient sets are all empty. */
bool caps_none_left(void);

#endif
