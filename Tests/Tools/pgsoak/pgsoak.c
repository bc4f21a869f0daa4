/*
 * pgsoak: many concurrent PostgreSQL sessions through libpq's asynchronous API, each running a
 * checksummed query over and over for a fixed time. One thread, poll(2) over every socket.
 *
 *   pgsoak --conninfo STR [--sessions N] [--seconds S] [--rows R] [--ramp N] [--pause-ms MS]
 *
 * Each query is two statements sent as one simple query:
 *
 *   select g, md5((g * SEED)::text) || repeat(chr(97 + g % 26), g % 50) from generate_series(1, R) g;
 *   select md5(string_agg(<the same row text, as "g,payload">, E'\n' order by g)) from generate_series(1, R) g
 *
 * The client joins the received rows of the first result the same way, takes their MD5 and
 * compares it with the digest the server computed in the second; SEED differs for every query
 * of every session, so a row that arrived in the wrong session, out of order, or altered is a
 * mismatch. Sessions whose connection fails or breaks are counted and reconnected.
 *
 * Prints one key=value fact per line on stdout (sessions, connected, queries, errors,
 * mismatches, reconnects, rows, result_bytes, seconds, queries_per_s, result=ok|fail), a progress
 * line every 10 s and the first distinct error messages on stderr. Exit status 0 only when every
 * session connected and there were no errors and no mismatches.
 */
#include <errno.h>
#include <libpq-fe.h>
#include <openssl/evp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum state { IDLE, CONNECTING, WAITING, READY, BUSY, DONE };

struct session {
    PGconn *conn;
    enum state state;
    PostgresPollingStatusType polling;
    int want_write;   /* BUSY: the query is not yet flushed */
    uint64_t seed;
    uint64_t queries; /* completed queries of this session, for the seed */
    int result_index;
    int rows;
    int failed;       /* this query saw an error result */
    char server_digest[33];
    EVP_MD_CTX *md5;
    double wake_at;   /* WAITING: when to send the next query */
    int ever_connected;
};

static struct {
    const char *conninfo;
    int sessions;
    double seconds;
    int rows;
    int ramp;
    int pause_ms;
} options = {NULL, 1000, 60, 20, 50, 0};

static struct {
    uint64_t connected, connect_failures, queries, errors, mismatches, reconnects, rows, bytes;
    uint64_t in_progress_connects;
} totals;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The first few distinct error messages, so a failing run says why. */
static char *seen_errors[8];
static int seen_error_count;

static void report_error(const char *what, const char *message) {
    char line[512];
    snprintf(line, sizeof line, "%s: %s", what, message ? message : "(no message)");
    size_t length = strlen(line);
    while (length > 0 && (line[length - 1] == '\n' || line[length - 1] == ' ')) line[--length] = 0;
    for (char *p = line; *p; p++) if (*p == '\n' || *p == '\t') *p = ' ';
    for (int i = 0; i < seen_error_count; i++) if (strcmp(seen_errors[i], line) == 0) return;
    if (seen_error_count < 8) {
        seen_errors[seen_error_count++] = strdup(line);
        fprintf(stderr, "pgsoak: %s\n", line);
    }
}

static void start_connect(struct session *s) {
    s->conn = PQconnectStart(options.conninfo);
    if (s->conn == NULL || PQstatus(s->conn) == CONNECTION_BAD) {
        report_error("connect", s->conn ? PQerrorMessage(s->conn) : "out of memory");
        totals.connect_failures++;
        if (s->conn) PQfinish(s->conn);
        s->conn = NULL;
        s->state = IDLE;
        return;
    }
    s->state = CONNECTING;
    s->polling = PGRES_POLLING_WRITING;
    totals.in_progress_connects++;
}

/* Drops a broken connection; the session connects again when the ramp allows. */
static void drop(struct session *s, const char *what) {
    if (s->state == CONNECTING) totals.in_progress_connects--;
    report_error(what, PQerrorMessage(s->conn));
    PQfinish(s->conn);
    s->conn = NULL;
    s->state = IDLE;
    totals.reconnects++;
}

static void begin_query(struct session *s, uint64_t index) {
    char sql[1024];
    s->seed = index * 1000003ULL + s->queries + 1;
    snprintf(sql, sizeof sql,
             "select g, md5((g * %llu)::text) || repeat(chr(97 + (g %% 26)::int), (g %% 50)::int)"
             " from generate_series(1::bigint, %d) g;"
             " select md5(string_agg(g::text || ',' || md5((g * %llu)::text) || repeat(chr(97 + (g %% 26)::int), (g %% 50)::int),"
             " E'\\n' order by g)) from generate_series(1::bigint, %d) g",
             (unsigned long long)s->seed, options.rows, (unsigned long long)s->seed, options.rows);
    if (!PQsendQuery(s->conn, sql)) {
        drop(s, "send");
        return;
    }
    s->state = BUSY;
    s->result_index = 0;
    s->rows = 0;
    s->failed = 0;
    s->server_digest[0] = 0;
    EVP_DigestInit_ex(s->md5, EVP_md5(), NULL);
    int flushed = PQflush(s->conn);
    if (flushed < 0) { drop(s, "flush"); return; }
    s->want_write = flushed == 1;
}

static void finish_query(struct session *s) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(s->md5, digest, &length);
    char hex[33];
    for (unsigned int i = 0; i < length && i < 16; i++) snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    hex[32] = 0;
    totals.queries++;
    s->queries++;
    if (s->failed) {
        totals.errors++;
    } else if (s->rows != options.rows || strcmp(hex, s->server_digest) != 0) {
        totals.mismatches++;
        char message[160];
        snprintf(message, sizeof message, "rows %d of %d, client md5 %s, server md5 %s", s->rows, options.rows, hex, s->server_digest);
        report_error("mismatch", message);
    }
}

static void take_result(struct session *s, PGresult *result) {
    ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_TUPLES_OK) {
        s->failed = 1;
        report_error("query", PQresultErrorMessage(result));
        return;
    }
    if (s->result_index == 0) {
        int count = PQntuples(result);
        for (int row = 0; row < count; row++) {
            if (s->rows > 0) EVP_DigestUpdate(s->md5, "\n", 1);
            const char *g = PQgetvalue(result, row, 0);
            const char *payload = PQgetvalue(result, row, 1);
            size_t g_length = (size_t)PQgetlength(result, row, 0), payload_length = (size_t)PQgetlength(result, row, 1);
            EVP_DigestUpdate(s->md5, g, g_length);
            EVP_DigestUpdate(s->md5, ",", 1);
            EVP_DigestUpdate(s->md5, payload, payload_length);
            totals.bytes += g_length + payload_length;
            s->rows++;
        }
        totals.rows += (uint64_t)count;
    } else if (s->result_index == 1 && PQntuples(result) == 1 && PQnfields(result) == 1) {
        snprintf(s->server_digest, sizeof s->server_digest, "%s", PQgetvalue(result, 0, 0));
    }
    s->result_index++;
}

static void usage(void) {
    fprintf(stderr, "usage: pgsoak --conninfo STR [--sessions N] [--seconds S] [--rows R] [--ramp N] [--pause-ms MS]\n");
    exit(2);
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc) usage();
        if (strcmp(argv[i], "--conninfo") == 0) options.conninfo = argv[++i];
        else if (strcmp(argv[i], "--sessions") == 0) options.sessions = atoi(argv[++i]);
        else if (strcmp(argv[i], "--seconds") == 0) options.seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--rows") == 0) options.rows = atoi(argv[++i]);
        else if (strcmp(argv[i], "--ramp") == 0) options.ramp = atoi(argv[++i]);
        else if (strcmp(argv[i], "--pause-ms") == 0) options.pause_ms = atoi(argv[++i]);
        else usage();
    }
    if (options.conninfo == NULL || options.sessions < 1 || options.seconds <= 0 || options.rows < 1 || options.ramp < 1) usage();

    struct session *sessions = calloc((size_t)options.sessions, sizeof *sessions);
    struct pollfd *polls = calloc((size_t)options.sessions, sizeof *polls);
    int *owners = calloc((size_t)options.sessions, sizeof *owners);
    if (!sessions || !polls || !owners) { fprintf(stderr, "pgsoak: out of memory\n"); return 1; }
    for (int i = 0; i < options.sessions; i++) {
        sessions[i].md5 = EVP_MD_CTX_new();
        sessions[i].state = IDLE;
    }

    double start = now(), deadline = start + options.seconds, next_progress = start + 10, drain_until = deadline + 30;
    for (;;) {
        double t = now();
        int stopping = t >= deadline;
        /* Start (or restart) connections, at most --ramp at a time. */
        if (!stopping) {
            for (int i = 0; i < options.sessions && totals.in_progress_connects < (uint64_t)options.ramp; i++) {
                if (sessions[i].state == IDLE) start_connect(&sessions[i]);
            }
        }
        int count = 0, busy = 0;
        for (int i = 0; i < options.sessions; i++) {
            struct session *s = &sessions[i];
            if (s->state == WAITING && (stopping || t >= s->wake_at)) {
                if (stopping) { s->state = DONE; continue; }
                begin_query(s, (uint64_t)i);
            }
            if (s->state == READY) {
                if (stopping) { s->state = DONE; continue; }
                if (options.pause_ms > 0) { s->state = WAITING; s->wake_at = t + options.pause_ms / 1000.0; continue; }
                begin_query(s, (uint64_t)i);
            }
            short events = 0;
            if (s->state == CONNECTING) events = s->polling == PGRES_POLLING_READING ? POLLIN : POLLOUT;
            else if (s->state == BUSY) { events = POLLIN; if (s->want_write) events |= POLLOUT; busy++; }
            if (events) {
                polls[count].fd = PQsocket(s->conn);
                polls[count].events = events;
                polls[count].revents = 0;
                owners[count] = i;
                count++;
            }
        }
        if (stopping && (busy == 0 || t >= drain_until)) break;
        if (t >= next_progress) {
            fprintf(stderr, "pgsoak: progress seconds=%.0f in_flight=%d queries=%llu errors=%llu mismatches=%llu reconnects=%llu\n",
                    t - start, busy, (unsigned long long)totals.queries, (unsigned long long)totals.errors,
                    (unsigned long long)totals.mismatches, (unsigned long long)totals.reconnects);
            next_progress += 10;
        }
        int ready = poll(polls, (nfds_t)count, options.pause_ms > 0 ? (options.pause_ms < 100 ? options.pause_ms : 100) : 100);
        if (ready < 0) {
            if (errno == EINTR) continue;
            perror("pgsoak: poll");
            return 1;
        }
        for (int k = 0; k < count && ready > 0; k++) {
            if (polls[k].revents == 0) continue;
            struct session *s = &sessions[owners[k]];
            if (s->state == CONNECTING) {
                s->polling = PQconnectPoll(s->conn);
                if (s->polling == PGRES_POLLING_OK) {
                    totals.in_progress_connects--;
                    if (!s->ever_connected) { s->ever_connected = 1; totals.connected++; }
                    PQsetnonblocking(s->conn, 1);
                    s->state = READY;
                } else if (s->polling == PGRES_POLLING_FAILED) {
                    totals.connect_failures++;
                    drop(s, "connect");
                }
                continue;
            }
            /* BUSY */
            if (polls[k].revents & POLLOUT) {
                int flushed = PQflush(s->conn);
                if (flushed < 0) { totals.errors++; drop(s, "flush"); continue; }
                s->want_write = flushed == 1;
            }
            if (polls[k].revents & (POLLIN | POLLHUP | POLLERR)) {
                if (!PQconsumeInput(s->conn)) { totals.errors++; drop(s, "read"); continue; }
                while (!PQisBusy(s->conn)) {
                    PGresult *result = PQgetResult(s->conn);
                    if (result == NULL) { finish_query(s); s->state = READY; break; }
                    take_result(s, result);
                    PQclear(result);
                }
                if (s->state == BUSY && PQstatus(s->conn) == CONNECTION_BAD) { totals.errors++; drop(s, "connection"); }
            }
        }
    }
    double elapsed = now() - start;
    int unfinished = 0;
    for (int i = 0; i < options.sessions; i++) {
        if (sessions[i].state == BUSY) unfinished++;
        if (sessions[i].conn) PQfinish(sessions[i].conn);
        EVP_MD_CTX_free(sessions[i].md5);
    }
    int ok = totals.connected == (uint64_t)options.sessions && totals.errors == 0 && totals.mismatches == 0
        && totals.connect_failures == 0 && unfinished == 0 && totals.queries > 0;
    printf("sessions=%d\nconnected=%llu\nconnect_failures=%llu\nqueries=%llu\nerrors=%llu\nmismatches=%llu\n"
           "reconnects=%llu\nunfinished=%d\nrows=%llu\nresult_bytes=%llu\nseconds=%.1f\nqueries_per_s=%.0f\nresult=%s\n",
           options.sessions, (unsigned long long)totals.connected, (unsigned long long)totals.connect_failures,
           (unsigned long long)totals.queries, (unsigned long long)totals.errors, (unsigned long long)totals.mismatches,
           (unsigned long long)totals.reconnects, unfinished, (unsigned long long)totals.rows,
           (unsigned long long)totals.bytes, elapsed, totals.queries / elapsed, ok ? "ok" : "fail");
    return ok ? 0 : 1;
}
