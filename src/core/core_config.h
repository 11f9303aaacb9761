/*
 * Compile-time limits and defaults of the portable core, in one place. A port overrides any of
 * them with -D on its compiler line; everything in src/core/ sizes its fixed buffers from here.
 */
#ifndef GARAGED_CORE_CONFIG_H
#define GARAGED_CORE_CONFIG_H

/* How long a reed switch level must hold before the door state machine believes it. */
#ifndef DOOR_DEBOUNCE_MS
#define DOOR_DEBOUNCE_MS (50U)
#endif

#endif
