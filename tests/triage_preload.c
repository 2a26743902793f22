/*
 * triage_preload.c - a harmless shared object that test_triage LD_PRELOADs
 * into a victim (from a copy under /tmp): it only has to be mapped.
 */
int triage_preload_marker(void);

int triage_preload_marker(void)
{
	return 42;
}
