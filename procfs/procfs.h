/*
 * procfs.h - pure parsers of Linux /proc text formats.
 *
 * Bytes in, structs out: no I/O, no allocation, no locale, no global state.
 * Every parser takes (buf, len) and never reads outside [buf, buf+len); the
 * input need not be NUL-terminated and is treated as hostile (truncated,
 * missing fields, huge numbers, no trailing newline, embedded NULs, invalid
 * UTF-8).  Used by capture (stat -> identity, maps -> pagemap ranges), by
 * store (the index is rebuilt from archive bytes) and by diff.
 *
 * Conventions
 *  - buf may be NULL only when len is 0.
 *  - Return 0 on success, -1 on malformed input; where sensible *out is
 *    still filled with what could be parsed.
 *  - Iterators take `size_t *pos` (start at 0) and return 1 per item, 0 at
 *    the end, -1 for a malformed item; *pos has then moved past it, so the
 *    caller may go on calling.
 *  - Strings are struct ps_str slices that point INTO the input buffer (they
 *    live as long as it does) and are not NUL-terminated.
 *  - A number that is missing or unparsable is PS_U64_UNKNOWN (unsigned) or
 *    PS_I64_UNKNOWN (signed).  INT64_MIN is used rather than -1 because -1 is
 *    a real value of several signed fields (tpgid, tty_nr, nice...).  Numbers
 *    that do not fit (more than 64 bits) are malformed, never wrapped.
 *  - Field comments name the proc(5) file and field (as procps' pids.h).
 */
#ifndef PS_PROCFS_H
#define PS_PROCFS_H

#include <stddef.h>
#include <stdint.h>

#define PS_U64_UNKNOWN UINT64_MAX
#define PS_I64_UNKNOWN INT64_MIN

/* A borrowed slice of the input buffer; p may be NULL only when len == 0. */
struct ps_str {
	const char *p;
	size_t len;
};

/* ---- small helpers on slices --------------------------------------------- */

/* 1 when s equals the C string lit byte for byte, else 0. */
int ps_str_eq(struct ps_str s, const char *lit);
/* Whole slice as a decimal number (no sign, no spaces); 0 or -1 (empty,
 * junk, overflow).  *out untouched on failure. */
int ps_str_u64(struct ps_str s, uint64_t *out);
/* Same with an optional leading '-'; values outside [-INT64_MAX, INT64_MAX]
 * are rejected so that PS_I64_UNKNOWN stays unambiguous. */
int ps_str_i64(struct ps_str s, int64_t *out);
/* Whole slice as hex digits (optional "0x"), at most 64 bits; 0 or -1. */
int ps_str_hex(struct ps_str s, uint64_t *out);
/*
 * Split a slice of blank-separated numbers ("/proc/stat" cpu lines, "Uid:"
 * values, "intr ...").  *pos starts at 0.  Returns 1 with the next decimal
 * number in *out, 0 at the end, -1 if the next token is not a number (or
 * overflows) - *pos has moved past that token and *out is PS_U64_UNKNOWN.
 */
int ps_nums_next(struct ps_str s, size_t *pos, uint64_t *out);
/* Tokens separated by blanks (space, tab); 1 with *tok, 0 at the end. */
int ps_words_next(struct ps_str s, size_t *pos, struct ps_str *tok);

/*
 * Decode the octal escapes the kernel writes in mountinfo / maps paths
 * ("\040" for space, "\011" tab, "\012" newline, "\134" backslash).  Any
 * other backslash is copied as is.  Writes at most dstlen-1 bytes and a NUL
 * (when dstlen > 0).  Returns the length of the full decoded string, as
 * snprintf does: a result >= dstlen means dst was truncated.  The decoded
 * bytes may contain NUL ("\000"), so use the returned length.
 */
size_t ps_unescape_octal(char *dst, size_t dstlen, struct ps_str s);

/* ---- /proc/PID/stat, /proc/PID/task/TID/stat ------------------------------ */

#define PS_STAT_MAXFIELD 52 /* exit_code, Linux 3.5+ */

/*
 * /proc/PID/stat.  comm is everything between the first '(' and the LAST ')'
 * (so a comm holding ") (", spaces or a newline parses as the kernel meant).
 * Field n (1-based, proc(5) numbering) that was parsed sets bit n of present;
 * an absent or unparsable field keeps its unknown value.  Fields after 52
 * (future kernels) are counted in nfields but not stored.
 */
struct ps_stat {
	int64_t pid;	      /* stat field 1: pid */
	struct ps_str comm;   /* stat field 2: comm, without the parentheses */
	char state;	      /* stat field 3: state (R S D Z T t X I...), '\0' if unknown */
	int64_t ppid;	      /* stat field 4: ppid */
	int64_t pgrp;	      /* stat field 5: pgrp */
	int64_t session;      /* stat field 6: session */
	int64_t tty_nr;	      /* stat field 7: tty_nr */
	int64_t tpgid;	      /* stat field 8: tpgid (-1 = none) */
	uint64_t flags;	      /* stat field 9: flags (PF_*) */
	uint64_t minflt;      /* stat field 10: minflt */
	uint64_t cminflt;     /* stat field 11: cminflt */
	uint64_t majflt;      /* stat field 12: majflt */
	uint64_t cmajflt;     /* stat field 13: cmajflt */
	uint64_t utime;	      /* stat field 14: utime (clock ticks) */
	uint64_t stime;	      /* stat field 15: stime (clock ticks) */
	int64_t cutime;	      /* stat field 16: cutime */
	int64_t cstime;	      /* stat field 17: cstime */
	int64_t priority;     /* stat field 18: priority */
	int64_t nice;	      /* stat field 19: nice */
	int64_t num_threads;  /* stat field 20: num_threads */
	int64_t itrealvalue;  /* stat field 21: itrealvalue (always 0) */
	uint64_t starttime;   /* stat field 22: starttime (ticks since boot); identity with pid */
	uint64_t vsize;	      /* stat field 23: vsize (bytes) */
	int64_t rss;	      /* stat field 24: rss (pages) */
	uint64_t rsslim;      /* stat field 25: rsslim (UINT64_MAX = RLIM_INFINITY, see present) */
	uint64_t startcode;   /* stat field 26: startcode */
	uint64_t endcode;     /* stat field 27: endcode */
	uint64_t startstack;  /* stat field 28: startstack */
	uint64_t kstkesp;     /* stat field 29: kstkesp */
	uint64_t kstkeip;     /* stat field 30: kstkeip */
	uint64_t signal;      /* stat field 31: signal (obsolete bitmap) */
	uint64_t blocked;     /* stat field 32: blocked */
	uint64_t sigignore;   /* stat field 33: sigignore */
	uint64_t sigcatch;    /* stat field 34: sigcatch */
	uint64_t wchan;	      /* stat field 35: wchan (0 or 1 since 5.16) */
	uint64_t nswap;	      /* stat field 36: nswap */
	uint64_t cnswap;      /* stat field 37: cnswap */
	int64_t exit_signal;  /* stat field 38: exit_signal */
	int64_t processor;    /* stat field 39: processor */
	uint64_t rt_priority; /* stat field 40: rt_priority */
	uint64_t policy;      /* stat field 41: policy */
	uint64_t delayacct_blkio_ticks; /* stat field 42: delayacct_blkio_ticks */
	uint64_t guest_time;		/* stat field 43: guest_time */
	int64_t cguest_time;		/* stat field 44: cguest_time */
	uint64_t start_data;		/* stat field 45: start_data */
	uint64_t end_data;		/* stat field 46: end_data */
	uint64_t start_brk;		/* stat field 47: start_brk */
	uint64_t arg_start;		/* stat field 48: arg_start */
	uint64_t arg_end;		/* stat field 49: arg_end */
	uint64_t env_start;		/* stat field 50: env_start */
	uint64_t env_end;		/* stat field 51: env_end */
	int64_t exit_code;		/* stat field 52: exit_code */
	uint64_t present;		/* bit n set: field n parsed (n = 1..52) */
	int nfields;			/* number of fields seen, valid or not */
};
#define PS_STAT_HAS(st, n) ((((st)->present) >> (n)) & 1u)

/*
 * Parse /proc/PID/stat.  Returns 0 when fields 1..22 (up to starttime, the
 * identity) are present and every field seen parsed; -1 otherwise (missing
 * parentheses, truncation before field 22, a bad number), with *out filled
 * as far as possible.
 */
int ps_stat_parse(const char *buf, size_t len, struct ps_stat *out);

/* ---- /proc/PID/maps, smaps header lines ----------------------------------- */

struct ps_map {
	uint64_t start, end; /* maps field 1: address "start-end", [start, end) */
	char perms[5];	     /* maps field 2: perms "rwxp" / "rwxs", NUL-terminated */
	uint64_t offset;     /* maps field 3: offset (hex) */
	uint32_t dev_major;  /* maps field 4: dev "major:minor" (hex) */
	uint32_t dev_minor;
	uint64_t inode;	    /* maps field 5: inode */
	struct ps_str path; /* maps field 6: pathname, may be empty, may contain spaces;
			       " (deleted)" kept; "\012" escapes left as is */
};

/*
 * Iterate over /proc/PID/maps.  *pos starts at 0.  Returns 1 and fills *out
 * for each line, 0 at the end, -1 on a malformed line (*pos has moved past
 * it, so the caller may continue).
 */
int ps_maps_next(const char *buf, size_t len, size_t *pos, struct ps_map *out);
/* Parse one maps line [line, line+len) (no newline); 0 or -1. */
int ps_map_parse(const char *line, size_t len, struct ps_map *out);

/* ---- generic key/value lines --------------------------------------------- */

/*
 * One line of a key/value file: "Key:   value unit" (meminfo, status, io,
 * smaps, smaps_rollup, fdinfo), "key value" (vmstat, /proc/stat, and other
 * files) and "key   : value" (sched).  key is the text up to the first ':'
 * or blank; value is the rest of the line, blanks trimmed on both ends.
 * num is the first token of value as a decimal number (PS_U64_UNKNOWN and
 * has_num 0 if it is not one); unit is the second token ("kB") or empty.
 */
struct ps_kv {
	struct ps_str key;
	struct ps_str value;
	uint64_t num;
	int has_num;
	struct ps_str unit;
};
/* Iterate.  Returns 1 per line, 0 at the end, -1 for a line with an empty
 * key (blank line, line starting with ':'); *pos has moved past it. */
int ps_kv_next(const char *buf, size_t len, size_t *pos, struct ps_kv *out);

/* ---- /proc/PID/statm -------------------------------------------------------- */

struct ps_statm {
	uint64_t size;	   /* statm field 1: size (pages) */
	uint64_t resident; /* statm field 2: resident */
	uint64_t shared;   /* statm field 3: shared (file + shmem) */
	uint64_t text;	   /* statm field 4: text */
	uint64_t lib;	   /* statm field 5: lib (always 0 since 2.6) */
	uint64_t data;	   /* statm field 6: data + stack */
	uint64_t dt;	   /* statm field 7: dt (always 0 since 2.6) */
};
/* 0 when all seven numbers parsed, else -1 (missing ones stay unknown). */
int ps_statm_parse(const char *buf, size_t len, struct ps_statm *out);

/* ---- /proc/PID/status ------------------------------------------------------- */

/*
 * /proc/PID/status.  Unknown keys are ignored; a known key whose value does
 * not parse leaves the field unknown and makes the result -1.  Fields absent
 * from older kernels (Umask 4.7, NSpid 4.1, Kthread 6.x...) stay unknown.
 * All memory sizes are in kB as printed.
 */
struct ps_status {
	struct ps_str name; /* status Name: raw, as escaped by the kernel ("\n" -> "\\n") */
	uint64_t umask;	    /* status Umask: (octal) */
	char state;   /* status State: first letter ("S (sleeping)" -> 'S'), '\0' if unknown */
	int64_t tgid; /* status Tgid: */
	int64_t ngid; /* status Ngid: (NUMA group) */
	int64_t pid;  /* status Pid: (the thread id for task/TID/status) */
	int64_t ppid; /* status PPid: */
	int64_t tracer_pid; /* status TracerPid: */
	uint64_t uid[4];    /* status Uid: real, effective, saved set, filesystem */
	uint64_t gid[4];    /* status Gid: real, effective, saved set, filesystem */
	uint64_t fd_size;   /* status FDSize: */
	struct ps_str
	    groups; /* status Groups: supplementary gids, blank separated (may be empty) */
	int64_t nstgid_first,
	    nstgid_last;		 /* status NStgid: outermost and innermost pid namespace */
	int64_t nspid_first, nspid_last; /* status NSpid: */
	int64_t nspgid_first, nspgid_last; /* status NSpgid: */
	int64_t nssid_first, nssid_last;   /* status NSsid: */
	int64_t kthread;		   /* status Kthread: 1 kernel thread, 0 not (Linux 6.8+) */
	uint64_t vm_peak;		   /* status VmPeak: kB */
	uint64_t vm_size;		   /* status VmSize: kB */
	uint64_t vm_lck;		   /* status VmLck: kB */
	uint64_t vm_pin;		   /* status VmPin: kB */
	uint64_t vm_hwm;		   /* status VmHWM: kB */
	uint64_t vm_rss;		   /* status VmRSS: kB */
	uint64_t rss_anon;		   /* status RssAnon: kB */
	uint64_t rss_file;		   /* status RssFile: kB */
	uint64_t rss_shmem;		   /* status RssShmem: kB */
	uint64_t vm_data;		   /* status VmData: kB */
	uint64_t vm_stk;		   /* status VmStk: kB */
	uint64_t vm_exe;		   /* status VmExe: kB */
	uint64_t vm_lib;		   /* status VmLib: kB */
	uint64_t vm_pte;		   /* status VmPTE: kB */
	uint64_t vm_swap;		   /* status VmSwap: kB */
	uint64_t hugetlb_pages;		   /* status HugetlbPages: kB */
	int64_t core_dumping;		   /* status CoreDumping: */
	int64_t threads;		   /* status Threads: */
	uint64_t sigq_queued;		   /* status SigQ: "queued/limit", first part */
	uint64_t sigq_limit;		   /* status SigQ: second part */
	uint64_t sig_pnd;		   /* status SigPnd: (hex mask) */
	uint64_t shd_pnd;		   /* status ShdPnd: (hex mask) */
	uint64_t sig_blk;		   /* status SigBlk: (hex mask) */
	uint64_t sig_ign;		   /* status SigIgn: (hex mask) */
	uint64_t sig_cgt;		   /* status SigCgt: (hex mask) */
	uint64_t cap_inh;		   /* status CapInh: (hex mask) */
	uint64_t cap_prm;		   /* status CapPrm: (hex mask) */
	uint64_t cap_eff;		   /* status CapEff: (hex mask) */
	uint64_t cap_bnd;		   /* status CapBnd: (hex mask) */
	uint64_t cap_amb;		   /* status CapAmb: (hex mask) */
	int64_t no_new_privs;		   /* status NoNewPrivs: */
	int64_t seccomp;		   /* status Seccomp: 0 off, 1 strict, 2 filter */
	int64_t seccomp_filters;	   /* status Seccomp_filters: */
	uint64_t voluntary_ctxt_switches;  /* status voluntary_ctxt_switches: */
	uint64_t nonvoluntary_ctxt_switches; /* status nonvoluntary_ctxt_switches: */
};
/* Returns 0, or -1 if Pid: is missing or a known field is malformed. */
int ps_status_parse(const char *buf, size_t len, struct ps_status *out);

/* ---- /proc/PID/io ----------------------------------------------------------- */

struct ps_io {
	uint64_t rchar;			/* io rchar: */
	uint64_t wchar;			/* io wchar: */
	uint64_t syscr;			/* io syscr: */
	uint64_t syscw;			/* io syscw: */
	uint64_t read_bytes;		/* io read_bytes: */
	uint64_t write_bytes;		/* io write_bytes: */
	uint64_t cancelled_write_bytes; /* io cancelled_write_bytes: */
};
/* 0 when all seven fields parsed, else -1 (the others are still filled). */
int ps_io_parse(const char *buf, size_t len, struct ps_io *out);

/* ---- /proc/PID/cmdline, /proc/PID/environ ----------------------------------- */

/*
 * Items separated by NUL.  Returns 1 with the next item (possibly empty:
 * argv may hold "" and a process may rewrite its argv), 0 at the end.  The
 * last item may lack its NUL; a final NUL does not start an empty item.
 */
int ps_nul_next(const char *buf, size_t len, size_t *pos, struct ps_str *item);
/* Split an environ item at its first '='; 0, or -1 (no '=': *key is the
 * whole item and *val empty). */
int ps_env_split(struct ps_str item, struct ps_str *key, struct ps_str *val);

/* ---- /proc/PID/smaps, smaps_rollup ------------------------------------------ */

/*
 * One mapping of /proc/PID/smaps: the header line plus its fields, in kB
 * unless noted.  A field absent from this kernel stays PS_U64_UNKNOWN.
 * smaps_rollup has the same shape (header "[rollup]", no Size/VmFlags, plus
 * Pss_Anon/Pss_File/Pss_Shmem).  Unknown field names are skipped.
 */
struct ps_smaps {
	struct ps_map map;	   /* the maps-format header line */
	uint64_t size;		   /* smaps Size: */
	uint64_t kernel_page_size; /* smaps KernelPageSize: */
	uint64_t mmu_page_size;	   /* smaps MMUPageSize: */
	uint64_t rss;		   /* smaps Rss: */
	uint64_t pss;		   /* smaps Pss: */
	uint64_t pss_dirty;	   /* smaps Pss_Dirty: (6.0+) */
	uint64_t pss_anon;	   /* smaps_rollup Pss_Anon: */
	uint64_t pss_file;	   /* smaps_rollup Pss_File: */
	uint64_t pss_shmem;	   /* smaps_rollup Pss_Shmem: */
	uint64_t shared_clean;	   /* smaps Shared_Clean: */
	uint64_t shared_dirty;	   /* smaps Shared_Dirty: */
	uint64_t private_clean;	   /* smaps Private_Clean: */
	uint64_t private_dirty;	   /* smaps Private_Dirty: */
	uint64_t referenced;	   /* smaps Referenced: */
	uint64_t anonymous;	   /* smaps Anonymous: */
	uint64_t ksm;		   /* smaps KSM: (6.11+) */
	uint64_t lazy_free;	   /* smaps LazyFree: */
	uint64_t anon_huge_pages;  /* smaps AnonHugePages: */
	uint64_t shmem_pmd_mapped; /* smaps ShmemPmdMapped: */
	uint64_t file_pmd_mapped;  /* smaps FilePmdMapped: */
	uint64_t shared_hugetlb;   /* smaps Shared_Hugetlb: */
	uint64_t private_hugetlb;  /* smaps Private_Hugetlb: */
	uint64_t swap;		   /* smaps Swap: */
	uint64_t swap_pss;	   /* smaps SwapPss: */
	uint64_t locked;	   /* smaps Locked: */
	uint64_t thp_eligible;	   /* smaps THPeligible: 0/1 (a flag, not kB) */
	uint64_t protection_key;   /* smaps ProtectionKey: (a number, x86 pkeys only) */
	struct ps_str vm_flags;	   /* smaps VmFlags: two-letter codes, blank separated */
};
/*
 * Iterate entries.  Returns 1 per entry, 0 at the end, -1 for a malformed
 * entry (bad header line, or a known field with a bad value: *out holds what
 * parsed; *pos is past the whole entry).  Field lines before the first
 * header are returned as one malformed entry.
 */
int ps_smaps_next(const char *buf, size_t len, size_t *pos, struct ps_smaps *out);
/*
 * For smaps read in pieces: the length of the leading part of buf made of
 * whole entries, i.e. the offset of the last entry's header line when that
 * entry may still go on in the next piece (0: no whole entry yet).  At the
 * end of the file every entry is whole: parse all of it.
 */
size_t ps_smaps_complete(const char *buf, size_t len);

/* ---- /proc/PID/limits ------------------------------------------------------- */

#define PS_LIMIT_UNLIMITED ((int64_t)-1) /* "unlimited" (RLIM_INFINITY) */

struct ps_limit {
	struct ps_str name;  /* limits column 1: "Max open files" */
	int64_t soft;	     /* limits column 2: soft limit, PS_LIMIT_UNLIMITED, or unknown */
	int64_t hard;	     /* limits column 3: hard limit, PS_LIMIT_UNLIMITED, or unknown */
	struct ps_str units; /* limits column 4: "seconds", "bytes"... may be empty */
};
/* Iterate rows (the "Limit Soft Limit..." header is skipped).  A value
 * above INT64_MAX (never set by a sane rlimit) is malformed: -1. */
int ps_limits_next(const char *buf, size_t len, size_t *pos, struct ps_limit *out);

/* ---- /proc/PID/cgroup ------------------------------------------------------- */

struct ps_cgroup {
	int64_t hierarchy_id;	   /* cgroup field 1: hierarchy id (0 for cgroup v2) */
	struct ps_str controllers; /* cgroup field 2: comma separated, "name=systemd", or empty */
	struct ps_str path;	   /* cgroup field 3: path (rest of the line, may hold ':') */
};
int ps_cgroup_next(const char *buf, size_t len, size_t *pos, struct ps_cgroup *out);

/* ---- /proc/PID/fdinfo/N ----------------------------------------------------- */

struct ps_fdinfo {
	uint64_t pos;	 /* fdinfo pos: file offset */
	uint64_t flags;	 /* fdinfo flags: open(2) flags, printed in OCTAL */
	uint64_t mnt_id; /* fdinfo mnt_id: mount id (mountinfo field 1) */
	uint64_t ino;	 /* fdinfo ino: inode number (Linux 5.14+) */
};
/* Other lines (eventfd-count, inotify, tfd, ...) are ignored: iterate them
 * with ps_kv_next.  Returns 0, or -1 if pos/flags are missing or malformed. */
int ps_fdinfo_parse(const char *buf, size_t len, struct ps_fdinfo *out);

/* ---- readlink targets of fd/N, ns/NAME, exe, map_files/R -------------------------- */

enum ps_link_type {
	PS_LINK_UNKNOWN = 0, /* empty, or "type:[junk]" */
	PS_LINK_PATH,	     /* "/path" or "/path (deleted)"; name = the path */
	PS_LINK_SOCKET,	     /* "socket:[123]"; inode 123, name "socket" */
	PS_LINK_PIPE,	     /* "pipe:[123]"; inode 123, name "pipe" */
	PS_LINK_ANON_INODE,  /* "anon_inode:[eventfd]" / "anon_inode:inotify"; name "eventfd" */
	PS_LINK_NS,	     /* any other "type:[inode]", e.g. ns links "net:[4026531840]";
				name "net" */
	PS_LINK_MEMFD,	     /* "/memfd:name (deleted)"; name = "name" */
	PS_LINK_OTHER,	     /* anything else not starting with '/' */
};

struct ps_link {
	enum ps_link_type type;
	uint64_t inode;	    /* from "type:[inode]", else PS_U64_UNKNOWN */
	struct ps_str name; /* see enum ps_link_type */
	int deleted;	    /* 1 if the target ended in " (deleted)" (removed from name) */
};
/* Classify a readlink(2) result.  Returns 0, or -1 (empty, or a bracketed
 * inode that is not a number: type PS_LINK_UNKNOWN, name = the whole text). */
int ps_link_parse(const char *buf, size_t len, struct ps_link *out);
/* "socket", "pipe", ... for reports and the index. */
const char *ps_link_type_name(enum ps_link_type t);

/* ---- /proc/PID/mountinfo ---------------------------------------------------- */

/*
 * "36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue"
 * Paths are raw, with the kernel's octal escapes (\040...): decode them with
 * ps_unescape_octal.
 */
struct ps_mountinfo {
	uint64_t mount_id;	     /* mountinfo field 1: mount ID */
	uint64_t parent_id;	     /* mountinfo field 2: parent ID */
	uint32_t major, minor;	     /* mountinfo field 3: major:minor of st_dev (decimal) */
	struct ps_str root;	     /* mountinfo field 4: root within the filesystem */
	struct ps_str mount_point;   /* mountinfo field 5: mount point */
	struct ps_str options;	     /* mountinfo field 6: per-mount options */
	struct ps_str optional;	     /* mountinfo field 7: optional fields ("shared:1 master:2"),
					blank separated, may be empty */
	struct ps_str fstype;	     /* mountinfo field 9: filesystem type ("ext4", "fuse.sshfs") */
	struct ps_str source;	     /* mountinfo field 10: mount source ("none" or a device) */
	struct ps_str super_options; /* mountinfo field 11: per-superblock options */
};
int ps_mountinfo_next(const char *buf, size_t len, size_t *pos, struct ps_mountinfo *out);

/* ---- /proc/net/{tcp,tcp6,udp,udp6,raw,raw6,udplite...} -------------------------- */

/*
 * One socket row.  Addresses are printed by the kernel as 32-bit words in
 * the CAPTURING host's byte order; we decode them in this host's order, which
 * is right whenever capture and parser run on the same endianness (x86,
 * arm64).  text fields are NUL-terminated, "127.0.0.1" or compressed IPv6.
 */
#define PS_INET_ADDRSTRLEN 46 /* INET6_ADDRSTRLEN */
struct ps_inet_sock {
	uint64_t sl;			      /* column "sl": slot number */
	int family;			      /* AF_INET or AF_INET6 (by address width) */
	uint8_t local_addr[16];		      /* column local_address: network order */
	uint16_t local_port;		      /* column local_address: port after ':' */
	char local_text[PS_INET_ADDRSTRLEN];  /* local_addr as text */
	uint8_t remote_addr[16];	      /* column rem_address: network order */
	uint16_t remote_port;		      /* column rem_address: port */
	char remote_text[PS_INET_ADDRSTRLEN]; /* remote_addr as text */
	unsigned state;			      /* column st: hex, TCP state (ps_tcp_state_name) */
	uint64_t tx_queue;		      /* column tx_queue (hex) */
	uint64_t rx_queue;		      /* column rx_queue (hex) */
	uint64_t uid;			      /* column uid */
	uint64_t inode;			      /* column inode: joins fd/N "socket:[inode]" */
};
/* Iterate rows; the header line ("sl local_address ...") is skipped. */
int ps_inet_next(const char *buf, size_t len, size_t *pos, struct ps_inet_sock *out);

/* "ESTABLISHED" for 0x01 ... "LISTEN" for 0x0A, "NEW_SYN_RECV" 0x0C,
 * "BOUND_INACTIVE" 0x0D; "UNKNOWN" otherwise.  Never NULL. */
const char *ps_tcp_state_name(unsigned state);

/* ---- /proc/net/unix ----------------------------------------------------------- */

struct ps_unix_sock {
	uint64_t num;	    /* column Num: kernel address (hashed or 0) */
	uint64_t refcount;  /* column RefCount (hex) */
	uint64_t protocol;  /* column Protocol (hex, always 0) */
	uint64_t flags;	    /* column Flags (hex; 0x10000 = __SO_ACCEPTCON, listening) */
	uint64_t type;	    /* column Type (hex): 1 STREAM, 2 DGRAM, 5 SEQPACKET */
	uint64_t st;	    /* column St (hex): 1 UNCONNECTED, 2 CONNECTING, 3 CONNECTED... */
	uint64_t inode;	    /* column Inode */
	struct ps_str path; /* column Path: may be empty; '@' starts an abstract name */
};
int ps_unix_next(const char *buf, size_t len, size_t *pos, struct ps_unix_sock *out);

/* ---- /proc/net/packet ---------------------------------------------------------- */

/* One AF_PACKET socket (a sniffer, a DHCP client, a raw-frame backdoor). */
struct ps_packet_sock {
	uint64_t refcount; /* column RefCnt */
	uint64_t type;	   /* column Type: 3 SOCK_RAW, 2 SOCK_DGRAM */
	uint64_t proto;	   /* column Proto (hex): ethertype in host order, 0x0003 ETH_P_ALL */
	int64_t ifindex;   /* column Iface: bound interface index, 0 none */
	uint64_t running;  /* column R: 1 when the socket is hooked to receive */
	uint64_t rmem;	   /* column Rmem: bytes queued for reading */
	uint64_t uid;	   /* column User */
	uint64_t inode;	   /* column Inode: joins fd/N "socket:[inode]" */
};
/* Iterate rows; the header ("sk RefCnt Type Proto Iface R Rmem User Inode")
 * is skipped. */
int ps_packet_next(const char *buf, size_t len, size_t *pos, struct ps_packet_sock *out);

/* ---- /proc/sysvipc/shm ---------------------------------------------------------- */

/* One System V shared memory segment (ipc/shm.c sysvipc_shm_proc_show). */
struct ps_shm {
	int64_t key;	/* column key (signed decimal) */
	uint64_t shmid; /* column shmid */
	uint64_t perms; /* column perms (octal): mode, with SHM_DEST 01000, SHM_LOCKED 02000 */
	uint64_t size;	/* column size: bytes */
	uint64_t cpid;	/* column cpid: creator */
	uint64_t lpid;	/* column lpid: last shmat/shmdt */
	uint64_t nattch;
	uint64_t uid, gid, cuid, cgid;
	uint64_t atime, dtime, ctime; /* seconds since the epoch, 0 never */
	uint64_t rss, swap;	      /* bytes (Linux 2.6.28+; PS_U64_UNKNOWN before) */
};
/* Iterate rows; the header ("key shmid perms ...") is skipped. */
int ps_shm_next(const char *buf, size_t len, size_t *pos, struct ps_shm *out);

/* ---- /proc/modules ------------------------------------------------------------ */

struct ps_module {
	struct ps_str name;    /* modules field 1: name */
	uint64_t size;	       /* modules field 2: size (bytes) */
	int64_t refcount;      /* modules field 3: instances/refcount ("-" -> unknown) */
	struct ps_str used_by; /* modules field 4: "a,b," or "-" */
	struct ps_str state;   /* modules field 5: Live, Loading, Unloading */
	uint64_t address;      /* modules field 6: load address (0 when hidden) */
	struct ps_str taint;   /* modules field 7: taint letters without parens ("OE"), or empty */
};
int ps_modules_next(const char *buf, size_t len, size_t *pos, struct ps_module *out);

/* ---- /proc/loadavg, /proc/uptime, /proc/sys/kernel/tainted --------------------- */

struct ps_loadavg {
	double load1, load5, load15; /* loadavg fields 1-3 (NaN if unknown) */
	int64_t running;	     /* loadavg field 4: runnable entities, before '/' */
	int64_t total;		     /* loadavg field 4: total entities, after '/' */
	int64_t last_pid;	     /* loadavg field 5: most recently created pid */
};
int ps_loadavg_parse(const char *buf, size_t len, struct ps_loadavg *out);

struct ps_uptime {
	double uptime; /* uptime field 1: seconds since boot (NaN if unknown) */
	double idle;   /* uptime field 2: idle seconds summed over CPUs */
};
int ps_uptime_parse(const char *buf, size_t len, struct ps_uptime *out);

/* One unsigned decimal number, optional trailing newline (tainted, and the
 * many one-value files in /proc/sys). */
int ps_u64_file_parse(const char *buf, size_t len, uint64_t *out);

/* ==== pagemap sections (issue 4) ============================================ */
/*
 * proc/<pid>/pagemap.sections is procsnap's own member, not a kernel file
 * (schema/pagemap.md): the 8-byte /proc/PID/pagemap entries of the ranges
 * listed in maps, keeping only maximal runs of non-zero entries ("sections";
 * a page whose entry is 0 is neither present nor swapped and is implied by
 * absence).  All integers little-endian:
 *
 *   header   "PSPM"  u32 version (1)  u32 page_size  u32 flags  u64 nskip
 *   skipped  nskip x {u64 start, u64 end}: mapped ranges NOT examined
 *   section  u64 start (vaddr, page-aligned)  u64 npages (>= 1)  npages x u64 entry
 *
 * Skipped ranges (mappings left out by --pagemap-max, or the rest of the
 * address space after a read error) are page-aligned, ascending and
 * disjoint; pages in them are unknown, not empty.  Sections follow one
 * another to the end of the member, in ascending, non-overlapping address
 * order; a section never crosses a mapping.
 * The reader treats the member as hostile: every count is checked against
 * the bytes left, never trusted.
 */
#define PS_PAGEMAP_MAGIC	"PSPM"
#define PS_PAGEMAP_VERSION	1u
#define PS_PAGEMAP_HDR_LEN	24u /* magic, version, page_size, flags, nskip */
#define PS_PAGEMAP_SECT_HDR_LEN 16u /* start, npages */

/* Header flags. */
#define PS_PAGEMAP_F_PFN_VISIBLE 0x01u /* some present entry had a non-zero PFN (root capture) */
#define PS_PAGEMAP_F_SD_KNOWN	 0x02u /* soft-dirty availability was determined */
#define PS_PAGEMAP_F_SD_AVAIL	 0x04u /* ... and the kernel tracks it (CONFIG_MEM_SOFT_DIRTY) */
#define PS_PAGEMAP_F_TRUNCATED	 0x08u /* mappings skipped for --pagemap-max (listed) */
#define PS_PAGEMAP_F_INCOMPLETE	 0x10u /* a read failed (process exited...): rest listed */

/* pagemap entry bits (proc_pid_pagemap(5), admin-guide/mm/pagemap.rst). */
#define PS_PME_PFN_MASK                                                                            \
	((UINT64_C(1) << 55) - 1)	      /* 0-54: PFN if present (root only,                  \
						  4.2+), swap type 0-4 / offset 5-54 if swapped */
#define PS_PME_SOFT_DIRTY (UINT64_C(1) << 55) /* 55: soft-dirty (CONFIG_MEM_SOFT_DIRTY) */
#define PS_PME_EXCLUSIVE  (UINT64_C(1) << 56) /* 56: page exclusively mapped (4.2+) */
#define PS_PME_UFFD_WP	  (UINT64_C(1) << 57) /* 57: uffd-wp write-protected (5.13+) */
#define PS_PME_GUARD	  (UINT64_C(1) << 58) /* 58: guard region (6.15+) */
#define PS_PME_FILE	  (UINT64_C(1) << 61) /* 61: file page or shared anon (3.5+) */
#define PS_PME_SWAPPED	  (UINT64_C(1) << 62) /* 62: swapped */
#define PS_PME_PRESENT	  (UINT64_C(1) << 63) /* 63: present */
#define PS_PME_FLAGS	  (~PS_PME_PFN_MASK)  /* bits 55-63 */

/* One entry, decoded. */
struct ps_pme {
	int present, swapped, file, exclusive, soft_dirty, uffd_wp, guard;
	uint64_t pfn;	      /* present: bits 0-54 (0 when not visible) */
	unsigned swap_type;   /* swapped: bits 0-4 */
	uint64_t swap_offset; /* swapped: bits 5-54 */
};
void ps_pme_decode(uint64_t entry, struct ps_pme *out);

/* The header, plus the reading position of ps_pagemap_next. */
struct ps_pagemap_hdr {
	uint32_t version;
	uint32_t page_size; /* bytes per page (power of two, 512 B .. 1 GiB) */
	uint32_t flags;	    /* PS_PAGEMAP_F_* */
	uint64_t nskip;	    /* skipped (unexamined) ranges, see ps_pagemap_skip */
	/* iteration state, private to ps_pagemap_next */
	const unsigned char *skips;
	const unsigned char *buf;
	size_t len, pos;
	uint64_t prev_end;
};

/* One section; entries points INTO the member (unaligned little-endian). */
struct ps_pagemap_section {
	uint64_t start;	 /* vaddr of the first page */
	uint64_t npages; /* >= 1 */
	const unsigned char *entries;
};

/*
 * ps_pagemap_open - check the header and the skipped ranges of a member
 * [buf, buf+len) and fill *hdr (ready for ps_pagemap_next).  Returns 0, or
 * -1 when the member is shorter than the header, the magic is not "PSPM",
 * the version is unknown, the page size is not a power of two in
 * [512, 1 GiB], or the skipped ranges overflow the member, are empty,
 * unaligned, unordered or overlapping.
 */
int ps_pagemap_open(const void *buf, size_t len, struct ps_pagemap_hdr *hdr);
/*
 * ps_pagemap_next - the next section.  Returns 1 with *out, 0 at the end,
 * -1 on a malformed section (header cut short, npages 0 or more entries than
 * bytes left, start not page-aligned, end overflowing 64 bits, overlapping
 * or out-of-order sections).  After -1 the member cannot be resynchronised:
 * the next call returns 0.
 */
int ps_pagemap_next(struct ps_pagemap_hdr *hdr, struct ps_pagemap_section *out);
/* Skipped range i (< hdr->nskip) into [*start, *end); 0, or -1 if i is out of range. */
int ps_pagemap_skip(const struct ps_pagemap_hdr *hdr, uint64_t i, uint64_t *start, uint64_t *end);
/* Entry i of a section (0 if i >= npages). */
uint64_t ps_pagemap_entry(const struct ps_pagemap_section *s, uint64_t i);
/* Whole-member validation: header and every section.  0 or -1. */
int ps_pagemap_check(const void *buf, size_t len);

/* Page counts of one mapping [start, end), from the sections. */
struct ps_pagemap_counts {
	uint64_t pages;		 /* pages in [start, end) */
	uint64_t examined;	 /* of those, outside the skipped ranges */
	uint64_t present;	 /* bit 63 */
	uint64_t swapped;	 /* bit 62 */
	uint64_t file_or_shared; /* bit 61 */
	uint64_t exclusive;	 /* bit 56 */
	uint64_t soft_dirty;	 /* bit 55: meaningful only when soft_dirty_valid */
	int soft_dirty_valid;	 /* the kernel tracks soft-dirty (header SD_KNOWN|SD_AVAIL);
				    otherwise soft_dirty is not "clean" but unknown (NULL) */
	int pfn_visible;	 /* a present page in the range had a non-zero PFN */
	int complete;		 /* examined == pages */
};

/*
 * A cursor over one member for counting many mappings: give the mappings in
 * ascending order (as maps lists them) and the whole process costs one pass
 * over the sections; a range below the previous one rewinds (still right,
 * just slower).
 */
struct ps_pagemap_cursor {
	struct ps_pagemap_hdr h;
	struct ps_pagemap_section cur;
	int have_cur;
	uint64_t last_start;
	uint64_t skip_i; /* first skipped range that may still matter */
};
/* 0, or -1 when the header is bad (see ps_pagemap_open). */
int ps_pagemap_cursor_init(struct ps_pagemap_cursor *c, const void *buf, size_t len);
/*
 * ps_pagemap_count - counts for the mapping [start, end).  Returns 0 with
 * *out filled, or -1 when a section met on the way is malformed (*out is
 * then zeroed: store NULLs, not zeros).
 */
int ps_pagemap_count(struct ps_pagemap_cursor *c, uint64_t start, uint64_t end,
		     struct ps_pagemap_counts *out);

/* A run of pages with the same flag bits (55-63) whose PFNs, when present
 * and visible, are consecutive. */
struct ps_pagemap_run {
	uint64_t start;	 /* vaddr */
	uint64_t npages; /* >= 1 */
	uint64_t flags;	 /* entry bits 55-63 shared by the run (PS_PME_*) */
	uint64_t pfn;	 /* first page's PFN when present and visible, else 0 */
};
/*
 * Compact the entries [*i, npages) of a section into runs: 1 with *out
 * (and *i advanced past it), 0 at the end of the section.
 */
int ps_pagemap_run_next(const struct ps_pagemap_section *s, uint32_t page_size, uint64_t *i,
			struct ps_pagemap_run *out);

#endif
