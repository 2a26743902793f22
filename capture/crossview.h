/*
 * crossview.h - private to capture/: the independent views of the process
 * table (issue 11, DESIGN 7) and the facts capture records about them in
 * procsnap/crossview.json (schema/crossview.md).
 *
 * The walk (capture.c) reports what each view saw through ps_xv_see(); this
 * module adds its own views (a census pre-pass: raw listing, the /proc link
 * count, loadavg's thread total, every task/ link count), finds pids masked
 * by a mount over /proc/<pid> and opens them through a private procfs
 * instance, records the protocol of every socket fd, whether argv[0] names
 * the running executable, and re-checks at the end the pids that another
 * process names (a children file, a parent link) but no lookup reached.
 *
 * Only for a live procfs root (an ordinary --root tree has no counts, no
 * mounts to route around and no sockets): ps_xv_create returns NULL then,
 * and every other function accepts NULL and does nothing.
 */
#ifndef PS_CAPTURE_CROSSVIEW_H
#define PS_CAPTURE_CROSSVIEW_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common.h"

/* Views of a pid (the bits of pid_census.seen_by; schema/crossview.md). */
#define PS_XV_LISTED   0x01u /* in the walk's getdents64 listing of the root (or its relisting) */
#define PS_XV_OPENED   0x02u /* openat(root, "N") reached a directory (direct lookup) */
#define PS_XV_TASK     0x04u /* the id appeared in a task/ listing of a thread group */
#define PS_XV_SWEPT    0x08u /* found by the stat() sweep of unknown ids */
#define PS_XV_CENSUS   0x10u /* in the census pre-pass listing (a second getdents64) */
#define PS_XV_CHILDREN 0x20u /* named in a task/<tid>/children file */
#define PS_XV_PARENT   0x40u /* named as the parent (stat field 4) of a captured process */
#define PS_XV_PRIVATE  0x80u /* reached through a private procfs instance (masked pid) */

struct ps_xv;

/* Census pre-pass and mount table of the live procfs open at rootfd (path
 * root).  NULL when root is not a live procfs of our own pid namespace. */
struct ps_xv *ps_xv_create(int rootfd, const char *root);
void ps_xv_free(struct ps_xv *xv); /* NULL ok */

/* A view saw id. */
void ps_xv_see(struct ps_xv *xv, int64_t id, unsigned view);

/* Do the counts of the census disagree with its listing (or were they never
 * stable)?  Then the hidden-pid sweep goes on up to pid_max. */
int ps_xv_full_sweep(const struct ps_xv *xv);
/* Did the census vouch for the listing: counts taken in the initial pid
 * namespace that agree with it?  Then the sweep asks the scheduler first. */
int ps_xv_census_agrees(const struct ps_xv *xv);
/* What the sweep did: highest id probed, time taken, pids it found, whether
 * it asked the scheduler first, unknown ids that answered. */
void ps_xv_sweep_done(struct ps_xv *xv, int64_t limit, uint64_t ns, uint64_t found, int sched,
		      uint64_t answered);

/*
 * ps_xv_masked - is /proc/<pid> masked?  A mount at or below it in our own
 * mountinfo, a pid directory on another device than the root (st_dev of
 * pidfd), or a stat whose pid (field 1) is not <pid> (a bind mount of
 * another pid's directory keeps the device).  Returns 0 (not masked) or 1.
 */
int ps_xv_masked(struct ps_xv *xv, int pid, int pidfd, dev_t rootdev);
/*
 * ps_xv_route - a directory fd for the real /proc/<pid>, through a private
 * procfs instance (fsopen/fsmount, attached nowhere), checked to be that
 * pid; -1 when there is none (no CAP_SYS_ADMIN, kernel < 5.2).  The route
 * taken, or "none", is recorded for crossview.json.
 */
int ps_xv_route(struct ps_xv *xv, int pid);

/* pid's stat names ppid as its parent (stat field 4). */
void ps_xv_parent(struct ps_xv *xv, int pid, int64_t ppid);
/* A children file of thread tid of pid: the child pids it names. */
void ps_xv_children(struct ps_xv *xv, int pid, int tid, const char *data, size_t len);
/* argv[0] of pid (its cmdline up to the first NUL): kept until ps_xv_argv0_check. */
void ps_xv_argv0(struct ps_xv *xv, int pid, const char *cmdline, size_t len);
/* End of pid's walk: does argv[0] name the exe?  1 and *rel set to the path
 * below the pid directory to compare with "exe" ("root/<argv0>"), or 0 when
 * there is nothing to check.  The caller makes the two fstatat() calls (they
 * leave procfs: under its read timeout) and reports with ps_xv_argv0_result. */
int ps_xv_argv0_check(struct ps_xv *xv, int pid, struct ps_buf *rel);
void ps_xv_argv0_result(struct ps_xv *xv, int pid, int same);
/* fd/<fd> of the process whose directory is pidfd is "socket:[inode]": its
 * protocol name (getxattr system.sockprotoname of the socket, opened
 * O_PATH) into proto (PS_XV_PROTO_MAX bytes); its length, or 0.  Touches
 * no shared state: the caller runs it under its read timeout (a racing
 * dup2() can put a file of a hung file system behind the link). */
#define PS_XV_PROTO_MAX 32
size_t ps_xv_sockproto(int pidfd, int fd, uint64_t inode, char *proto);
/* Record that protocol name for fd/<fd> of pid. */
void ps_xv_socket(struct ps_xv *xv, int pid, int fd, uint64_t inode, const char *proto, size_t n);

/*
 * ps_xv_finish - re-check the pids named by children/parent views that no
 * lookup reached (still named by the same thread, still not found: not
 * churn), then write crossview.json into out (reset first).
 */
void ps_xv_finish(struct ps_xv *xv, int rootfd, struct ps_buf *out);

#endif
