/*
 * Ledger import benchmark: writes a Chinese application ledger of N lines (default 1,000,000)
 * twice, as Excel writes it on Chinese Windows (GB18030, CRLF) and as "CSV UTF-8" (a BOM),
 * with Chinese headers, the template's words and clerks' date forms, starts a real xxgkd on
 * loopback TCP in a temporary directory, and imports each with xxgk-push, end to end (both
 * passes: every line checked, then sent in batches and committed). Prints lines/s and
 * xxgk-push's peak RSS (getrusage of the child). The targets: >= 50,000 lines/s, RSS < 64 MB.
 *
 *   bench_ledger [lines [batch]]   (default 1000000 5000: xxgk-push's --batch as it is by
 *   default; the daemon takes up to its batch_records_max, 10000)
 */
#include <iconv.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "words.h"
#include "xxgk.h"

#define UNITS 41

static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(fd, (struct sockaddr *)&a, &len)) {
		perror("bench: free port");
		exit(1);
	}
	close(fd);
	return ntohs(a.sin_port);
}

static pid_t start_daemon(const char *dir, char *ingest, size_t size)
{
	char conf[1024], log[1024], admin[1024];
	snprintf(conf, sizeof(conf), "%s/xxgkd.conf", dir);
	snprintf(log, sizeof(log), "%s/xxgkd.log", dir);
	snprintf(ingest, size, "tcp://127.0.0.1:%d", free_port());
	snprintf(admin, sizeof(admin), "ipc://%s/admin.sock", dir);
	FILE *f = fopen(conf, "w");
	fprintf(f,
		"[xxgkd]\nstate_dir = %s/state\ningest = %s\nadmin = %s\npublish = "
		"tcp://127.0.0.1:%d\nlog_level = warn\n",
		dir, ingest, admin, free_port());
	for (int u = 0; u < UNITS; u++)
		fprintf(f, "[unit unit-%02d]\nname = 单位%d\nkind = %s\n", u, u,
			u == 0	? "government"
			: u % 3 ? "department"
				: "township");
	fclose(f);
	pid_t pid = fork();
	if (pid == 0) {
		if (freopen(log, "w", stderr) == NULL)
			_exit(127);
		execl(XXGKD_PATH, "xxgkd", "-f", "-c", conf, (char *)NULL);
		_exit(127);
	}
	struct xxgk_client *c;
	xxgk_connect(&c, admin);
	for (int i = 0; i < 100; i++) {
		Xxgk__V1__StatusQuery q = XXGK__V1__STATUS_QUERY__INIT;
		Xxgk__V1__Request req = XXGK__V1__REQUEST__INIT;
		Xxgk__V1__Reply *reply;
		req.body_case = XXGK__V1__REQUEST__BODY_STATUS;
		req.status = &q;
		if (xxgk_call(c, &req, 100, &reply) == 0) {
			xxgk__v1__reply__free_unpacked(reply, NULL);
			xxgk_close(c);
			return pid;
		}
	}
	fprintf(stderr, "bench: xxgkd did not start; see %s\n", log);
	exit(1);
}

/* Writes text to f, in GB18030 when cd is not (iconv_t)-1. */
static void emit(FILE *f, iconv_t cd, char *text, size_t len)
{
	if (cd == (iconv_t)-1) {
		fwrite(text, 1, len, f);
		return;
	}
	char out[1 << 16];
	while (len > 0) {
		char *o = out;
		size_t left = sizeof(out);
		if (iconv(cd, &text, &len, &o, &left) == (size_t)-1 && o == out) {
			perror("bench: iconv");
			exit(1);
		}
		fwrite(out, 1, sizeof(out) - left, f);
	}
}

/* A ledger of n lines: the applications of 41 units over 2020-2024, every 4th still open. */
static void write_ledger(const char *path, long n, int gb18030, const char *prefix)
{
	FILE *f = fopen(path, "wb");
	iconv_t cd = gb18030 ? iconv_open("GB18030", "UTF-8") : (iconv_t)-1;
	char buf[1 << 16];
	size_t used = 0;
	if (f == NULL || (gb18030 && cd == (iconv_t)-1)) {
		perror(path);
		exit(1);
	}
	if (!gb18030)
		fputs("\xEF\xBB\xBF", f);
	used = (size_t)snprintf(buf, sizeof(buf),
				"单位,编号,版本,删除,申请人类型,收到日期,办结日期,办理结果\r\n");
	for (long i = 0; i < n; i++) {
		int year = 2020 + (int)(i % 5), month = 1 + (int)(i / 5 % 11),
		    day = 1 + (int)(i % 27);
		int applicant = 1 + (int)(i % 6), outcome = 1 + (int)(i / 7 % 21);
		char received[40], concluded[40];
		switch (i % 3) {
		case 0:
			snprintf(received, sizeof(received), "%d-%02d-%02d", year, month, day);
			break;
		case 1:
			snprintf(received, sizeof(received), "%d/%d/%d", year, month, day);
			break;
		default:
			snprintf(received, sizeof(received), "%d年%d月%d日", year, month, day);
		}
		if (i % 4 == 3)
			concluded[0] = '\0';
		else
			snprintf(concluded, sizeof(concluded), "%d/%d/%d", year, month + 1, day);
		used += (size_t)snprintf(
		    buf + used, sizeof(buf) - used, "unit-%02d,%s〔%d〕%ld号,1,否,%s,%s,%s,%s\r\n",
		    (int)(i % UNITS), prefix, year, i, words_value(WORDS_APPLICANT, applicant),
		    received, concluded, i % 4 == 3 ? "" : words_value(WORDS_OUTCOME, outcome));
		if (used > sizeof(buf) - 512) {
			emit(f, cd, buf, used);
			used = 0;
		}
	}
	emit(f, cd, buf, used);
	if (cd != (iconv_t)-1)
		iconv_close(cd);
	if (fclose(f)) {
		perror(path);
		exit(1);
	}
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Runs xxgk-push on one ledger; prints its figures. */
static void import(const char *dir, const char *ingest, const char *ledger, const char *what,
		   long lines, const char *batch)
{
	char out[1024], summary[512] = "";
	struct stat st;
	stat(ledger, &st);
	snprintf(out, sizeof(out), "%s/push.out", dir);
	fflush(stdout); /* not twice, by the child too */
	double t0 = now();
	pid_t pid = fork();
	if (pid == 0) {
		if (freopen(out, "w", stdout) == NULL)
			_exit(127);
		execl(XXGK_PUSH_PATH, "xxgk-push", "--ingest", ingest, "--batch", batch,
		      "--timeout", "60000", ledger, (char *)NULL);
		_exit(127);
	}
	int status;
	struct rusage ru;
	if (wait4(pid, &status, 0, &ru) != pid) {
		perror("bench: wait4");
		exit(1);
	}
	double seconds = now() - t0;
	FILE *f = fopen(out, "r");
	if (f && fgets(summary, sizeof(summary), f))
		summary[strcspn(summary, "\n")] = '\0';
	if (f)
		fclose(f);
	printf("%s: %ld lines, %.1f MB, exit %d\n  %s\n", what, lines, (double)st.st_size / 1e6,
	       WIFEXITED(status) ? WEXITSTATUS(status) : -1, summary);
	printf("  %.1f s end to end: %.0f lines/s (target >= 50000); xxgk-push peak RSS %.1f MB "
	       "(target < 64 MB), CPU %.1f s\n",
	       seconds, (double)lines / seconds, (double)ru.ru_maxrss / 1024.0,
	       (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		   (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	long lines = argc > 1 ? atol(argv[1]) : 1000000;
	const char *batch = argc > 2 ? argv[2] : "5000"; /* xxgk-push's default */
	char dir[] = "/tmp/bench-ledger-XXXXXX", ingest[256], gb[600], utf8[600];
	if (lines < 1 || mkdtemp(dir) == NULL) {
		fprintf(stderr, "usage: bench_ledger [lines [batch]]\n");
		return 2;
	}
	snprintf(gb, sizeof(gb), "%s/申请台账-gb18030.csv", dir);
	snprintf(utf8, sizeof(utf8), "%s/申请台账-utf8.csv", dir);
	double t0 = now();
	write_ledger(gb, lines, 1, "瑞申");
	write_ledger(utf8, lines, 0, "瑞政申");
	printf("bench_ledger: two ledgers of %ld lines written in %.1f s (in %s)\n", lines,
	       now() - t0, dir);
	pid_t daemon = start_daemon(dir, ingest, sizeof(ingest));
	import(dir, ingest, gb, "GB18030, CRLF (Excel's CSV on Chinese Windows)", lines, batch);
	import(dir, ingest, utf8, "UTF-8 with a BOM (Excel's CSV UTF-8)", lines, batch);
	kill(daemon, SIGTERM);
	waitpid(daemon, NULL, 0);
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench: could not remove %s\n", dir);
	return 0;
}
