/*
 * stage: where one command's time goes, in a bench build only (cmake -DGARAGED_STAGES=ON, which
 * `make bench` makes beside the release build; never the release build itself). Each half
 * stamps the stages it passes with CLOCK_REALTIME, the clock of the simulated relay's sim_log
 * and of mosquitto_sub's arrival times, keeps one record per command in memory, and writes its
 * records to stderr when it exits: nothing is written on the command's way.
 *
 * The network half: the broker socket readable, a TLS record decrypted, on_message, the packet
 * about to be sent on the channel (stamped before send(): the door half may run first). The door
 * half: the channel readable, the packet received, the command verified, the relay line written. A
 * stage stamped again before the record ends keeps the latest stamp: the one on the command's own
 * way.
 *
 * Without GARAGED_STAGES every call below is nothing at all.
 */
#ifndef GARAGED_STAGE_H
#define GARAGED_STAGE_H

enum stage {
	STAGE_NET_READABLE,
	STAGE_TLS_DECRYPTED,
	STAGE_ON_MESSAGE,
	STAGE_CHANNEL_SENT,
	STAGE_DOOR_READABLE,
	STAGE_DOOR_RECEIVED,
	STAGE_VERIFIED,
	STAGE_RELAY_WRITTEN,
	STAGE_COUNT,
};

#ifdef GARAGED_STAGES
/* Stamps S now, in the record being made. */
void stage_mark(enum stage s);
/* Ends the record being made (a command has passed this half), and starts the next. */
void stage_end(void);
/* Forgets the record being made (what passed was not a command). */
void stage_forget(void);
/* Writes every ended record to stderr, one "stages WHO t0 ... t7" line each (ns; 0: none). */
void stage_dump(const char *who);
#else
#define stage_mark(s)  ((void)0)
#define stage_end()    ((void)0)
#define stage_forget() ((void)0)
#define stage_dump(w)  ((void)0)
#endif

#endif
