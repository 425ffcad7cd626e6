/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_http_frame: libFuzzer target for the front's framing check
 * (src/http_frame.c) behind a real libmicrohttpd, so MHD's own parsing is
 * in the loop.
 *
 * The input is the whole byte stream of one client connection: request
 * head(s) and bodies.  A daemon in external-select mode (no listening
 * socket, started once) gets one end of a socketpair per input through
 * MHD_add_connection(); the input is written to the other end, which is
 * then shut for writing, and the daemon is run until it closes the
 * connection.  The access handler does what the front's does: at the
 * first call for a request it runs http_frame_check_mhd() and answers a
 * refused head at once with Connection: close; a head MHD answered itself
 * gets nothing more; a good head's body is read and answered 200 at the
 * end.
 *
 * Promises checked (a broken one aborts, so libFuzzer keeps the input):
 * - the checker reads nothing outside the head: it is run a second time
 *   on a copy of the head in a buffer of exactly its size (ASan);
 * - both runs give the same verdict;
 * - one answer per request: our handler never queues a second response
 *   (MHD_queue_response() failing is a broken promise), never answers a
 *   request MHD already answered;
 * - a head the checker lets through, as the client sent it, is clean: a
 *   request line then field lines each ending in CR LF, an empty line
 *   ending in CR LF exactly where MHD says the head ends, no NUL, bare CR,
 *   bare LF or line starting with whitespace in between; except where a
 *   run of line-end bytes holds a NUL byte or a colon and a bare LF: what
 *   the check cannot see (see http_frame.c), kept out of this promise and
 *   documented;
 *
 * Deterministic: no clock is read by the check; MHD's timeouts do not
 * fire within one input.  FUZZ_HTTP_FRAME_VERBOSE=1 prints each verdict.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http_frame.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct fz_req {
	char	*target;
	int	 seen;		/* the first call is done */
	int	 answered;
};

static struct MHD_Daemon	*daemon_;
static const uint8_t		*input;		/* this run's bytes */
static size_t			 input_len;
static size_t			 requests;	/* first calls this run */
static int			 verbose;

static void
must(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_http_frame: broken promise: %s\n", what);
		abort();
	}
}

static void *
uri_cb(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct fz_req	*r;

	(void)cls;
	(void)c;
	r = calloc(1, sizeof(*r));
	if (r != NULL)
		r->target = strdup(uri != NULL ? uri : "");
	return r;
}

static void
completed_cb(void *cls, struct MHD_Connection *c, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct fz_req	*r = *req_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (r != NULL) {
		free(r->target);
		free(r);
	}
	*req_cls = NULL;
}

static enum MHD_Result
answer(struct MHD_Connection *c, unsigned status, int close)
{
	struct MHD_Response	*resp;
	enum MHD_Result		 ret;

	resp = MHD_create_response_from_buffer(2, (void *)"x\n",
	    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	if (close)
		MHD_add_response_header(resp, "Connection", "close");
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	must(ret == MHD_YES, "our one response was queued");
	return ret;
}

struct gather {
	struct http_frame_field	 f[256];
	size_t			 n;
	int			 full;
};

static enum MHD_Result
gather_cb(void *cls, enum MHD_ValueKind kind, const char *key,
    size_t key_size, const char *value, size_t value_size)
{
	struct gather	*g = cls;

	(void)kind;
	if (g->n == sizeof(g->f) / sizeof(g->f[0])) {
		g->full = 1;
		return MHD_NO;
	}
	g->f[g->n].name = key;
	g->f[g->n].name_len = key_size;
	g->f[g->n].value = value != NULL ? value : "";
	g->f[g->n].value_len = value != NULL ? value_size : 0;
	g->n++;
	return MHD_YES;
}

/* p moved into copy when it points into the head at base. */
static const char *
moved(const char *p, const char *base, size_t size, const char *copy)
{
	uintptr_t	 q = (uintptr_t)p, b = (uintptr_t)base;

	return p != NULL && q >= b && q - b <= size ? copy + (q - b) : p;
}

/* The check once more, on a copy of the head in a buffer of exactly its
 * size, the field pointers moved along (a name MHD moved out stays where
 * it is).  Returns -1 when there are too many fields to compare. */
static int
check_copy(struct MHD_Connection *c, const char *method, const char *version,
    const char *target, struct http_frame_verdict *v, size_t *head_size)
{
	const union MHD_ConnectionInfo *ci;
	struct gather		*g;
	struct http_frame_head	 h;
	char			*copy;
	size_t			 i, size;
	int			 r;

	ci = MHD_get_connection_info(c,
	    MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	must(ci != NULL, "MHD gives the head's size at the first call");
	size = ci->header_size;
	*head_size = size;
	g = calloc(1, sizeof(*g));
	copy = malloc(size > 0 ? size : 1);
	must(g != NULL && copy != NULL, "memory");
	memcpy(copy, method, size);
	MHD_get_connection_values_n(c, MHD_HEADER_KIND, gather_cb, g);
	for (i = 0; i < g->n; i++) {
		if (verbose)
			fprintf(stderr, "field %zu: name at %td (%zu) value at "
			    "%td (%zu)\n", i, g->f[i].name - method,
			    g->f[i].name_len, g->f[i].value - method,
			    g->f[i].value_len);
		g->f[i].name = moved(g->f[i].name, method, size, copy);
		g->f[i].value = moved(g->f[i].value, method, size, copy);
	}
	memset(&h, 0, sizeof(h));
	h.raw = copy;
	h.raw_len = size;
	h.version = moved(version, method, size, copy);
	h.target = target;
	h.fields = g->f;
	h.n_fields = g->n;
	r = g->full ? -1 : (int)http_frame_check(&h, v);
	free(copy);
	free(g);
	return r;
}

/*
 * A head let through, as the client sent it: from the request line (after
 * the empty lines MHD skips) for head_size bytes, it must be lines ending
 * in CR LF with nothing else odd.  Only for the first request of the
 * input, whose offset we know.
 */
static void
clean_as_sent(size_t head_size)
{
	const uint8_t	*p = input, *e = input + input_len, *h;
	size_t		 i, j;

	/* MHD skips lines that are empty or start with a NUL before the
	 * request line (connection.c, MHD_CONNECTION_INIT). */
	while (p < e && (*p == '\r' || *p == '\n' || *p == '\0')) {
		const uint8_t *lf = memchr(p, '\n', (size_t)(e - p));

		if (lf == NULL)
			return;
		if (*p == '\r' && p + 1 < lf)
			break;		/* a CR that starts a real line */
		p = lf + 1;
	}
	must((size_t)(e - p) >= head_size, "the head is inside the input");
	h = p;
	/* What the in-place check cannot see (http_frame.c): a run of
	 * line-end bytes holding a NUL byte or a colon and a bare LF. */
	for (i = 0; i < head_size; i = j + 1) {
		int	 odd = 0, lf = 0;

		for (j = i; j < head_size && strchr(":\r\n", h[j]) != NULL;
		    j++) {
			odd |= h[j] == '\0' || h[j] == ':';
			lf |= h[j] == '\n' && (j == 0 || h[j - 1] != '\r');
		}
		if (odd && lf)
			return;
	}
	must(head_size >= 4 && memcmp(h + head_size - 4, "\r\n\r\n", 4) == 0,
	    "a passed head ends with CR LF CR LF where MHD ends it");
	for (i = 0; i < head_size; i++) {
		must(h[i] != '\0', "a passed head has no NUL");
		if (h[i] == '\r')
			must(i + 1 < head_size && h[i + 1] == '\n',
			    "a passed head has no bare CR");
		if (h[i] == '\n') {
			must(i > 0 && h[i - 1] == '\r',
			    "a passed head has no bare LF");
			must(i + 1 >= head_size || (h[i + 1] != ' ' &&
			    h[i + 1] != '\t'), "a passed head has no obs-fold");
		}
	}
}

static enum MHD_Result
access_cb(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **req_cls)
{
	struct fz_req			*r = *req_cls;
	struct http_frame_verdict	 v, cv;
	enum http_frame_rule		 rule;
	int				 queued, copy_rule;
	size_t				 head_size = 0;

	(void)cls;
	(void)url;
	if (r == NULL)
		return MHD_NO;
	if (!r->seen) {
		r->seen = 1;
		requests++;
		rule = http_frame_check_mhd(c, method, version, r->target, &v,
		    &queued);
		must(!queued, "MHD calls us only for heads it did not answer");
		copy_rule = check_copy(c, method, version, r->target, &cv,
		    &head_size);
		must(copy_rule == -1 || copy_rule == (int)rule,
		    "the same verdict on a copy of the head");
		if (rule == HTTP_FRAME_OK && requests == 1)
			clean_as_sent(head_size);
		if (verbose)
			fprintf(stderr, "verdict %s field %s length %d/%llu "
			    "chunked %d\n", http_frame_name(rule),
			    v.field != NULL ? v.field : "-", v.has_length,
			    (unsigned long long)v.length, v.chunked);
		if (rule != HTTP_FRAME_OK) {
			r->answered = 1;
			return answer(c, http_frame_status(rule),
			    http_frame_closes(rule));
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	/* Complete only at the call without upload_data (as the front). */
	if (upload_data != NULL)
		return MHD_YES;
	if (r->answered)
		return MHD_YES;
	r->answered = 1;
	return answer(c, 200, 0);
}

static void
start(void)
{
	const char	*e = getenv("FUZZ_HTTP_FRAME_VERBOSE");

	verbose = e != NULL && e[0] == '1';
	daemon_ = MHD_start_daemon(MHD_USE_NO_LISTEN_SOCKET, 0, NULL, NULL,
	    access_cb, NULL,
	    MHD_OPTION_URI_LOG_CALLBACK, uri_cb, NULL,
	    MHD_OPTION_NOTIFY_COMPLETED, completed_cb, NULL,
	    MHD_OPTION_STRICT_FOR_CLIENT, 1,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
	    MHD_OPTION_CONNECTION_TIMEOUT, 0u,
	    MHD_OPTION_END);
	must(daemon_ != NULL, "the daemon starts");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const union MHD_DaemonInfo *info;
	struct sockaddr_in	 sin;
	int			 sv[2], i, closed = 0;
	size_t			 off = 0;
	ssize_t			 n;
	char			 out[65536];

	if (daemon_ == NULL)
		start();
	input = data;
	input_len = size;
	requests = 0;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return 0;
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (MHD_add_connection(daemon_, sv[0], (struct sockaddr *)&sin,
	    sizeof(sin)) != MHD_YES) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	for (i = 0; i < 10000 && !closed; i++) {
		while (off < size) {
			n = write(sv[1], data + off, size - off);
			if (n <= 0)
				break;
			off += (size_t)n;
		}
		if (off == size)
			shutdown(sv[1], SHUT_WR);
		MHD_run(daemon_);
		for (;;) {
			n = read(sv[1], out, sizeof(out));
			if (n == 0)
				closed = 1;
			if (n <= 0)
				break;
		}
	}
	close(sv[1]);
	MHD_run(daemon_);
	info = MHD_get_daemon_info(daemon_,
	    MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
	must(info != NULL && info->num_connections == 0,
	    "the connection is gone once its input has ended");
	return 0;
}
