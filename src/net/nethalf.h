/*
 * nethalf: garaged's network half, the process that holds the broker connection (see
 * channel.h for what it may say to the door half).
 */
#ifndef GARAGED_NETHALF_H
#define GARAGED_NETHALF_H

#include <stdbool.h>
#include <sys/types.h>

#include "config.h"

/*
 * The network half: runs in garaged-net, which the door half executes, with CHANNEL its end of
 * the socketpair (every other descriptor closed) and CFG from its CHANNEL_START. CFG's certfile and
 * keyfile are the pair to use, which the door half chose (docs/certificates.md): the configured
 * one, or the renewed one in state_dir; TRIAL says that pair is a renewal's first try, whose
 * refusals by the broker the door half counts (CHANNEL_CONNECT_FAILED). Never returns.
 */
_Noreturn void nethalf_main(const struct config *cfg, int channel, bool drop, uid_t uid, gid_t gid,
                            bool trial);

#endif
