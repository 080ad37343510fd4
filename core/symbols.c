/*
 * symbols.c -- function names and source lines for a report's frames.
 *
 * The report (report.c) asks for a frame's function name first and for its
 * file:line only for the frames it prints, because finding a line can mean
 * reading a large library's debug information.
 */
#define _GNU_SOURCE
#include "common.h"

#include <dlfcn.h>
#include <elfutils/libdwfl.h>
#include <unistd.h>

/*
 * libdw is loaded only when a report is made: linking it into every program
 * would make each of them map libdw, libelf and the compression libraries
 * at start-up, which doubled the time a clean run of a small case takes.
 * Without libdw the report still comes out, with addresses for frames.
 */
static struct {
	Dwfl *(*begin)(const Dwfl_Callbacks *);
	int (*report_begin)(Dwfl *);
	int (*proc_report)(Dwfl *, pid_t);
	int (*report_end)(Dwfl *, int (*)(Dwfl_Module *, void *, const char *, Dwarf_Addr, void *),
	                  void *);
	void (*end)(Dwfl *);
	Dwfl_Module *(*addrmodule)(Dwfl *, Dwarf_Addr);
	const char *(*addrinfo)(Dwfl_Module *, GElf_Addr, GElf_Off *, GElf_Sym *, GElf_Word *,
	                        Elf **, Dwarf_Addr *);
	Dwfl_Line *(*getsrc)(Dwfl_Module *, Dwarf_Addr);
	const char *(*lineinfo)(Dwfl_Line *, Dwarf_Addr *, int *, int *, Dwarf_Word *,
	                        Dwarf_Word *);
} dw;
static Dwfl_Callbacks dw_callbacks;
static Dwfl *dwfl;

static bool load_libdw(void)
{
	void *lib = dlopen("libdw.so.1", RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL)
		return false;
#define DW_SYM(field, name) *(void **)&dw.field = dlsym(lib, name)
	DW_SYM(begin, "dwfl_begin");
	DW_SYM(report_begin, "dwfl_report_begin");
	DW_SYM(proc_report, "dwfl_linux_proc_report");
	DW_SYM(report_end, "dwfl_report_end");
	DW_SYM(end, "dwfl_end");
	DW_SYM(addrmodule, "dwfl_addrmodule");
	DW_SYM(addrinfo, "dwfl_module_addrinfo");
	DW_SYM(getsrc, "dwfl_module_getsrc");
	DW_SYM(lineinfo, "dwfl_lineinfo");
	*(void **)&dw_callbacks.find_elf = dlsym(lib, "dwfl_linux_proc_find_elf");
	*(void **)&dw_callbacks.find_debuginfo = dlsym(lib, "dwfl_standard_find_debuginfo");
#undef DW_SYM
	return dw.begin && dw.report_begin && dw.proc_report && dw.report_end && dw.end &&
	       dw.addrmodule && dw.addrinfo && dw.getsrc && dw.lineinfo && dw_callbacks.find_elf &&
	       dw_callbacks.find_debuginfo;
}

void gm_symbols_open(void)
{
	if (!load_libdw())
		return;
	dwfl = dw.begin(&dw_callbacks);
	if (dwfl == NULL)
		return;
	dw.report_begin(dwfl);
	if (dw.proc_report(dwfl, getpid()) != 0) {
		dw.end(dwfl);
		dwfl = NULL;
		return;
	}
	dw.report_end(dwfl, NULL, NULL);
}

/* `pc` is a return address; the call is the byte before it. The function
 * name comes from the symbol table; the source line, which can mean reading
 * a large library's debug information, only when `want_line`. */
void gm_symbolise_name(uintptr_t pc, gm_frame *f)
{
	memset(f, 0, sizeof *f);
	f->pc = pc;
	if (dwfl == NULL || pc == 0)
		return;
	Dwfl_Module *mod = dw.addrmodule(dwfl, pc - 1);
	if (mod == NULL)
		return;
	GElf_Off off = 0;
	GElf_Sym sym;
	f->func = dw.addrinfo(mod, pc - 1, &off, &sym, NULL, NULL, NULL);
	f->off = (uintptr_t)off + 1;
}

void gm_symbolise_line(gm_frame *f)
{
	if (dwfl == NULL || f->pc == 0)
		return;
	Dwfl_Module *mod = dw.addrmodule(dwfl, f->pc - 1);
	Dwfl_Line *line = mod ? dw.getsrc(mod, f->pc - 1) : NULL;
	if (line != NULL)
		f->file = dw.lineinfo(line, NULL, &f->line, NULL, NULL, NULL);
}

void gm_symbolise(uintptr_t pc, gm_frame *f)
{
	gm_symbolise_name(pc, f);
	gm_symbolise_line(f);
}
