/*
 * standin.c: a stand-in for wusa.exe, pkgmgr.exe, shutdown.exe, certutil.exe
 * and powershell.exe in the Wine tests of install.cmd (kit/wine_test.go).
 * Go programs do not start under Wine 8, so the tests build this with
 * mingw-w64 and copy it over the tool in the prefix's system32.
 *
 * It appends "NAME COMMAND-LINE" to C:\standin\calls.txt, then looks in
 * C:\standin\NAME.txt for the first line whose KEY occurs in its command
 * line:
 *
 *   KEY CODE[,CODE...] [OUTPUT]
 *
 * The n-th matching call exits with the n-th CODE (the last one repeats)
 * and prints OUTPUT, with "\n" as a line break. No match: exit 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <windows.h>

static void lower(char *s) { for (; *s; s++) *s = (char)tolower((unsigned char)*s); }

int main(void) {
	char self[MAX_PATH], name[MAX_PATH], path[MAX_PATH + 64], line[4096];
	const char *cmd = GetCommandLineA();
	char *base, *dot;
	FILE *f;
	int lineno = 0;

	GetModuleFileNameA(NULL, self, sizeof self);
	base = strrchr(self, '\\');
	strcpy(name, base ? base + 1 : self);
	dot = strrchr(name, '.');
	if (dot) *dot = 0;
	lower(name);

	f = fopen("C:\\standin\\calls.txt", "a");
	if (f) { fprintf(f, "%s %s\n", name, cmd); fclose(f); }

	snprintf(path, sizeof path, "C:\\standin\\%s.txt", name);
	f = fopen(path, "r");
	if (!f) return 0;
	while (fgets(line, sizeof line, f)) {
		char *key, *codes, *out, *p;
		int n = 0, k, code = 0;
		char counter[MAX_PATH + 64];
		FILE *c;
		lineno++;
		line[strcspn(line, "\r\n")] = 0;
		key = strtok(line, " ");
		codes = strtok(NULL, " ");
		out = strtok(NULL, "");
		if (!key || !codes || !strstr(cmd, key)) continue;
		fclose(f);
		/* How many times this line matched before. */
		snprintf(counter, sizeof counter, "C:\\standin\\%s.%d.count", name, lineno);
		c = fopen(counter, "r");
		if (c) { if (fscanf(c, "%d", &n) != 1) n = 0; fclose(c); }
		c = fopen(counter, "w");
		if (c) { fprintf(c, "%d\n", n + 1); fclose(c); }
		for (k = 0, p = strtok(codes, ","); p; p = strtok(NULL, ","), k++) {
			code = (int)strtol(p, NULL, 0);
			if (k == n) break;
		}
		if (out) {
			for (p = out; *p; p++) {
				if (p[0] == '\\' && p[1] == 'n') { fputs("\r\n", stdout); p++; }
				else fputc(*p, stdout);
			}
			fputs("\r\n", stdout);
		}
		return code;
	}
	fclose(f);
	return 0;
}
