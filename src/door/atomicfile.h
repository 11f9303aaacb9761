/*
 * atomicfile: replacing a file the door half owns so that a crash, a kill -9 or a power cut at
 * any moment leaves either the old file or the new one, never a mix or a torn one: the new
 * bytes go to a temporary file in the same directory, which is flushed to the disk, renamed
 * over the old one, and the rename itself is flushed by an fsync of the directory.
 *
 * It owns that order and the temporary file's safety (a link planted at its name is never
 * followed). state.c writes the verifier's state with it, keyfile.c authorized_keys. It never
 * decides what goes in a file, and never reads one.
 */
#ifndef GARAGED_ATOMICFILE_H
#define GARAGED_ATOMICFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* The moments between the steps, for the tests' hook (struct atomicfile_opts). */
enum atomicfile_stage {
	ATOMICFILE_WRITTEN, /* the temporary file holds the new bytes, not yet flushed */
	ATOMICFILE_SYNCED,  /* ... and they are on the disk; the old file is still in place */
	ATOMICFILE_RENAMED, /* the new file is in place; the directory is not flushed yet */
};

const char *atomicfile_stage_name(enum atomicfile_stage s); /* "written", "synced", "renamed" */

struct atomicfile_opts {
	mode_t mode; /* the new file's permission bits (the umask plays no part) */
	/*
	 * With set_owner, the new file gets this owner and group before it takes the old one's
	 * place. Only when they differ from what the file was made with is fchown() called, so
	 * that a process that may not change owners (no CAP_CHOWN, or a system call filter that
	 * refuses chown, as the unit's @privileged does) replaces a file of its own.
	 */
	bool set_owner;
	uid_t uid;
	gid_t gid;
	/*
	 * When not NULL, the file PATH must still be this one (device, inode, size, modification
	 * and change times to the nanosecond) just before the rename: when it is not (someone
	 * wrote or replaced it since the caller read it), nothing is renamed, the temporary file
	 * is removed, and the call fails with errno ESTALE, so that the caller can start again
	 * from the new content rather than undo a change it never saw.
	 */
	const struct stat *expect;
	/* Called at each stage when not NULL: the tests stop there (a sleep) and kill -9. */
	void (*pause)(enum atomicfile_stage stage, void *arg);
	void *arg;
};

/*
 * Replaces PATH with DATA[0..LEN), as O describes the new file. Returns 0; -1 when nothing
 * changed (PATH is as it was, the temporary file removed), with errno from the step that failed
 * (ESTALE: PATH is no longer O->expect) and a message naming the file in err; or 1 when PATH was
 * replaced but the fsync of its directory failed (the message in err): the new file is in place,
 * and a power cut before the system flushes the directory by itself could bring the old one back.
 */
int atomicfile_replace(const char *path, const void *data, size_t len,
                       const struct atomicfile_opts *o, char *err, size_t errlen);

#endif
