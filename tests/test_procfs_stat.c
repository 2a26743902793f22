/*
 * test_procfs_stat.c - stat, statm, status, io, loadavg, uptime, tainted
 * against fixtures captured from this machine (samples/procfs/) and
 * hand-made edge cases.
 */
#include <math.h>

#include "procfs.h"
#include "t.h"

/* Load samples/procfs/<name> into a buffer of exactly its size (no NUL), so
 * ASan catches any read past the end. */

static void stat_process(void)
{
	size_t len;
	char *b = t_load_sample("stat.fixture", &len);
	struct ps_stat st;
	CHECK_INT(ps_stat_parse(b, len, &st), 0);
	CHECK_INT(st.pid, 3722);
	CHECK_MEM(st.comm.p, st.comm.len, "ps fix) (x");
	CHECK_INT(st.state, 'S');
	CHECK_INT(st.ppid, 3720);
	CHECK_INT(st.pgrp, 3710);
	CHECK_INT(st.session, 2129);
	CHECK_INT(st.tty_nr, 0);
	CHECK_INT(st.tpgid, -1);
	CHECK_U64(st.flags, 4194304);
	CHECK_U64(st.minflt, 199);
	CHECK_INT(st.priority, 20);
	CHECK_INT(st.nice, 0);
	CHECK_INT(st.num_threads, 3);
	CHECK_U64(st.starttime, 44739);
	CHECK_U64(st.vsize, 19345408);
	CHECK_INT(st.rss, 431);
	CHECK_U64(st.rsslim, UINT64_MAX);
	CHECK(PS_STAT_HAS(&st, 25));
	CHECK_U64(st.startcode, 94044544700416ULL);
	CHECK_U64(st.sigignore, 6);
	CHECK_INT(st.exit_signal, 17);
	CHECK_INT(st.processor, 0);
	CHECK_U64(st.rt_priority, 0);
	CHECK_U64(st.policy, 0);
	CHECK_U64(st.delayacct_blkio_ticks, 0);
	CHECK_U64(st.env_end, 140731956355056ULL);
	CHECK_INT(st.exit_code, 0);
	CHECK_INT(st.nfields, 52);
	free(b);
}

static void stat_thread_and_kworker(void)
{
	size_t len;
	char *b = t_load_sample("stat.thread", &len);
	struct ps_stat st;
	CHECK_INT(ps_stat_parse(b, len, &st), 0);
	CHECK_INT(st.pid, 3725);
	CHECK_MEM(st.comm.p, st.comm.len, "ps-worker");
	CHECK_U64(st.starttime, 44740);
	CHECK_INT(st.exit_signal, -1);
	CHECK_INT(st.processor, 1);
	free(b);

	b = t_load_sample("stat.kworker", &len);
	CHECK_INT(ps_stat_parse(b, len, &st), 0);
	CHECK_INT(st.pid, 10);
	CHECK_MEM(st.comm.p, st.comm.len, "kworker/0:0H-kblockd");
	CHECK_INT(st.state, 'I');
	CHECK_INT(st.ppid, 2);
	CHECK_INT(st.nice, -20);
	CHECK_U64(st.starttime, 23);
	CHECK_U64(st.vsize, 0);
	CHECK_U64(st.flags, 69238880);
	CHECK_U64(st.sigignore, 2147483647);
	free(b);
}

static void stat_edge_comm(void)
{
	size_t len;
	char *b = t_load_sample("stat.edge_comm", &len); /* comm "a\n) (b c", no final newline */
	struct ps_stat st;
	CHECK_INT(ps_stat_parse(b, len, &st), 0);
	CHECK_INT(st.pid, 4242);
	CHECK_MEM(st.comm.p, st.comm.len, "a\n) (b c");
	CHECK_INT(st.state, 'R');
	CHECK_INT(st.tty_nr, 34816);
	CHECK_INT(st.cutime, -1);
	CHECK_INT(st.cstime, -2);
	CHECK_U64(st.starttime, 987654);
	CHECK_INT(st.processor, 1);
	CHECK_U64(st.delayacct_blkio_ticks, 7);
	CHECK_U64(st.env_end, 16);
	CHECK_INT(st.exit_code, 0);
	CHECK_INT(st.nfields, 52);
	free(b);
}

static void stat_malformed(void)
{
	size_t len;
	struct ps_stat st;
	char *b = t_load_sample("stat.overflow", &len);
	CHECK_INT(ps_stat_parse(b, len, &st), -1);
	CHECK_INT(st.pid, 7);
	CHECK_U64(st.minflt, PS_U64_UNKNOWN); /* 20 digits: overflow, not wrapped */
	CHECK(!PS_STAT_HAS(&st, 10));
	CHECK_U64(st.starttime, 123);	      /* later fields still parsed */
	CHECK_U64(st.rsslim, PS_U64_UNKNOWN); /* 2^64 */
	free(b);

	b = t_load_sample("stat.truncated", &len);
	CHECK_INT(ps_stat_parse(b, len, &st), -1);
	CHECK_INT(st.ppid, 1);
	CHECK_U64(st.utime, 0);
	CHECK_U64(st.stime, PS_U64_UNKNOWN);
	CHECK_U64(st.starttime, PS_U64_UNKNOWN);
	CHECK_INT(st.nfields, 14);
	free(b);

	CHECK_INT(ps_stat_parse("", 0, &st), -1);
	CHECK_INT(st.pid, PS_I64_UNKNOWN);
	CHECK_INT(ps_stat_parse("12 (no close paren S 1", 22, &st), -1);
	CHECK_INT(ps_stat_parse("12 x) S 1", 9, &st), -1);
	CHECK_INT(ps_stat_parse("-9223372036854775808 (x) S", 26, &st), -1);
	CHECK_INT(st.pid, PS_I64_UNKNOWN);
}

static void statm_fixture(void)
{
	size_t len;
	char *b = t_load_sample("statm.fixture", &len);
	struct ps_statm sm;
	CHECK_INT(ps_statm_parse(b, len, &sm), 0);
	CHECK_U64(sm.size, 4723);
	CHECK_U64(sm.resident, 433);
	CHECK_U64(sm.shared, 400);
	CHECK_U64(sm.text, 1);
	CHECK_U64(sm.lib, 0);
	CHECK_U64(sm.data, 4188);
	CHECK_U64(sm.dt, 0);
	CHECK_INT(ps_statm_parse(b, 9, &sm), -1);
	CHECK_U64(sm.size, 4723);
	CHECK_U64(sm.resident, 433);
	CHECK_U64(sm.shared, PS_U64_UNKNOWN);
	free(b);
}

static void status_fixture(void)
{
	size_t len;
	char *b = t_load_sample("status.fixture", &len);
	struct ps_status s;
	CHECK_INT(ps_status_parse(b, len, &s), 0);
	CHECK_MEM(s.name.p, s.name.len, "ps fix) (x");
	CHECK_U64(s.umask, 022);
	CHECK_INT(s.state, 'S');
	CHECK_INT(s.tgid, 3722);
	CHECK_INT(s.pid, 3722);
	CHECK_INT(s.ppid, 3720);
	CHECK_INT(s.tracer_pid, 0);
	CHECK_U64(s.uid[0], 0);
	CHECK_U64(s.gid[3], 0);
	CHECK_U64(s.fd_size, 256);
	CHECK_INT(s.groups.len, 0);
	CHECK_INT(s.nstgid_first, 3722);
	CHECK_INT(s.nstgid_last, 3722);
	CHECK_INT(s.nspgid_first, 3710);
	CHECK_INT(s.nssid_last, 2129);
	CHECK_INT(s.kthread, 0);
	CHECK_U64(s.vm_peak, 18892);
	CHECK_U64(s.vm_rss, 1732);
	CHECK_U64(s.vm_swap, 0);
	CHECK_INT(s.threads, 3);
	CHECK_U64(s.sigq_queued, 0);
	CHECK_U64(s.sigq_limit, 96365);
	CHECK_U64(s.sig_ign, 6);
	CHECK_U64(s.cap_eff, 0x1fffeffffffULL);
	CHECK_U64(s.cap_bnd, 0x1fffeffffffULL);
	CHECK_U64(s.cap_amb, 0);
	CHECK_INT(s.no_new_privs, 0);
	CHECK_INT(s.seccomp, 0);
	CHECK_INT(s.seccomp_filters, 0);
	CHECK_U64(s.voluntary_ctxt_switches, 1);
	CHECK_U64(s.nonvoluntary_ctxt_switches, 1);
	free(b);

	b = t_load_sample("status.thread", &len);
	CHECK_INT(ps_status_parse(b, len, &s), 0);
	CHECK_MEM(s.name.p, s.name.len, "ps-worker");
	CHECK_INT(s.tgid, 3722);
	CHECK_INT(s.pid, 3725);
	CHECK_INT(s.nspid_last, 3725);
	free(b);

	b = t_load_sample("status.kworker", &len);
	CHECK_INT(ps_status_parse(b, len, &s), 0);
	CHECK_MEM(s.name.p, s.name.len, "kworker/0:0H-kblockd");
	CHECK_INT(s.state, 'I');
	CHECK_INT(s.kthread, 1);
	CHECK_U64(s.vm_rss, PS_U64_UNKNOWN); /* kernel threads have no Vm* lines */
	CHECK_U64(s.fd_size, 64);
	free(b);
}

static void status_edge(void)
{
	size_t len;
	char *b = t_load_sample("status.edge", &len);
	struct ps_status s;
	CHECK_INT(ps_status_parse(b, len, &s), 0);
	CHECK_MEM(s.name.p, s.name.len, "ev\\nil) x "); /* raw, trailing blank kept */
	CHECK_U64(s.umask, 077);
	CHECK_INT(s.state, 'T');
	CHECK_INT(s.tracer_pid, 42);
	CHECK_U64(s.uid[0], 1000);
	CHECK_U64(s.uid[1], 1001);
	CHECK_U64(s.uid[2], 1002);
	CHECK_U64(s.uid[3], 1003);
	CHECK_U64(s.gid[1], 101);
	CHECK_MEM(s.groups.p, s.groups.len, "4 24 27");
	CHECK_INT(s.nstgid_first, 500);
	CHECK_INT(s.nstgid_last, 1);
	CHECK_INT(s.nspid_last, 2);
	CHECK_INT(s.nssid_last, 0);
	CHECK_U64(s.sigq_queued, 1);
	CHECK_U64(s.sigq_limit, 7);
	CHECK_U64(s.cap_eff, UINT64_MAX);
	CHECK_U64(s.cap_prm, PS_U64_UNKNOWN);
	CHECK_INT(s.seccomp, 2);
	CHECK_INT(s.seccomp_filters, 3);
	CHECK_INT(s.kthread, PS_I64_UNKNOWN);
	CHECK_U64(s.nonvoluntary_ctxt_switches, 6); /* last line, no newline */
	free(b);

	const char bad[] = "Name:\tx\nPid:\t12\nUid:\t1 2 3\nVmRSS:\t99999999999999999999 kB\n";
	CHECK_INT(ps_status_parse(bad, sizeof(bad) - 1, &s), -1);
	CHECK_INT(s.pid, 12);
	CHECK_U64(s.uid[0], PS_U64_UNKNOWN);
	CHECK_U64(s.vm_rss, PS_U64_UNKNOWN);
	CHECK_INT(ps_status_parse("Name:\tx\n", 8, &s), -1); /* no Pid */
	CHECK_INT(ps_status_parse("", 0, &s), -1);
}

static void io_fixture(void)
{
	size_t len;
	char *b = t_load_sample("io.fixture", &len);
	struct ps_io io;
	CHECK_INT(ps_io_parse(b, len, &io), 0);
	CHECK_U64(io.rchar, 10956);
	CHECK_U64(io.wchar, 8197);
	CHECK_U64(io.syscr, 18);
	CHECK_U64(io.syscw, 2);
	CHECK_U64(io.read_bytes, 0);
	CHECK_U64(io.write_bytes, 12288);
	CHECK_U64(io.cancelled_write_bytes, 0);
	CHECK_INT(ps_io_parse(b, 33, &io), -1);
	CHECK_U64(io.wchar, 8197);
	CHECK_U64(io.syscr, 1); /* "syscr: 1" - truncated number is all we know */
	CHECK_U64(io.write_bytes, PS_U64_UNKNOWN);
	free(b);
}

static void loadavg_uptime_tainted(void)
{
	size_t len;
	char *b = t_load_sample("loadavg", &len); /* "0.08 0.02 0.01 1/85 3790" */
	struct ps_loadavg la;
	CHECK_INT(ps_loadavg_parse(b, len, &la), 0);
	CHECK(la.load1 == 0.08);
	CHECK(la.load5 == 0.02);
	CHECK(la.load15 == 0.01);
	CHECK_INT(la.running, 1);
	CHECK_INT(la.total, 85);
	CHECK_INT(la.last_pid, 3790);
	free(b);
	CHECK_INT(ps_loadavg_parse("1.5 x", 5, &la), -1);
	CHECK(la.load1 == 1.5);
	CHECK(isnan(la.load5));
	CHECK_INT(la.last_pid, PS_I64_UNKNOWN);

	b = t_load_sample("uptime", &len); /* "448.48 865.94" */
	struct ps_uptime up;
	CHECK_INT(ps_uptime_parse(b, len, &up), 0);
	CHECK(up.uptime == 448.48);
	CHECK(up.idle == 865.94);
	free(b);
	CHECK_INT(ps_uptime_parse("12", 2, &up), -1);
	CHECK(up.uptime == 12.0);
	CHECK(isnan(up.idle));

	b = t_load_sample("tainted", &len);
	uint64_t t;
	CHECK_INT(ps_u64_file_parse(b, len, &t), 0);
	CHECK_U64(t, 0);
	free(b);
	CHECK_INT(ps_u64_file_parse("12288", 5, &t), 0);
	CHECK_U64(t, 12288);
	CHECK_INT(ps_u64_file_parse("18446744073709551616\n", 21, &t), -1);
	CHECK_U64(t, PS_U64_UNKNOWN);
	CHECK_INT(ps_u64_file_parse("", 0, &t), -1);
}

static const struct t_case cases[] = {T(stat_process),
				      T(stat_thread_and_kworker),
				      T(stat_edge_comm),
				      T(stat_malformed),
				      T(statm_fixture),
				      T(status_fixture),
				      T(status_edge),
				      T(io_fixture),
				      T(loadavg_uptime_tainted),
				      {0, 0}};
T_MAIN(cases)
